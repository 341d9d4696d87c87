/**
 * `puppet apply` for tests, hermetic: every Puppet directory, HOME and TMPDIR inside `work`, so nothing of the
 * host's Puppet state is read or written. Every process started here is killed (by PID) by `killPuppetApplies()`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

export const PUPPET = process.env.PUPPET_BIN ?? 'puppet';

export interface PuppetApplyOptions {
  /** Puppet's --log_level; default `warning` (`notice` lists every change). */
  readonly logLevel?: 'warning' | 'notice';
  /** Module directories before Debian's /usr/share/puppet/modules (which stays on the path). */
  readonly modulepath?: readonly string[];
}

const live = new Set<ChildProcess>();

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

/** Applies `manifest`; resolves with the exit code (128 + signal when killed) and stdout and stderr together. */
export function puppetApply(work: string, manifest: string, opts: PuppetApplyOptions = {}): Promise<{ code: number; out: string }> {
  const p = join(work, 'puppet');
  for (const d of ['var/state', 'conf', 'code', 'log', 'run', 'public', 'ssl', 'ca', 'home', 'tmp']) mkdirSync(join(p, d), { recursive: true });
  const args = ['apply', '--color=false', '--log_level', opts.logLevel ?? 'warning'];
  if (opts.modulepath) args.push('--modulepath', [...opts.modulepath, '/usr/share/puppet/modules'].join(':'));
  for (const [opt, d] of DIRS) args.push(`--${opt}`, join(p, d));
  args.push(manifest);
  const env = { ...process.env, HOME: join(p, 'home'), TMPDIR: join(p, 'tmp') };
  return new Promise((resolve, reject) => {
    const child = spawn(PUPPET, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(child);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', (e) => {
      live.delete(child);
      reject(e);
    });
    child.on('exit', (code, sig) => {
      live.delete(child);
      resolve({ code: code ?? 128 + (sig === 'SIGKILL' ? 9 : 15), out });
    });
  });
}

/** Kills every `puppet apply` still running (SIGKILL, by PID). */
export function killPuppetApplies(): void {
  for (const c of live) if (c.pid) c.kill('SIGKILL');
}
