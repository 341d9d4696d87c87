/**
 * One git ref of a control repository, checked out once into a temporary directory (`git archive` of the ref,
 * unpacked: the repository itself is only read, nothing is written to it), and its `--bootstrap-script` run there
 * (r10k for a Puppetfile, for example) with a scrubbed environment, as octocatalog-diff does: HOME, PATH, PWD and
 * BASEDIR only. The ref `.` is the working directory as it is (nothing copied, no bootstrap unless asked).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { DEFAULT_CHILD_PATH, outputTail, run, SpawnError } from '../../system/proc/launcher.js';

export class CheckoutError extends Error {}

export interface Checkout {
  readonly ref: string;
  /** The directory holding the ref's files. */
  readonly dir: string;
  /** Removes the temporary directory (not the working directory of `.`). */
  remove(): Promise<void>;
}

async function git(basedir: string, args: string[], what: string): Promise<void> {
  let r;
  try {
    r = await run({ command: { argv: ['git', '-C', basedir, ...args] }, env: { PATH: process.env.PATH ?? DEFAULT_CHILD_PATH, HOME: process.env.HOME ?? '/' } });
  } catch (e) {
    if (e instanceof SpawnError) throw new CheckoutError(`cannot run git: ${e.message}`);
    throw e;
  }
  if (r.code !== 0) throw new CheckoutError(`${what} failed: ${outputTail(r)}`);
}

export async function checkout(basedir: string, ref: string): Promise<Checkout> {
  const co = await reserveCheckout(basedir, ref);
  await co.fill();
  return co;
}

/** A checkout whose directory exists (empty) until `fill()` unpacks the ref there: its path can be handed out first. */
export interface PendingCheckout extends Checkout {
  /** Unpacks the ref into `dir`; on failure the directory is removed. */
  fill(): Promise<void>;
}

export async function reserveCheckout(basedir: string, ref: string): Promise<PendingCheckout> {
  if (ref === '.') return { ref, dir: resolve(basedir), remove: async () => {}, fill: async () => {} };
  const dir = await mkdtemp(join(tmpdir(), 'mgmt-diff-ref-'));
  const remove = () => rm(dir, { recursive: true, force: true });
  const fill = async () => {
    try {
      const tar = join(dir, '.ref.tar');
      await git(basedir, ['archive', '--format=tar', '-o', tar, ref, '--'], `git archive ${ref} in ${basedir}`);
      const r = await run({ command: { argv: ['tar', '-xf', tar, '-C', dir] }, env: { PATH: process.env.PATH ?? DEFAULT_CHILD_PATH } });
      if (r.code !== 0) throw new CheckoutError(`unpacking ${ref}: ${outputTail(r)}`);
      await rm(tar, { force: true });
    } catch (e) {
      await remove();
      throw e;
    }
  };
  return { ref, dir, remove, fill };
}

/** Runs the bootstrap script (relative to the checkout unless absolute) in the checkout. */
export async function bootstrap(co: Checkout, script: string, extraEnv: Readonly<Record<string, string>> = {}, signal?: AbortSignal): Promise<void> {
  const path = isAbsolute(script) ? script : join(co.dir, script);
  let r;
  try {
    r = await run({
      command: { argv: [path] },
      cwd: co.dir,
      env: { HOME: process.env.HOME ?? '/', PATH: process.env.PATH ?? DEFAULT_CHILD_PATH, PWD: co.dir, BASEDIR: co.dir, ...extraEnv },
      ...(signal ? { signal } : {}),
    });
  } catch (e) {
    if (e instanceof SpawnError) throw new CheckoutError(`--bootstrap-script ${script} at ${co.ref}: cannot run it: ${e.message}`);
    throw e;
  }
  if (r.code !== 0) throw new CheckoutError(`--bootstrap-script ${script} at ${co.ref} failed (exit ${r.code ?? r.signal}): ${outputTail(r)}`);
}
