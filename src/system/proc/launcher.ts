/**
 * Running commands. Every child leads its own process group, so that cancelling it (or cleaning up after it)
 * reaches everything it started. Output is delivered line by line, and the last lines of each stream are kept
 * for error messages. No process outlives the call that started it: `run` resolves, and `LineProcess.stop()`
 * returns, only once the whole group is gone.
 *
 * Environment: without `env` the child gets an EMPTY environment (mgmt's semantics). The program is then
 * looked up on the default search path `/usr/bin:/bin` (libuv's execvpe fallback when the child's environment
 * has no PATH), so `sleep`, `echo` and `sh` still resolve; anything else needs an absolute path or `env.PATH`.
 *
 * Long-lived processes that are spoken to (the Puppet worker): `stdin: 'pipe'` gives `LineProcess.stdin`, and
 * `unref` keeps an idle child from holding the event loop open.
 *
 * Zombies: processes the command leaves behind are re-parented to pid 1 when the group leader dies, and only pid
 * 1 can reap them. A dead but unreaped process still answers `kill(pid, 0)`, so "gone" here means dead or a
 * zombie (see `isRunning`).
 *
 * No child outlives us: every group started here is remembered until it is gone. `stopAllGroups` (on SIGTERM,
 * SIGINT or a converged exit) sends SIGTERM to all of them, SIGKILL to what remains after a short grace, and
 * refuses new commands from then on; `killAllGroups` (a second signal) sends SIGKILL at once, and runs again when
 * this process exits, whatever the path to the exit. Only a process that left its group (setsid) escapes.
 *
 * Output: lines end at `\n`, `\r\n` or a lone `\r` (as readline splits them). `lineMax` bounds a line: the rest of
 * a longer one is counted, not kept, so a command printing 100 MB without a newline costs no more memory than
 * `lineMax` characters.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Writable } from 'node:stream';
import { stat } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { groupGoneWithin, groupRunning, signalGroup, within } from './proc-table.js';
import { errnoCode, errorText } from '../../observe/errors.js';
import { isTimeoutReason } from './abort.js';

/** What libuv searches when the child's environment has no PATH. */
export const DEFAULT_CHILD_PATH = '/usr/bin:/bin';

export type OutputStream = 'stdout' | 'stderr';
export type OnLine = (stream: OutputStream, line: string) => void;

/** A program with its arguments, or a script run as `[shell, '-c', cmd]`. */
export type Command = { readonly argv: readonly string[] } | { readonly shell: string; readonly cmd: string };

export interface ProcessOptions {
  readonly command: Command;
  /** Working directory; unset: ours. */
  readonly cwd?: string | undefined;
  /** The child's whole environment. Unset: an empty environment (see the module comment about PATH). */
  readonly env?: Readonly<Record<string, string>> | undefined;
  /** Run as this user id (supplementary groups are dropped). */
  readonly uid?: number | undefined;
  /** Run as this group id. */
  readonly gid?: number | undefined;
  /** Aborting kills the whole process group: `killSignal`, then SIGKILL after `killGraceMs`. */
  readonly signal?: AbortSignal | undefined;
  /** Milliseconds between the first signal and SIGKILL. Default 2000. */
  readonly killGraceMs?: number;
  /** The first signal sent to the group on abort. Default SIGTERM. */
  readonly killSignal?: NodeJS.Signals;
  /** How many last lines of each stream to keep. Default 20. */
  readonly tailLines?: number;
  /**
   * The longest output line passed to `onLine`, in characters; the rest of a longer line is dropped and the line
   * ends with ` [... N more characters]`. Default: no bound (a line protocol such as the Puppet worker's).
   */
  readonly lineMax?: number;
  /**
   * Its owner stops it gracefully at shutdown (an etcd member): `stopAllGroups` leaves it alone. `killAllGroups`
   * and the exit of this process still kill it.
   */
  readonly ownerStops?: boolean;
  /**
   * Keep stdout whole and byte for byte in `ProcessResult.stdout` (for commands whose output is data, such as
   * `crontab -l`: line splitting would lose a lone `\r` and whether the text ends with a newline). stdout is then
   * not split into lines: `onLine` and `stdoutTail` get nothing from it.
   */
  readonly captureStdout?: boolean;
  /** The same for stderr: kept whole in `ProcessResult.stderr`, and not split into lines. */
  readonly captureStderr?: boolean;
  /** `pipe`: the child's stdin is a pipe (`LineProcess.stdin`), for a process that reads requests. Default `ignore`. */
  readonly stdin?: 'ignore' | 'pipe';
  /** The child and its pipes do not keep this process alive (an idle long-lived helper); timers of callers still do. */
  readonly unref?: boolean;
}

