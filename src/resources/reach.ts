/**
 * What a resource kind may touch on a host, and whether another host may hand it over through the world
 * without this host's graph asking for it on purpose. Each kind declares its own; the reference docs show it
 * and the collect rules (src/world/collect.ts) act on it.
 */

/**
 * - `nothing`: it only logs or sends events.
 * - `files`: the file (or directory tree) its parameters name, and nothing else.
 * - `commands`: it runs commands (directly or through cron).
 * - `packages`: it installs or removes packages (whose maintainer scripts run as root).
 * - `services`: it starts, stops, enables or disables services.
 * - `accounts`: it manages local accounts and groups, or who may log in as an account.
 * - `mounts`: it mounts and unmounts file systems.
 * - `system`: anything at all (Puppet applies it).
 */
export type Touch = 'nothing' | 'files' | 'commands' | 'packages' | 'services' | 'accounts' | 'mounts' | 'system';

export interface Reach {
  /** Everything a resource of this kind may change, from the list above. */
  readonly touches: readonly Touch[];
  /**
   * `explicit`: collecting it lets other hosts change this host beyond files, so it is collected only through
   * a `collect` entry that names its kind, and that entry is warned about. `plain`: a `collect` entry of its
   * kind collects it without a warning.
   */
  readonly collect: 'plain' | 'explicit';
}

/** What each touch lets a resource do, as a phrase ("it may ..."), for the docs and the collect warnings. */
export const TOUCH_PHRASES: Readonly<Record<Touch, string>> = {
  nothing: 'change nothing (it only logs or sends events)',
  files: 'write the files its parameters name',
  commands: 'run commands',
  packages: 'install or remove packages',
  services: 'start, stop, enable or disable services',
  accounts: 'manage accounts and who may log in as them',
  mounts: 'mount and unmount file systems',
  system: 'change anything Puppet can change',
};

/** `run commands, install or remove packages` */
export function describeTouches(reach: Reach): string {
  return reach.touches.map((t) => TOUCH_PHRASES[t]).join('; ');
}
