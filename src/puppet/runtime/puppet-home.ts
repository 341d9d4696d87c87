/**
 * The hermetic Puppet home the face runner and the worker both run Puppet in: a directory of ours holds Puppet's
 * confdir, vardir and codedir (nothing of the host's Puppet setup is read or written), and `modules/mgmtgraph`,
 * a symlink to our module (puppet-module/). The modulepath is that directory first, then the user's module
 * directories, then Debian's (`/usr/share/puppet/modules`: stdlib, cron, mount, host...).
 */
import { existsSync } from 'node:fs';
import { mkdir, readlink, rm, symlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Debian's Puppet modules (package puppet-module-*), always on the modulepath, last. */
export const DEBIAN_MODULES = '/usr/share/puppet/modules';

/** The prefix of the temporary Puppet homes (`mkdtemp(join(tmpdir(), PUPPET_HOME_PREFIX))`). */
export const PUPPET_HOME_PREFIX = 'mgmt-puppet-';

/** puppet-module/ of this checkout: the first directory above this code that holds it (from src/ or dist/src/). */
export function findModuleDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'puppet-module');
    if (existsSync(join(candidate, 'lib', 'puppet', 'face', 'mgmtgraph.rb'))) return candidate;
    dir = dirname(dir);
  }
  throw new Error('the mgmtgraph Puppet module (puppet-module/) was not found next to mgmt-ts; set moduleDir');
}

/** Makes `<home>/modules/mgmtgraph` point at `moduleDir` (replacing a link elsewhere); returns `<home>/modules`. */
export async function linkOurModule(home: string, moduleDir: string): Promise<string> {
  const ours = join(home, 'modules');
  await mkdir(ours, { recursive: true, mode: 0o700 });
  const link = join(ours, 'mgmtgraph');
  const current = await readlink(link).catch(() => undefined);
  if (current !== moduleDir) {
    await rm(link, { force: true, recursive: false }).catch(() => undefined);
    await symlink(moduleDir, link);
  }
  return ours;
}

/** `--modulepath` (ours, the user's, Debian's unless listed) and the hermetic `--confdir`/`--vardir`/`--codedir`. */
export function homeArgs(home: string, userModulepath: readonly string[] = []): string[] {
  const user = userModulepath.filter((p) => p !== '');
  const modulepath = [join(home, 'modules'), ...user, ...(user.includes(DEBIAN_MODULES) ? [] : [DEBIAN_MODULES])];
  return ['--modulepath', modulepath.join(':'), '--confdir', join(home, 'conf'), '--vardir', join(home, 'var'), '--codedir', join(home, 'code')];
}

/** A line of Puppet's output without ANSI colour escapes. */
export function stripColour(line: string): string {
  // eslint-disable-next-line no-control-regex -- ESC [ ... m is exactly what is stripped
  return line.replace(/\x1b\[[0-9;]*m/g, '');
}