export interface ProcessResult {
  readonly pid: number;
  /** The exit code, or null when the process was killed by a signal. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** The options' signal was aborted (or `stop()` was called) before the process exited by itself. */
  readonly aborted: boolean;
  /** Aborted, and the abort reason is a `TimeoutError` (as from `AbortSignal.timeout`). */
  readonly timedOut: boolean;
  readonly stdoutTail: readonly string[];
  readonly stderrTail: readonly string[];
  /** The whole stdout, with `captureStdout`. */
  readonly stdout?: Buffer;
  /** The whole stderr, with `captureStderr`. */
  readonly stderr?: Buffer;
}

/** The command could not be started at all (not found, not executable, bad working directory...). */
export class SpawnError extends Error {
  override readonly name = 'SpawnError';
  constructor(
    message: string,
    /** The system error code, such as `ENOENT` or `EACCES`. */
    readonly code: string,
  ) {
    super(message);
  }
}

/** A long-running process whose output is being read line by line. */
export interface LineProcess {
  readonly pid: number;
  /** The child's stdin, with `stdin: 'pipe'` (write errors such as EPIPE are swallowed: the exit tells). */
  readonly stdin: Writable | undefined;
  /** Resolves once the process and its whole group are gone, whether it exited by itself or was stopped. */
  readonly exited: Promise<ProcessResult>;
  /** Kills the process group (if still running) and waits until it is gone. */
  stop(): Promise<ProcessResult>;
  /** Sends a signal to the process group without waiting (nothing once the group is gone). */
  signal(sig: NodeJS.Signals): void;
}

const DEFAULT_GRACE_MS = 2000;
const DEFAULT_TAIL = 20;
/** The longest line kept in a tail (output lines themselves are passed on whole). */
const TAIL_LINE_MAX = 2000;
/** How long to wait for the group to vanish after SIGKILL before giving up (a process stuck in the kernel). */
const AFTER_KILL_MS = 2000;
/** After the group is gone, how long to wait for the output pipes to close (a daemon that kept them open). */
const DRAIN_MS = 500;
const POLL_MS = 10;

/** The process groups started here and not yet seen gone (and their pipes closed), by process group id. */
const liveGroups = new Map<number, LiveGroup>();

interface LiveGroup {
  readonly ownerStops: boolean;
  /** The supervisor's promise: resolves once the group is gone and its pipes are closed. */
  exited: Promise<unknown>;
}
/** Set by `stopAllGroups`: this process is shutting down and starts no more commands. */
let closing = false;

/** How many process groups started here are still alive (or not yet seen gone). */
export function liveGroupCount(): number {
  return liveGroups.size;
}

/**
 * Shutdown: refuses new commands, sends SIGTERM to every group started here (but those whose owner stops them),
 * SIGKILL to the members left after `graceMs`, and resolves once they are gone (or `AFTER_KILL_MS` later).
 */
export async function stopAllGroups(graceMs: number): Promise<void> {
  closing = true;
  const groups = [...liveGroups].filter(([, g]) => !g.ownerStops);
  await Promise.all(
    groups.map(async ([pgid, g]) => {
      await terminateGroup(pgid, 'SIGTERM', graceMs);
      // Its supervisor sees it gone within a poll, and its pipes close (or are given up on) within DRAIN_MS.
      await within(
        g.exited.then(() => undefined),
        POLL_MS + DRAIN_MS,
      );
    }),
  );
}

