/**
 * The client of the Puppet worker (`puppet mgmtgraph worker`, see puppet-module/README.md): ONE long-lived Puppet
 * process per mgmt process, speaking JSON lines, shared by everything that needs Puppet (the `puppet` fallback
 * resources, the compiler). Puppet starts in ~1.5-2 s, so it is started on first use and kept while someone holds
 * it: users `acquire()` it and `release()` it, and the process is stopped (stdin closed, then SIGTERM and SIGKILL
 * of its process group after a grace) when the last user releases it, or on `shutdownPuppetWorker()`.
 *
 * Requests: `request(op, fields, {signal, timeoutMs})`, typed by the protocol (protocol.ts), resolves with the
 * worker's reply, whose `error` is null or Puppet's message (an error reply is a normal reply: the caller decides).
 * Many requests may be outstanding. The worker serves one request at a time, so they queue HERE and are written
 * one at a time: a request cancelled while queued is then never sent (Puppet would otherwise still apply it later).
 * Replies are matched by id.
 *
 * No request hangs forever:
 * - each one has a timeout (default: 120 s for apply, refresh and compile, 60 s for check and ping), counted from
 *   when it is written to the worker; the wait in the queue is bounded by the timeouts of those ahead of it;
 * - a timeout or an abort of the request being served rejects it and kills the worker with every process below it
 *   (it is stuck in Puppet code that cannot be interrupted otherwise, possibly running a command, which Puppet puts
 *   in a session of its own); the queued requests go to a fresh worker;
 * - when the worker dies by itself, every pending request rejects with the tail of its stderr, and the next request
 *   starts a new one (what it left in its process group is killed; a command it ran under Puppet's `setsid` cannot
 *   be told apart from a daemon it started any more, so it is left alone);
 * - the start itself has a deadline (60 s until the first `ping` answers).
 *
 * A request holds the worker for its own duration: without a user holding it (`acquire()`), the worker is started
 * for the request and stopped right after it.
 *
 * The child is unref'd: an idle worker does not keep mgmt alive, and it exits by itself when our end of its stdin
 * closes (it exits on EOF).
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Logger } from '../../observe/logger.js';
import { logger } from '../../observe/log.js';
import { redactText } from '../../observe/redact.js';
import type { WorkerOp, WorkerReply, WorkerRequest } from './protocol.js';
import { findModuleDir, preparePrivateDirs, privateArgs, PUPPET_HOME_PREFIX, puppetEnv, stripColour } from './puppet-home.js';
import { type PuppetSettings, settingsArgs } from './puppet-settings.js';
import { inheritedEnv, type LineProcess, SpawnError, startLines } from '../../system/proc/launcher.js';
import { descendants, groupRunning, isRunning, signalGroup, signalPid, within } from '../../system/proc/proc-table.js';
import { errorText } from '../../observe/errors.js';
import { isTimeoutReason } from '../../system/proc/abort.js';

/** The process log, `puppet: ...` lines, unless a front door hands over another (setPuppetWorkerLog). */
let processLog: Logger = logger('puppet');

/** Sets where the worker logs when its configuration names no log of its own. */
export function setPuppetWorkerLog(log: Logger): void {
  processLog = log;
}

export type { WorkerOp, WorkerReply, WorkerRequest, WorkerResource } from './protocol.js';

export interface PuppetConfig {
  /** The `puppet` executable. Default `puppet` (looked up on PATH). */
  readonly puppetBin?: string;
  /**
   * The Puppet settings the user gave (confdir, environment, modulepath, certname...); the rest are the node's own,
   * read by Puppet as `puppet apply` reads them (puppet-settings.ts).
   */
  readonly settings?: PuppetSettings;
  /**
   * What Puppet writes (its vardir, state and cache files) goes under here (created when missing; puppet-home.ts).
   * Unconfigured: a fresh temporary directory per mgmt process.
   */
  readonly stateDir: string;
  /** More arguments for `puppet mgmtgraph worker` (e.g. `--certname`, `--storeconfigs`). */
  readonly args?: readonly string[];
  /** Where the worker's messages go. Default: the one given to setPuppetWorkerLog. */
  readonly log?: Logger;
  /** The puppet-module directory; default: the one shipped next to this code. */
  readonly moduleDir?: string;
  /** After closing stdin, how long to wait for the worker to exit before signalling it. Default 3000 ms. */
  readonly graceMs?: number;
  /** Deadline of the start (spawn until the first ping reply). Default 60 s. */
  readonly startTimeoutMs?: number;
}

