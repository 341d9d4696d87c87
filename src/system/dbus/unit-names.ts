/**
 * systemd's unit names and where unit files go: what the `svc` kind checks and orders by without talking to
 * systemd (the D-Bus client, systemd.ts, is loaded only when a service runs).
 */
import { homedir } from 'node:os';
import { join } from 'node:path';

/** The unit suffixes systemd knows; a name without one of them is a `.service`. */
export const UNIT_SUFFIXES = ['service', 'socket', 'device', 'mount', 'automount', 'swap', 'target', 'path', 'timer', 'slice', 'scope'] as const;

/** `NAME.service` unless the name already ends with a unit suffix. */
export function unitName(name: string): string {
  const dot = name.lastIndexOf('.');
  const suffix = dot > 0 ? name.slice(dot + 1) : '';
  return (UNIT_SUFFIXES as readonly string[]).includes(suffix) ? name : `${name}.service`;
}

/** Why a unit name is not one systemd accepts (undefined: it is fine). */
export function unitNameProblem(unit: string): string | undefined {
  if (unit.length > 255) return `unit name '${unit.slice(0, 40)}...' is longer than 255 characters`;
  const dot = unit.lastIndexOf('.');
  const prefix = unit.slice(0, dot);
  if (prefix === '' || prefix === '@') return `unit name '${unit}' has nothing before its suffix`;
  const bad = /[^A-Za-z0-9:_.\\@-]/.exec(prefix);
  if (bad) return `unit name '${unit}' contains '${bad[0]}'; systemd allows letters, digits and ':_.\\@-' (escape other characters with systemd-escape)`;
  if ((prefix.match(/@/g) ?? []).length > 1) return `unit name '${unit}' has more than one '@'`;
  return undefined;
}

/** The directory where an administrator's unit files go, for messages and autoedges. */
export function unitFileDir(session: boolean): string {
  if (!session) return '/etc/systemd/system';
  const config = process.env.XDG_CONFIG_HOME || join(process.env.HOME || homedir(), '.config');
  return join(config, 'systemd', 'user');
}

/** How to name the manager in messages. */
export function managerName(session: boolean): string {
  return session ? "the user's systemd manager (session)" : 'the systemd system manager';
}
