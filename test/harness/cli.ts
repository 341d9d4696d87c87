/** Runs the `mgmt` CLI as a child process, as a user would; every process started is killed by PID at the end. */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, beforeEach } from 'node:test';

const BIN = fileURLToPath(new URL('../../../bin/mgmt.js', import.meta.url));
const live = new Set<ChildProcess>();

export interface Cli {
  readonly child: ChildProcess;
  /** Everything written to stderr so far. */
  stderr(): string;
  stdout(): string;
  /** Resolves with the exit code (128 + n for a signal). */
  readonly exited: Promise<number>;
  /** Waits until stderr matches. */
  waitForLog(re: RegExp, timeoutMs?: number): Promise<void>;
}

export interface CliOptions {
  readonly cwd?: string;
  /** Added to (and overriding) this process's environment. */
  readonly env?: Readonly<Record<string, string>>;
}

export function mgmt(args: string[], opts: CliOptions = {}): Cli {
  const env = opts.env ? { ...process.env, ...opts.env } : undefined;
  const child = spawn(process.execPath, [BIN, ...args], { cwd: opts.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let err = '';
  let out = '';
  const listeners = new Set<() => void>();
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
    for (const l of listeners) l();
  });
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  // 'close', not 'exit': by then stdout and stderr are read to their end, so stderr() holds every line.
  const exited = new Promise<number>((resolve) =>
    child.on('close', (code, sig) => {
      live.delete(child);
      resolve(code ?? 128 + (sig === 'SIGKILL' ? 9 : sig === 'SIGTERM' ? 15 : 2));
    }),
  );
  return {
    child,
    stderr: () => err,
    stdout: () => out,
    exited,
    waitForLog: (re, timeoutMs = 5000) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (re.test(err)) {
            listeners.delete(check);
            clearTimeout(t);
            resolve();
          }
        };
        const t = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`no log line matching ${re} within ${timeoutMs} ms; stderr:\n${err}`));
        }, timeoutMs);
        listeners.add(check);
        check();
      }),
  };
}

/** Runs to completion and returns the exit code and output. */
export async function mgmtRun(args: string[], opts: CliOptions = {}): Promise<{ code: number; stderr: string; stdout: string }> {
  const c = mgmt(args, opts);
  const code = await c.exited;
  return { code, stderr: c.stderr(), stdout: c.stdout() };
}

/** Kills every CLI process a test left running. */
export function killAll(): void {
  for (const c of live) if (c.pid) c.kill('SIGKILL');
}

/**
 * The set-up every CLI test file shares: each test gets a fresh scratch directory (named from `prefix`), handed to
 * `use` before it runs; afterwards every CLI process it left running is killed and the directory removed.
 */
export function scratchDirPerTest(prefix: string, use: (dir: string) => void): void {
  let dir = '';
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), prefix));
    use(dir);
  });
  afterEach(async () => {
    killAll();
    await rm(dir, { recursive: true, force: true });
  });
  after(killAll);
}

/** Polls `pred` every 5 ms until it holds. */
export async function waitUntil(pred: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const t0 = Date.now();
  while (!pred()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