export interface RequestOptions {
  /** Aborting rejects the request (and kills the worker if it was serving it). */
  readonly signal?: AbortSignal;
  /** Milliseconds from when the request is written to the worker. Default per op (see the module comment). */
  readonly timeoutMs?: number | undefined;
  /** Strings that must never be logged: redacted from the worker's stderr while this request is pending. */
  readonly secrets?: readonly string[];
}

/** A request that could not be answered: timeout, abort, a dead or unstartable worker. */
export class PuppetWorkerError extends Error {
  override readonly name: string;
  constructor(message: string, kind: 'TimeoutError' | 'AbortError' | 'PuppetWorkerError' = 'PuppetWorkerError') {
    super(message);
    this.name = kind;
  }
}

const DEFAULT_TIMEOUT_MS: Record<WorkerOp, number> = { ping: 60_000, check: 60_000, apply: 120_000, refresh: 120_000, compile: 120_000 };
const DEFAULT_GRACE_MS = 3000;
const TERM_GRACE_MS = 2000;
const AFTER_KILL_MS = 2000;
const DEFAULT_START_TIMEOUT_MS = 60_000;
const STDERR_TAIL = 20;
/**
 * Ruby's heap starts small and grows by collecting: loading Puppet allocates ~0.5 M objects and the first compile
 * as many again, ~30 collections on the way. A first heap of 600,000 slots (~24 MB) saves ~150 ms of the worker's
 * start and first compile; its exit then frees more (~90 ms more), so a one-shot `mgmt puppet` gains ~60-90 ms
 * end to end (measured A/B here). What the user's environment sets wins.
 */
const RUBY_GC_DEFAULTS: Readonly<Record<string, string>> = { RUBY_GC_HEAP_INIT_SLOTS: '600000' };

let config: PuppetConfig | undefined;
let shared: PuppetWorker | undefined;

/** Sets how the worker is started (once, by the CLI). Takes effect at the next start of the worker. */
export function configurePuppet(c: Partial<PuppetConfig> & { stateDir: string }): void {
  config = { ...c };
}

/** The shared worker of this process (not started until its first request). */
export function getPuppetWorker(): PuppetWorker {
  shared ??= new PuppetWorker(() => config);
  return shared;
}

/** Stops the worker now (rejecting whatever is pending); a later request starts a new one. */
export async function shutdownPuppetWorker(): Promise<void> {
  await shared?.stop();
}

interface Pending {
  readonly id: number;
  readonly op: WorkerOp;
  /** `check Cron[backup]`, for messages. */
  readonly what: string;
  readonly line: string;
  readonly timeoutMs: number;
  readonly secrets: readonly string[];
  readonly signal?: AbortSignal | undefined;
  settled: boolean;
  resolve(reply: WorkerReply): void;
  reject(err: Error): void;
}

interface Proc {
  readonly process: LineProcess;
  readonly pid: number;
  readonly stderrTail: string[];
  /** Resolves once the worker has exited (and what it left in its process group is gone). */
  readonly exited: Promise<void>;
  /** `exited` has resolved: its pid may belong to another process by now. */
  gone: boolean;
  exitCode: number | null;
  exitSignal: NodeJS.Signals | null;
  /** We are stopping it: its exit is expected. */
  ending: boolean;
  /** Waiting for this id's reply (the startup ping uses its own). */
  onReply?: ((reply: WorkerReply) => void) | undefined;
}

export class PuppetWorker {
  private refs = 0;
  private nextId = 1;
  private readonly queue: Pending[] = [];
  private inflight: { req: Pending; proc: Proc; timer: NodeJS.Timeout } | undefined;
  private proc: Proc | undefined;
  private starting: Promise<Proc | undefined> | undefined;
  /** Set while a start has not spawned its process yet: stop() waits for it, so no process starts after a stop. */
  private spawning: Promise<unknown> | undefined;
  private stopping: Promise<void> | undefined;
  private readonly pids: number[] = [];
  private defaultStateDir: Promise<string> | undefined;

  constructor(private readonly getConfig: () => PuppetConfig | undefined) {}

  /** The pid of the running worker process, if any. */
  get pid(): number | undefined {
    return this.proc?.pid;
  }

