/**
 * Shared plumbing for the benchmarks: result tables, percentiles, the temp root, and child processes that are
 * tracked by PID and killed on exit. No network, every wait is bounded.
 */
import { type ChildProcess, spawn, type SpawnOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file runs as dist/test/bench/common.js). */
export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const MGMT = join(REPO, 'bin', 'mgmt.js');
export const GNU_TIME = '/usr/bin/time';

export interface Row {
  readonly metric: string;
  readonly value: string;
  /** The goal as text, e.g. `<= 1.05`; absent for informative rows. */
  readonly goal?: string;
  readonly pass?: boolean;
}

export interface BenchResult {
  readonly name: string;
  readonly title: string;
  readonly rows: Row[];
  /** Method notes and caveats, printed under the table and copied into docs/performance.md. */
  readonly notes: string[];
}

export interface BenchContext {
  /** A fresh directory under the run's mkdtemp root; removed with it. */
  readonly dir: string;
}

export type Bench = (ctx: BenchContext) => Promise<BenchResult>;

export function row(metric: string, value: string, goal?: string, pass?: boolean): Row {
  return goal === undefined ? { metric, value } : { metric, value, goal, pass: pass ?? false };
}

export function fmtMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(3)} s` : ms >= 10 ? `${ms.toFixed(1)} ms` : `${ms.toFixed(2)} ms`;
}

export function fmtMB(kb: number): string {
  return `${(kb / 1024).toFixed(1)} MB`;
}

/** Nearest-rank percentile of `xs` (p in 0..100). */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * s.length));
  return s[Math.min(rank, s.length) - 1]!;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Wall-clock now in nanoseconds with sub-millisecond resolution (comparable with `date +%s%N`). */
export function realtimeNs(): bigint {
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
}

/** A YAML scalar for any string: JSON strings are valid YAML double-quoted scalars. */
export const q = (s: string) => JSON.stringify(s);

// ---------------------------------------------------------------------------------------------------------
// Child processes: every one is recorded here and killed by PID (and its own process group) on exit.

const live = new Set<ChildProcess>();

export interface Tracked {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Resolves when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  /** The last 64 KiB of stdout and stderr together. */
  output(): string;
}

export function start(cmd: string, args: readonly string[], opts: SpawnOptions = {}): Tracked {
  // detached: the child leads its own process group, so a forced kill reaches anything it started in that group.
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, ...opts });
  if (child.pid === undefined) throw new Error(`cannot start ${cmd}`);
  live.add(child);
  let out = '';
  const keep = (b: Buffer) => {
    out += b.toString();
    if (out.length > 128 * 1024) out = out.slice(-64 * 1024);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((res) => {
    child.on('exit', (code, signal) => {
      const at = performance.now();
      live.delete(child);
      res({ code, signal, at });
    });
    child.on('error', (e) => {
      live.delete(child);
      out += `\nspawn error: ${e.message}`;
      res({ code: null, signal: null, at: performance.now() });
    });
  });
  return { child, pid: child.pid, exited, output: () => out.slice(-64 * 1024) };
}

/** Waits for exit at most `ms`; on timeout kills the process (by PID) and throws. */
export async function waitExit(t: Tracked, ms: number, what: string) {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), ms)));
  const r = await Promise.race([t.exited, timeout]);
  clearTimeout(timer);
  if (r === 'timeout') {
    killTree(t.child);
    throw new Error(`${what} did not finish within ${(ms / 1000).toFixed(0)} s (killed); output tail:\n${t.output().slice(-2000)}`);
  }
  return r;
}

function killTree(c: ChildProcess): void {
  if (c.pid === undefined || c.exitCode !== null || c.signalCode !== null) return;
  try {
    process.kill(-c.pid, 'SIGKILL');
  } catch {
    /* the group may be gone */
  }
  try {
    process.kill(c.pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
}

/** Kills every tracked process that is still alive (called on exit and on signals). */
export function killAll(): void {
  for (const c of live) killTree(c);
  live.clear();
}

/** Runs the mgmt CLI with TMPDIR pointing into `tmp`, so `--tmp-prefix` state lands inside the bench's temp root. */
export function startMgmt(args: readonly string[], tmp: string, opts: { timeRss?: string; env?: Readonly<Record<string, string>> } = {}): Tracked {
  const env = { ...process.env, TMPDIR: tmp, ...opts.env };
  if (opts.timeRss && existsSync(GNU_TIME)) {
    return start(GNU_TIME, ['-f', '%M %U %S', '-o', opts.timeRss, process.execPath, MGMT, ...args], { env });
  }
  return start(process.execPath, [MGMT, ...args], { env });
}

// ---------------------------------------------------------------------------------------------------------
// Output

export function table(r: BenchResult): string {
  const head = ['metric', 'value', 'goal', 'result'];
  const body = r.rows.map((x) => [x.metric, x.value, x.goal ?? '', x.goal === undefined ? 'info' : x.pass ? 'PASS' : 'FAIL']);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(w[i]!))
      .join('  ')
      .trimEnd();
  const rule = w.map((n) => '-'.repeat(n)).join('  ');
  return [`== ${r.name}: ${r.title}`, line(head), rule, ...body.map(line), ...r.notes.map((n) => `  * ${n}`)].join('\n');
}

export function markdownTable(r: BenchResult): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const lines = ['| metric | value | goal | result |', '|---|---|---|---|'];
  for (const x of r.rows) {
    lines.push(`| ${esc(x.metric)} | ${esc(x.value)} | ${esc(x.goal ?? '')} | ${x.goal === undefined ? 'info' : x.pass ? '**PASS**' : '**FAIL**'} |`);
  }
  return lines.join('\n');
}

export function failed(r: BenchResult): boolean {
  return r.rows.some((x) => x.goal !== undefined && !x.pass);
}
