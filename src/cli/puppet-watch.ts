/**
 * What `mgmt puppet` watches to recompile: the manifest, a catalog file, the user's module directories, and what
 * the compile itself read (the worker's `watch` reply: the environment's directory with its environment.conf,
 * hiera.yaml, data and modules, the environment's modulepath, the global hiera.yaml and its data directories).
 * Directories are watched recursively; a path inside another watched directory, and Debian's packaged modules
 * (changed by the package manager, not by a user), are left out.
 */
import { statSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import { DEBIAN_MODULES } from '../puppet/runtime/puppet-settings.js';
import type { GraphSource } from './run.js';

export interface WatchInputs {
  readonly manifest?: string | undefined;
  readonly catalogFile?: string | undefined;
  readonly modulepath: readonly string[];
  /** The paths the compile reported (absolute; missing ones are skipped). */
  readonly compiled: readonly string[];
}

export function puppetWatchList(inputs: WatchInputs): GraphSource['watch'] {
  const candidates: { path: string; recursive: boolean }[] = [];
  if (inputs.manifest) candidates.push({ path: inputs.manifest, recursive: true });
  if (inputs.catalogFile) candidates.push({ path: inputs.catalogFile, recursive: false });
  for (const p of [...inputs.modulepath, ...inputs.compiled]) {
    const path = resolve(p);
    if (path === DEBIAN_MODULES || path.startsWith(DEBIAN_MODULES + sep)) continue;
    let dir: boolean;
    try {
      dir = statSync(path).isDirectory();
    } catch {
      continue;
    }
    candidates.push({ path, recursive: dir });
  }
  const out: { path: string; recursive: boolean }[] = [];
  for (const c of candidates) {
    if (out.some((o) => o.path === c.path)) continue; // the first entry for a path wins
    if (candidates.some((o) => o.recursive && c.path.startsWith(o.path + sep))) continue; // inside a watched directory
    out.push(c);
  }
  return out;
}