  /** Every worker process started so far, oldest first (tests, diagnostics). */
  get startedPids(): readonly number[] {
    return [...this.pids];
  }

  /** Number of users holding the worker. */
  get users(): number {
    return this.refs;
  }

  /** Holds the worker: it keeps running (once started) until the matching `release()`. */
  acquire(): void {
    this.refs++;
  }

  /**
   * Starts the process now if the worker is held and none runs, and resolves once it is spawned, not once Puppet
   * has loaded: a caller with other work to do (checking code out) lets Puppet load meanwhile. Requests wait for
   * the start as usual; a start that fails is logged, and fails the requests sent to it.
   */
  async launch(): Promise<void> {
    if (this.refs > 0 && !this.proc && !this.starting && !this.stopping) {
      this.starting = this.start().finally(() => {
        this.starting = undefined;
        this.pump();
      });
    }
    await this.spawning?.catch(() => undefined);
  }

  /** Lets go of the worker; the last user's release stops it, and resolves once it is gone. */
  async release(): Promise<void> {
    if (this.refs <= 0) return;
    this.refs--;
    if (this.refs === 0 && this.queue.length === 0 && this.inflight === undefined) await this.stopProcess();
  }

  /**
   * Stops the worker now: pending requests reject; a later request starts a new worker. A worker still starting
   * (loading Puppet) is stopped as well, not left to finish its start.
   */
  async stop(): Promise<void> {
    const err = new PuppetWorkerError('Puppet worker: shut down');
    for (const r of this.queue.splice(0)) this.settle(r, err);
    if (this.inflight) this.settle(this.inflight.req, err);
    await this.spawning?.catch(() => undefined);
    await this.stopProcess();
  }

  /** Sends a request and resolves with its reply (see the module comment for queueing, timeouts and failures). */
  request<O extends WorkerOp>(op: O, fields?: WorkerRequest<O>, opts: RequestOptions = {}): Promise<WorkerReply<O>> {
    const what = describeRequest(op, fields ?? {});
    if (opts.signal?.aborted) return Promise.reject(abortError(what, opts.signal));
    const id = this.nextId++;
    let line: string;
    try {
      line = JSON.stringify({ ...fields, id, op });
    } catch (e) {
      return Promise.reject(new PuppetWorkerError(`Puppet worker: cannot encode ${what}: ${errorText(e)}`));
    }
    this.refs++; // a request holds the worker for its duration
    return new Promise<WorkerReply<O>>((resolvePromise, rejectPromise) => {
      const onAbort = () => this.onAbort(req);
      const done = () => {
        opts.signal?.removeEventListener('abort', onAbort);
        this.refs--;
        if (this.refs === 0 && this.queue.length === 0 && this.inflight === undefined) void this.stopProcess();
      };
      const req: Pending = {
        id,
        op,
        what,
        line,
        timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS[op],
        secrets: (opts.secrets ?? []).filter((s) => s !== ''),
        signal: opts.signal,
        settled: false,
        resolve: (r) => {
          done();
          resolvePromise(r as WorkerReply<O>); // the reply to this id: the Ruby worker checks its fields against the protocol
        },
        reject: (e) => {
          done();
          rejectPromise(e);
        },
      };
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(req);
      this.pump();
    });
  }

  // --- requests ------------------------------------------------------------------------------------------------

  private settle(req: Pending, outcome: WorkerReply | Error): void {
    if (req.settled) return;
    req.settled = true;
    const i = this.queue.indexOf(req);
    if (i >= 0) this.queue.splice(i, 1);
    if (this.inflight?.req === req) {
      clearTimeout(this.inflight.timer);
      this.inflight = undefined;
    }
    if (outcome instanceof Error) req.reject(outcome);
    else req.resolve(outcome);
  }

  private onAbort(req: Pending): void {
    if (req.settled) return;
    const serving = this.inflight?.req === req ? this.inflight.proc : undefined;
    this.settle(req, abortError(req.what, req.signal));
    if (serving) {
      this.log().warn(`${req.what} was cancelled while Puppet was running it: killing the Puppet worker (pid ${serving.pid})`);
      void this.kill(serving);
    }
    this.pump();
  }