/** Sends SIGKILL to every group started here, owner-stopped ones included, without waiting (a second signal, exit). */
export function killAllGroups(): void {
  closing = true;
  for (const pgid of liveGroups.keys()) if (groupRunning(pgid)) signalGroup(pgid, 'SIGKILL');
}

/** Whether every group started here is gone (no member running) within `ms`: a killed process takes a moment to die. */
export async function allGroupsGone(ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (![...liveGroups.keys()].some((pgid) => groupRunning(pgid))) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

// The last word: whichever way this process exits (process.exit, the end of the event loop, an uncaught error),
// nothing it started keeps running. A `kill -9` of this process is the one case left to the next run.
process.on('exit', killAllGroups);

/** Runs a command to completion. `onLine` gets every output line as it arrives. Rejects only with SpawnError. */
export async function run(opts: ProcessOptions, onLine?: OnLine): Promise<ProcessResult> {
  const started = await launch(opts, onLine);
  return started.exited;
}

/**
 * Starts a long-running command (a watch command). Resolves once it is running; rejects with SpawnError when it
 * cannot start. `onExit` is called once the process and its group are gone (with `aborted` set when `stop()` or
 * the options' signal ended it).
 */
export async function startLines(opts: ProcessOptions, onLine: OnLine, onExit: (result: ProcessResult) => void): Promise<LineProcess> {
  const started = await launch(opts, onLine);
  let gone = false;
  void started.exited.then((r) => {
    gone = true;
    onExit(r);
  });
  return {
    pid: started.pid,
    stdin: started.stdin,
    exited: started.exited,
    stop: () => {
      started.abort();
      return started.exited;
    },
    signal: (sig) => {
      if (!gone) signalGroup(started.pid, sig);
    },
  };
}

/** This process's own environment, for a child that should inherit it (`env` unset means an empty one). */
export function inheritedEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  return env;
}

/** "exited with code 3", "was killed by SIGKILL", "timed out", "was cancelled". */
export function describeOutcome(r: ProcessResult): string {
  if (r.timedOut) return 'timed out';
  if (r.aborted) return 'was cancelled';
  if (r.code !== null) return `exited with code ${r.code}`;
  return `was killed by ${r.signal ?? 'a signal'}`;
}

/** The last `n` lines of stderr (or of stdout when stderr is empty), as `stderr: a | b`, or '' when both are empty. */
export function outputTail(r: ProcessResult, n = 5): string {
  const [name, lines] = r.stderrTail.length > 0 ? ['stderr', r.stderrTail] : ['stdout', r.stdoutTail];
  if (lines.length === 0) return '';
  return `${name}: ${lines.slice(-n).join(' | ')}`;
}

export { isRunning } from './proc-table.js';

interface Launched {
  readonly pid: number;
  readonly stdin: Writable | undefined;
  readonly exited: Promise<ProcessResult>;
  abort(): void;
}

