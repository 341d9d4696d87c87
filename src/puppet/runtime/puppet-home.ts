/**
 * Where Puppet runs for us. Puppet READS the node's configuration, as `puppet apply` would (puppet-settings.ts):
 * puppet.conf, the environments, Hiera, the node's certificate. What Puppet WRITES goes to a private directory of
 * ours (`privateArgs`): its vardir and every state, cache, log and run file, given on the command line, where they
 * win over puppet.conf. So a run never touches the node's own Puppet state (its last run report, its state file,
 * its client bucket, its cached catalog), and the private state directory exists before Puppet starts, so Puppet
 * never creates or re-permissions the node's directories (it does when its statedir is missing).
 *
 * Our module (puppet-module/) is loaded from Ruby's load path (RUBYLIB), not from the modulepath, so the
 * environment's modulepath stays exactly the node's.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rubyBootEnv } from './ruby-boot.js';

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

/**
 * Every Puppet setting naming something Puppet writes when it compiles or applies a resource, and where it goes
 * under our private directory. Given on the command line, each wins over puppet.conf (a node's puppet.conf often
 * sets vardir, logdir, rundir).
 */
export const PRIVATE_SETTINGS: readonly (readonly [setting: string, path: string])[] = [
  ['vardir', 'var'],
  ['statedir', 'var/state'],
  ['statefile', 'var/state/state.yaml'],
  ['transactionstorefile', 'var/state/transactionstore.yaml'],
  ['lastrunfile', 'var/state/last_run_summary.yaml'],
  ['lastrunreport', 'var/state/last_run_report.yaml'],
  ['resourcefile', 'var/state/resources.txt'],
  ['classfile', 'var/state/classes.txt'],
  ['graphdir', 'var/state/graphs'],
  ['client_datadir', 'var/client_data'],
  ['clientyamldir', 'var/client_yaml'],
  ['clientbucketdir', 'var/clientbucket'],
  ['publicdir', 'public'],
  ['rundir', 'run'],
  ['logdir', 'log'],
];

/** The private directories Puppet expects to exist (mode 0700, as Puppet's own vardir is private). */
const PRIVATE_DIRS = ['var/state', 'var/client_data', 'var/client_yaml', 'public', 'run', 'log'];

/** Creates the private directories under `home` (idempotent). */
export async function preparePrivateDirs(home: string): Promise<void> {
  for (const d of PRIVATE_DIRS) await mkdir(join(home, d), { recursive: true, mode: 0o700 });
}

/** `--<setting> <home>/<path>` for every private setting. */
export function privateArgs(home: string): string[] {
  return PRIVATE_SETTINGS.flatMap(([setting, path]) => [`--${setting}`, join(home, path)]);
}

/**
 * The environment Puppet runs with: ours, with our module's lib first on Ruby's load path, and our boot file
 * loaded first (Ruby's compile cache, GC paused while Puppet loads: ruby-boot.ts).
 */
export function puppetEnv(moduleDir: string, env: Readonly<Record<string, string>>): Record<string, string> {
  const lib = join(moduleDir, 'lib');
  const current = env.RUBYLIB;
  return { ...env, ...rubyBootEnv(env), RUBYLIB: current ? `${lib}:${current}` : lib };
}

/** A line of Puppet's output without ANSI colour escapes. */
export function stripColour(line: string): string {
  // eslint-disable-next-line no-control-regex -- ESC [ ... m is exactly what is stripped
  return line.replace(/\x1b\[[0-9;]*m/g, '');
}