  private onTimeout(req: Pending, proc: Proc): void {
    if (req.settled) return;
    this.settle(
      req,
      new PuppetWorkerError(
        `Puppet worker: ${req.what} timed out after ${req.timeoutMs} ms; the worker (pid ${proc.pid}) was killed${tailSuffix(proc, this.secrets())}`,
        'TimeoutError',
      ),
    );
    this.log().warn(`${req.what} timed out after ${req.timeoutMs} ms: killing the Puppet worker (pid ${proc.pid})`);
    void this.kill(proc);
    this.pump();
  }

  /** Writes the next queued request once the worker is free, starting the worker if needed. */
  private pump(): void {
    if (this.inflight || this.queue.length === 0) return;
    if (this.stopping || this.starting) return; // pumped again when they finish
    const proc = this.proc;
    if (!proc) {
      this.starting = this.start().finally(() => {
        this.starting = undefined;
        this.pump();
      });
      return;
    }
    const req = this.queue.shift()!;
    const timer = setTimeout(() => this.onTimeout(req, proc), req.timeoutMs);
    this.inflight = { req, proc, timer };
    proc.onReply = (reply) => {
      if (reply.id !== req.id) {
        this.log().warn(
          `ignoring a Puppet worker reply to request ${String(reply.id)} while waiting for ${req.id}: ${redactText(JSON.stringify(reply), this.secrets())}`,
        );
        return;
      }
      proc.onReply = undefined;
      this.settle(req, reply);
      this.pump();
    };
    proc.process.stdin?.write(`${req.line}\n`);
  }

  /** Secrets of every pending request (to redact the shared stderr). */
  private secrets(): string[] {
    const out: string[] = [];
    if (this.inflight) out.push(...this.inflight.req.secrets);
    for (const r of this.queue) out.push(...r.secrets);
    return out;
  }

  private log(): Logger {
    return this.getConfig()?.log ?? processLog;
  }

  // --- the process ---------------------------------------------------------------------------------------------