/** Spawns the command; resolves once it runs (or rejects with SpawnError). */
function launch(opts: ProcessOptions, onLine: OnLine | undefined): Promise<Launched> {
  const [file, args] = 'argv' in opts.command ? [opts.command.argv[0], opts.command.argv.slice(1)] : [opts.command.shell, ['-c', opts.command.cmd]];
  if (file === undefined || file === '') return Promise.reject(new SpawnError('empty command', 'EINVAL'));
  if (closing) return Promise.reject(new SpawnError(`not running '${file}': mgmt is shutting down`, 'ESHUTDOWN'));
  const env = { ...(opts.env ?? {}) };
  let child: ChildProcess;
  try {
    child = spawn(file, args, {
      cwd: opts.cwd,
      env,
      uid: opts.uid,
      gid: opts.gid,
      detached: true,
      stdio: [opts.stdin ?? 'ignore', 'pipe', 'pipe'],
    });
  } catch (e) {
    return explainSpawnError(e, file, opts).then((err) => Promise.reject(err));
  }

  const tailMax = opts.tailLines ?? DEFAULT_TAIL;
  const tails: Record<OutputStream, string[]> = { stdout: [], stderr: [] };
  const read = (stream: OutputStream, input: NodeJS.ReadableStream | null) => {
    if (!input) return;
    readLines(input, opts.lineMax ?? Infinity, (line) => {
      const tail = tails[stream];
      if (tailMax > 0) {
        tail.push(line.length > TAIL_LINE_MAX ? `${line.slice(0, TAIL_LINE_MAX)}...` : line);
        if (tail.length > tailMax) tail.shift();
      }
      onLine?.(stream, line);
    });
  };
  const captured: Captured = { stdout: opts.captureStdout ? [] : undefined, stderr: opts.captureStderr ? [] : undefined };
  for (const stream of ['stdout', 'stderr'] as const) {
    const into = captured[stream];
    if (into) child[stream]?.on('data', (d: Buffer) => into.push(d));
    else read(stream, child[stream]);
  }
  child.stdin?.on('error', () => undefined); // EPIPE once it died: its exit is what tells
  if (opts.unref) {
    child.unref();
    for (const s of [child.stdin, child.stdout, child.stderr] as unknown as ({ unref?: () => void } | null)[]) s?.unref?.();
  }

  return new Promise<Launched>((resolve, reject) => {
    // Before 'spawn', an error means the command could not start. Later ones come from kill(), which we do not
    // use on the child (we signal its group), so they are only swallowed to keep them from being thrown.
    let started = false;
    child.on('error', (e) => {
      if (!started) void explainSpawnError(e, file, opts).then(reject);
    });
    child.once('spawn', () => {
      started = true;
      const pid = child.pid;
      if (pid === undefined) {
        reject(new SpawnError(`cannot run '${file}': no pid`, 'EUNKNOWN'));
        return;
      }
      resolve(supervise(child, pid, opts, tails, captured));
    });
  });
}

/** Whole output streams kept with `captureStdout` / `captureStderr`. */
type Captured = Record<OutputStream, Buffer[] | undefined>;

/** Watches a running child: kills its group on abort, and after it exits kills what it left behind. */
function supervise(child: ChildProcess, pid: number, opts: ProcessOptions, tails: Record<OutputStream, string[]>, captured: Captured): Launched {
  const local = new AbortController();
  let exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  let aborted = false;
  let abortReason: unknown;
  let terminating: Promise<void> | undefined;
  const terminate = () => (terminating ??= terminateGroup(pid, opts.killSignal ?? 'SIGTERM', opts.killGraceMs ?? DEFAULT_GRACE_MS));

  const onAbort = (reason: unknown) => {
    if (exitInfo !== undefined || aborted) return;
    aborted = true;
    abortReason = reason;
    void terminate();
  };
  const fromOptions = () => onAbort(opts.signal?.reason);
  opts.signal?.addEventListener('abort', fromOptions, { once: true });
  const fromLocal = () => onAbort(local.signal.reason);
  local.signal.addEventListener('abort', fromLocal, { once: true });

  const exit = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exitInfo = { code, signal };
      resolve();
    });
  });
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const live: LiveGroup = { ownerStops: opts.ownerStops === true, exited: closed };
  liveGroups.set(pid, live);

  const exited = (async (): Promise<ProcessResult> => {
    await exit;
    // The leader is gone and reaped; anything left in its group is killed now (a no-op in the usual case).
    await terminate();
    if (!(await within(closed, DRAIN_MS))) {
      // Something outside the group (a daemon that called setsid) still holds our pipes: stop reading.
      child.stdout?.destroy();
      child.stderr?.destroy();
      await closed;
    }
    opts.signal?.removeEventListener('abort', fromOptions);
    local.signal.removeEventListener('abort', fromLocal);
    if (liveGroups.get(pid) === live) liveGroups.delete(pid);
    return {
      pid,
      code: exitInfo?.code ?? null,
      signal: exitInfo?.signal ?? null,
      aborted,
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- set by another callback while this one awaited; TypeScript keeps the narrowing from before the await
      timedOut: aborted && isTimeoutReason(abortReason),
      stdoutTail: [...tails.stdout],
      stderrTail: [...tails.stderr],
      ...(captured.stdout ? { stdout: Buffer.concat(captured.stdout) } : {}),
      ...(captured.stderr ? { stderr: Buffer.concat(captured.stderr) } : {}),
    };
  })();

  live.exited = exited;
  if (opts.signal?.aborted) fromOptions();
  return { pid, stdin: child.stdin ?? undefined, exited, abort: () => local.abort() };
}

