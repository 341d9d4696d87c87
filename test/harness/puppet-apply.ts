/**
 * `puppet apply` for tests, hermetic: every Puppet directory, HOME and TMPDIR inside `work`, so nothing of the
 * host's Puppet state is read or written. Each runs in a process group of its own (the launcher's), and
 * `killPuppetApplies()` kills every group still running.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { constants } from 'node:os';
import { DEBIAN_MODULES } from '../../src/puppet/runtime/puppet-settings.js';
import { inheritedEnv, run } from '../../src/system/proc/launcher.js';

export const PUPPET = process.env.PUPPET_BIN ?? 'puppet';

export interface PuppetApplyOptions {
  /** Puppet's --log_level; default `warning` (`notice` lists every change). */
  readonly logLevel?: 'warning' | 'notice';
  /** Module directories before Debian's /usr/share/puppet/modules (which stays on the path). */
  readonly modulepath?: readonly string[];
  /** `--noop --detailed-exitcodes`: check only (exit 0, as a noop run changes nothing; 4 or 6: failures). */
  readonly noop?: boolean;
}

const live = new Set<AbortController>();

const DIRS: readonly (readonly [string, string])[] = [
  ['vardir', 'var'],
  ['confdir', 'conf'],
  ['codedir', 'code'],
  ['logdir', 'log'],
  ['rundir', 'run'],
  ['publicdir', 'public'],
  ['ssldir', 'ssl'],
  ['cadir', 'ca'],
];

/** Applies `manifest`; resolves with the exit code (128 + signal when killed) and stdout and stderr lines together. */
export async function puppetApply(work: string, manifest: string, opts: PuppetApplyOptions = {}): Promise<{ code: number; out: string }> {
  const p = join(work, 'puppet');
  for (const d of ['var/state', 'conf', 'code', 'log', 'run', 'public', 'ssl', 'ca', 'home', 'tmp']) mkdirSync(join(p, d), { recursive: true });
  const args = ['apply', '--color=false', '--log_level', opts.logLevel ?? 'warning'];
  if (opts.modulepath) args.push('--modulepath', [...opts.modulepath, DEBIAN_MODULES].join(':'));
  if (opts.noop) args.push('--noop', '--detailed-exitcodes');
  for (const [opt, d] of DIRS) args.push(`--${opt}`, join(p, d));
  args.push(manifest);
  const env = { ...inheritedEnv(), HOME: join(p, 'home'), TMPDIR: join(p, 'tmp') };
  const stop = new AbortController();
  live.add(stop);
  let out = '';
  try {
    const r = await run({ command: { argv: [PUPPET, ...args] }, env, signal: stop.signal, killSignal: 'SIGKILL' }, (_stream, line) => (out += `${line}\n`));
    return { code: r.code ?? 128 + (r.signal ? constants.signals[r.signal] : 9), out };
  } finally {
    live.delete(stop);
  }
}

/** Kills every `puppet apply` still running, with its process group (SIGKILL). */
export function killPuppetApplies(): void {
  for (const stop of live) stop.abort();
}