  /** Starts a worker and waits for its first ping; on failure rejects every queued request. */
  private async start(): Promise<Proc | undefined> {
    const cfg = this.getConfig();
    const log = this.log();
    let proc: Proc | undefined;
    const t0 = performance.now();
    try {
      // this.proc is set before `spawning` settles: a stop() waiting for it then finds the process to stop
      const spawned = this.commandLine(cfg).then(async (argv) => {
        const p = await this.spawnWorker(argv, log);
        this.proc = p;
        this.pids.push(p.pid);
        return { argv, p };
      });
      this.spawning = spawned;
      const { argv, p } = await spawned.finally(() => (this.spawning = undefined));
      proc = p;
      log.debug(`starting the Puppet worker (pid ${proc.pid}): ${argv.join(' ')}`);
      const pong = await this.ping(proc, cfg?.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS);
      // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a value read from JSON, D-Bus or a manifest; String() keeps its text whatever its shape
      log.info(`Puppet worker ready (pid ${proc.pid}, Puppet ${String(pong.puppet_version ?? '?')}) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      return proc;
    } catch (e) {
      const msg = errorText(e);
      const err = new PuppetWorkerError(`Puppet worker: cannot start: ${msg}`);
      if (proc?.ending) {
        // stopped while it was starting (stop()): not a failure
        for (const r of this.queue.splice(0)) this.settle(r, err);
        return undefined;
      }
      log.error(err.message);
      for (const r of this.queue.splice(0)) this.settle(r, err);
      if (proc) await this.kill(proc);
      return undefined;
    }
  }

  private async commandLine(cfg: PuppetConfig | undefined): Promise<string[]> {
    const stateDir = resolve(cfg?.stateDir ?? (await (this.defaultStateDir ??= mkdtemp(join(tmpdir(), PUPPET_HOME_PREFIX)))));
    await preparePrivateDirs(stateDir);
    return [
      cfg?.puppetBin ?? 'puppet',
      'mgmtgraph',
      'worker',
      ...settingsArgs(cfg?.settings ?? {}),
      ...privateArgs(stateDir),
      '--color',
      'false',
      ...(cfg?.args ?? []),
    ];
  }

  /**
   * Starts `puppet mgmtgraph worker` through the launcher: its own process group, stdin a pipe for requests,
   * stdout and stderr read line by line. Once it exits, the launcher kills what it left in its group (SIGTERM,
   * SIGKILL after the grace) before `exited` resolves.
   */
  private async spawnWorker(argv: string[], log: Logger): Promise<Proc> {
    const env = puppetEnv(this.getConfig()?.moduleDir ?? findModuleDir(), { ...RUBY_GC_DEFAULTS, ...inheritedEnv() });
    // assigned once the launcher has started it; the line and exit callbacks given to the launcher read it
    // eslint-disable-next-line prefer-const
    let proc: Proc | undefined;
    let onExit: () => void = () => undefined;
    const exited = new Promise<void>((r) => (onExit = r));
    let lines: LineProcess;
    try {
      lines = await startLines(
        // An idle worker must not keep mgmt alive (unref); pending requests keep it alive through their timers.
        // Its stderr is kept (redacted) by onStderr, not in the launcher's tail.
        { command: { argv }, env, stdin: 'pipe', unref: true, killGraceMs: TERM_GRACE_MS, tailLines: 0 },
        (stream, line) => {
          if (!proc) return;
          if (stream === 'stdout') this.onStdout(proc, line);
          else this.onStderr(proc, line, log);
        },
        (r) => {
          if (!proc) return;
          proc.exitCode = r.code;
          proc.exitSignal = r.signal;
          proc.gone = true;
          onExit();
          this.onExit(proc);
        },
      );
    } catch (e) {
      if (e instanceof SpawnError && e.code === 'ENOENT') throw new Error(`'${argv[0]}' not found (is Puppet installed? Debian: apt-get install puppet)`);
      throw e;
    }
    proc = { process: lines, pid: lines.pid, stderrTail: [], exited, gone: false, exitCode: null, exitSignal: null, ending: false };
    return proc;
  }

  private ping(proc: Proc, timeoutMs: number): Promise<WorkerReply> {
    const id = this.nextId++;
    return new Promise<WorkerReply>((resolvePromise, reject) => {
      const timer = setTimeout(() => {
        proc.onReply = undefined;
        reject(new Error(`no answer to ping within ${timeoutMs} ms${tailSuffix(proc, [])}`));
      }, timeoutMs);
      const onExit = () => {
        clearTimeout(timer);
        reject(new Error(`puppet ${exitText(proc)}${tailSuffix(proc, [])}`));
      };
      void proc.exited.then(onExit);
      proc.onReply = (reply) => {
        if (reply.id !== id) return;
        clearTimeout(timer);
        proc.onReply = undefined;
        if (reply.error) reject(new Error(reply.error.message));
        else resolvePromise(reply);
      };
      proc.process.stdin?.write(`${JSON.stringify({ id, op: 'ping' })}\n`);
    });
  }

  private onStdout(proc: Proc, line: string): void {
    if (line.trim() === '') return;
    let reply: WorkerReply;
    try {
      const parsed: unknown = JSON.parse(line);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
      reply = parsed as WorkerReply;
    } catch {
      this.log().warn(`Puppet worker (pid ${proc.pid}) wrote a line that is not a reply: ${redactText(line, this.secrets()).slice(0, 500)}`);
      return;
    }
    if (proc.onReply) proc.onReply(reply);
    else this.log().debug(`ignoring a late Puppet worker reply to request ${String(reply.id)}`);
  }

  private onStderr(proc: Proc, raw: string, log: Logger): void {
    const line = redactText(stripColour(raw), this.secrets());
    if (line.trim() === '') return;
    proc.stderrTail.push(line.length > 1000 ? `${line.slice(0, 1000)}...` : line);
    if (proc.stderrTail.length > STDERR_TAIL) proc.stderrTail.shift();
    if (/^(Warning|Error|Err|Crit|Alert|Emerg)\b/i.test(line)) log.warn(`worker: ${line}`);
    else log.debug(`worker: ${line}`);
  }

  private onExit(proc: Proc): void {
    if (this.proc === proc) this.proc = undefined;
    if (proc.ending) return;
    // It died by itself: everything pending fails with its last words; the next request starts a new worker.
    const err = new PuppetWorkerError(`Puppet worker (pid ${proc.pid}) ${exitText(proc)}${tailSuffix(proc, this.secrets())}`);
    this.log().warn(err.message);
    if (this.starting) return; // start() reports it
    if (this.inflight?.proc === proc) this.settle(this.inflight.req, err);
    for (const r of this.queue.splice(0)) this.settle(r, err);
  }

  /** Gracefully stops the current worker (stdin closed first). */
  private stopProcess(): Promise<void> {
    const proc = this.proc;
    if (!proc) return this.stopping ?? Promise.resolve();
    this.proc = undefined;
    proc.ending = true;
    const graceMs = this.getConfig()?.graceMs ?? DEFAULT_GRACE_MS;
    const run = (async () => {
      this.log().debug(`stopping the Puppet worker (pid ${proc.pid})`);
      proc.process.stdin?.end();
      // Idle, it exits, and the launcher reaps its group. Busy past the grace: it and the command it runs are killed.
      if (await within(proc.exited, graceMs)) return;
      this.log().warn(`the Puppet worker (pid ${proc.pid}) did not exit within ${graceMs} ms of closing its input: terminating it`);
      await this.killTree(proc.pid, TERM_GRACE_MS);
      await within(proc.exited, AFTER_KILL_MS);
    })();
    const tracked = run.finally(() => {
      if (this.stopping === tracked) this.stopping = undefined;
      this.pump();
    });
    this.stopping = tracked;
    return tracked;
  }

  /** Kills a worker at once (it is stuck in a request that was cancelled or timed out). */
  private async kill(proc: Proc): Promise<void> {
    if (this.proc === proc) this.proc = undefined;
    proc.ending = true;
    proc.onReply = undefined;
    const run = (async () => {
      proc.process.stdin?.destroy();
      if (proc.gone) return;
      await this.killTree(proc.pid, TERM_GRACE_MS);
      await within(proc.exited, AFTER_KILL_MS);
    })();
    const prev = this.stopping;
    const tracked = (prev ? Promise.all([prev, run]).then(() => undefined) : run).finally(() => {
      if (this.stopping === tracked) this.stopping = undefined;
      this.pump();
    });
    this.stopping = tracked;
    await tracked;
  }

  /**
   * Kills the worker, its process group, and every process below it right now: Puppet runs commands in a new
   * session (`setsid`), outside our group, and the command being cancelled must die with the worker. Daemons that
   * were started earlier (a `Service`) have left the tree, so they survive. The worker is stopped and killed at
   * once; what it runs gets SIGTERM, then SIGKILL after `graceMs`.
   */
  private async killTree(pid: number, graceMs: number): Promise<void> {
    // Freeze the worker first: a stopped process cannot start anything new, so the snapshot of what it runs
    // stays complete (a command it spawned after a snapshot would otherwise outlive it, reparented to pid 1).
    signalPid(pid, 'SIGSTOP');
    let tree = [pid, ...descendants(pid)];
    const running = () => groupRunning(pid) || tree.some((p) => isRunning(p));
    signalGroup(pid, 'SIGTERM');
    for (const p of tree) signalPid(p, 'SIGTERM');
    signalPid(pid, 'SIGKILL'); // stopped, it would never act on SIGTERM
    const deadline = Date.now() + graceMs;
    while (running() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    if (!running()) return;
    this.log().warn(`the Puppet worker (pid ${pid}) or what it runs survived SIGTERM: sending SIGKILL`);
    tree = [...new Set([...tree, ...tree.flatMap((p) => descendants(p))])];
    signalGroup(pid, 'SIGKILL');
    for (const p of tree) signalPid(p, 'SIGKILL');
    const end = Date.now() + AFTER_KILL_MS;
    while (running() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  }
}

/** `check Cron[backup]`, `compile`. */
function describeRequest(op: WorkerOp, fields: Readonly<Record<string, unknown>>): string {
  const r = fields.resource;
  if (typeof r === 'object' && r !== null && 'type' in r && 'title' in r) return `${op} ${String(r.type)}[${String(r.title)}]`;
  return op;
}

function abortError(what: string, signal: AbortSignal | undefined): PuppetWorkerError {
  const reason: unknown = signal?.reason;
  const timedOut = isTimeoutReason(reason);
  const why = reason instanceof Error ? `: ${reason.message}` : '';
  return new PuppetWorkerError(`Puppet worker: ${what} ${timedOut ? 'timed out' : 'was cancelled'}${why}`, timedOut ? 'TimeoutError' : 'AbortError');
}

function exitText(proc: Proc): string {
  if (proc.exitCode !== null) return `exited with code ${proc.exitCode}`;
  if (proc.exitSignal !== null) return `was killed by ${proc.exitSignal}`;
  return 'exited';
}

function tailSuffix(proc: Proc, secrets: readonly string[]): string {
  const tail = proc.stderrTail.slice(-5).map((l) => redactText(l, secrets));
  return tail.length === 0 ? '' : `; stderr: ${tail.join(' | ')}`;
}