/**
 * Splits a stream into lines as readline does (`\n`, `\r\n`, a lone `\r`; a last line without an end counts),
 * keeping at most `max` characters of each line: the rest is counted and noted, never held.
 */
function readLines(input: NodeJS.ReadableStream, max: number, emit: (line: string) => void): void {
  const decoder = new StringDecoder('utf8');
  let line = '';
  let cut = 0;
  let open = false; // a line has begun (an empty line before its end still counts)
  let skipLf = false; // the previous chunk ended with \r: a \n starting this one ends nothing
  const end = () => {
    emit(cut > 0 ? `${line} [... ${cut} more characters]` : line);
    line = '';
    cut = 0;
    open = false;
  };
  const add = (text: string, from: number, to: number) => {
    if (to <= from) return;
    open = true;
    const room = max - line.length;
    if (to - from <= room) line += text.slice(from, to);
    else {
      if (room > 0) line += text.slice(from, from + room);
      cut += to - from - Math.max(0, room);
    }
  };
  const take = (text: string) => {
    let i = 0;
    if (skipLf && text.length > 0) {
      if (text.charCodeAt(0) === 10) i = 1;
      skipLf = false;
    }
    const ends = /[\r\n]/g;
    ends.lastIndex = i;
    for (let m = ends.exec(text); m !== null; m = ends.exec(text)) {
      const j = m.index;
      add(text, i, j);
      end();
      i = j + 1;
      if (text.charCodeAt(j) === 13) {
        if (i === text.length) skipLf = true;
        else if (text.charCodeAt(i) === 10) i++;
        ends.lastIndex = i;
      }
    }
    add(text, i, text.length);
  };
  input.on('data', (d: Buffer) => take(decoder.write(d)));
  input.on('end', () => {
    take(decoder.end());
    if (open) end();
  });
}

/** Sends `first` to the group, then SIGKILL after `graceMs`, and waits until no member is running. */
async function terminateGroup(pgid: number, first: NodeJS.Signals, graceMs: number): Promise<void> {
  if (!groupRunning(pgid)) return;
  signalGroup(pgid, first);
  if (await groupGoneWithin(pgid, graceMs, POLL_MS)) return;
  signalGroup(pgid, 'SIGKILL');
  await groupGoneWithin(pgid, AFTER_KILL_MS, POLL_MS);
}

/** Turns a spawn failure into a SpawnError that says what was looked for, and where. */
async function explainSpawnError(e: unknown, file: string, opts: ProcessOptions): Promise<SpawnError> {
  const code = errnoCode(e) ?? 'EUNKNOWN';
  const detail = errorText(e);
  if (code === 'ENOENT' || code === 'EACCES') {
    if (opts.cwd !== undefined) {
      const dir = await stat(opts.cwd).catch(() => undefined);
      if (!dir) return new SpawnError(`working directory not found: '${opts.cwd}'`, code);
      if (!dir.isDirectory()) return new SpawnError(`working directory is not a directory: '${opts.cwd}'`, code);
    }
    if (code === 'EACCES') return new SpawnError(`permission denied running '${file}'${opts.cwd ? ` in '${opts.cwd}'` : ''}`, code);
    if (file.includes('/')) {
      const there = await stat(file).catch(() => undefined);
      if (there) return new SpawnError(`cannot run '${file}': its interpreter (the #! line) was not found`, code);
      return new SpawnError(`command not found: '${file}' (no such file)`, code);
    }
    const path = opts.env?.PATH;
    const searched = path !== undefined ? `PATH=${path}` : `PATH=${DEFAULT_CHILD_PATH}, the default: the command's env has no PATH`;
    return new SpawnError(`command not found: '${file}' (searched ${searched})`, code);
  }
  return new SpawnError(`cannot run '${file}': ${detail}`, code);
}
