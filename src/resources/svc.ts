/**
 * The svc resource: a systemd unit (a service unless the name says otherwise) kept running or stopped, and
 * enabled or disabled, through systemd's manager over D-Bus (src/system/dbus/systemd.ts): the system manager, or with
 * `session` the user's manager. Semantics follow mgmt's svc (graph-format-and-engine.md, "svc"), with the job
 * results waited for, a daemon-reload when the unit file changed on disk, and a refresh that reloads or restarts.
 */
import { posix } from 'node:path';
import type { ParamsOf } from './params.js';
import { defineKind, type Problem } from './resource.js';
import { deferredResource } from './deferred-resource.js';
import { unitFileDir, unitName, unitNameProblem } from '../system/dbus/unit-names.js';

const params = {
  state: {
    type: 'string',
    enum: ['running', 'stopped', ''],
    emptyIsUnset: true,
    doc: '`running` starts the unit when it is not active, `stopped` stops it when it is; unset leaves it alone.',
  },
  startup: {
    type: 'string',
    enum: ['enabled', 'disabled', ''],
    emptyIsUnset: true,
    doc: '`enabled` enables the unit file (its `[Install]` links, as `systemctl enable`), `disabled` removes them; unset leaves them alone.',
  },
  session: {
    type: 'boolean',
    default: false,
    doc: "Manage the unit in the user's manager (`systemd --user`, reached over the session bus) instead of the system manager.",
  },
} as const;

export type SvcParams = ParamsOf<typeof params>;

/** The unit files an administrator (or mgmt) writes for this unit, first the one that takes precedence. */
export function unitFilePaths(unit: string, session: boolean): string[] {
  const dirs = session ? [unitFileDir(true)] : ['/etc/systemd/system', '/lib/systemd/system', '/usr/lib/systemd/system'];
  const names = [unit];
  const at = unit.indexOf('@');
  if (at > 0 && unit.charAt(at + 1) !== '.') names.push(`${unit.slice(0, at + 1)}${unit.slice(unit.lastIndexOf('.'))}`); // foo@bar.service → foo@.service
  return dirs.flatMap((d) => names.map((n) => posix.join(d, n)));
}

export const svcKind = defineKind({
  kind: 'svc',
  doc: "A systemd unit kept running or stopped (`state`) and enabled or disabled (`startup`), through systemd's manager over D-Bus: the system manager, or the user's manager with `session: true`. The unit is `<name>.service` unless the name already ends with a unit suffix (`.socket`, `.timer`, ...). A unit with no unit file is an error when it must run or be enabled (and already stopped and disabled otherwise). Enabling/disabling comes first, then the start/stop job, whose result is waited for (a failed job is an error naming the unit's state). A unit file changed on disk is reloaded (daemon-reload) before a start or restart. It is refreshable: a refresh with no start/stop done runs reload-or-try-restart. The unit file (`/etc/systemd/system/<unit>`, or `~/.config/systemd/user/<unit>` with `session`) is an automatic dependency: a `file` resource managing it comes first, and a change to it refreshes the unit. Watches the unit's state and the manager's unit-file and reload signals, so a unit stopped or disabled by hand is put back.",
  params,
  refreshable: true,
  reach: { touches: ['services'], collect: 'explicit' },
  validate: (name) => {
    const out: Problem[] = [];
    const problem = unitNameProblem(unitName(name));
    if (problem) out.push({ message: problem });
    return out;
  },
  autoEdges: (name, p) => ({ refreshAfterPath: unitFilePaths(unitName(name), p.session) }),
  create: (name, p, ctx) =>
    deferredResource(
      () => import('./svc-resource.js'),
      (m) => m.svcResource(name, p, ctx),
    ),
});
