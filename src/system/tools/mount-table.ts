/**
 * The kernel's mount table: what is mounted where (/proc/self/mountinfo), watching it for changes, and changing
 * it with mount(8) and umount(8).
 *
 * Watching: inotify reports nothing for /proc/self/mountinfo (fs.watch on it never fires; checked on Linux 6.1),
 * but poll(2) on it wakes on every mount table change, and `findmnt --poll` (util-linux) turns that into one output
 * line per change: `<action> <target>`. One findmnt process is shared by every subscriber in this process and is
 * stopped with the last one; each line is dispatched to the subscribers of its mount point. If findmnt cannot be
 * started, or keeps dying, the table is polled once a second instead (compare the whole text; every subscriber is
 * told of a change), with one warning.
 */
import { readFile } from 'node:fs/promises';
import { describeOutcome, outputTail, run, startLines, type LineProcess, type ProcessResult } from '../proc/launcher.js';
import { errorText } from '../../observe/errors.js';
import { SYSTEM_TOOL_PATH } from './tool-path.js';

export const MOUNTINFO = '/proc/self/mountinfo';

/** How long mount(8) and umount(8) may take (a network file system that does not answer). */
export const MOUNT_TIMEOUT_MS = 90_000;

/** The environment of mount(8)/umount(8)/findmnt: standard paths, untranslated messages. */
const ENV = { PATH: SYSTEM_TOOL_PATH, LC_ALL: 'C' };

export interface MountinfoEntry {
  readonly mountPoint: string;
  readonly fstype: string;
  readonly source: string;
  /** Per-mount options (`rw,relatime`). */
  readonly options: string;
}

/** Decodes the octal escapes of mountinfo (`\040` space, `\011` tab, `\012` newline, `\134` backslash). */
function unescape(s: string): string {
  return s.includes('\\') ? s.replace(/\\([0-3][0-7]{2})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))) : s;
}

/**
 * Parses /proc/self/mountinfo (proc(5)): `id parent major:minor root mountpoint options [optional...] - fstype
 * source superoptions`. Malformed lines are skipped.
 */
export function parseMountinfo(text: string): MountinfoEntry[] {
  const out: MountinfoEntry[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const f = line.split(' ');
    const sep = f.indexOf('-', 6);
    if (f.length < 6 || sep < 0 || f.length < sep + 3) continue;
    out.push({ mountPoint: unescape(f[4]!), options: f[5]!, fstype: f[sep + 1]!, source: unescape(f[sep + 2]!) });
  }
  return out;
}

/** The file system mounted on top at `mountPoint` (the last mount there), or undefined when nothing is. */
export async function mountedAt(mountPoint: string, mountinfo = MOUNTINFO): Promise<MountinfoEntry | undefined> {
  const entries = parseMountinfo(await readFile(mountinfo, 'utf8'));
  let top: MountinfoEntry | undefined;
  for (const e of entries) if (e.mountPoint === mountPoint) top = e;
  return top;
}

// ---------------------------------------------------------------------------------------------------------------
// mount, umount

/** Combines the caller's signal with the mount deadline. */
function deadline(signal: AbortSignal | undefined): AbortSignal {
  const t = AbortSignal.timeout(MOUNT_TIMEOUT_MS);
  return signal ? AbortSignal.any([signal, t]) : t;
}

async function runMount(argv: string[], what: string, signal: AbortSignal | undefined): Promise<void> {
  let r: ProcessResult;
  try {
    r = await run({ command: { argv }, env: ENV, signal: deadline(signal) });
  } catch (e) {
    throw new Error(`${what}: ${errorText(e)}`, { cause: e });
  }
  if (r.code === 0 && !r.aborted) return;
  const tail = outputTail(r);
  const outcome = r.timedOut && !signal?.aborted ? `timed out after ${MOUNT_TIMEOUT_MS / 1000} s` : describeOutcome(r);
  throw new Error(`${what}: '${argv.join(' ')}' ${outcome}${tail ? `; ${tail}` : ''}`);
}

/** Mounts what `fstab` says for `mountPoint` (`mount --fstab <fstab> <mountPoint>`). */
export function mount(mountPoint: string, fstab: string, signal?: AbortSignal): Promise<void> {
  return runMount(['mount', '--fstab', fstab, '--target', mountPoint], `cannot mount ${mountPoint}`, signal);
}

/** Remounts `mountPoint` with the options `fstab` now gives (`mount --fstab <fstab> -o remount <mountPoint>`). */
export function remount(mountPoint: string, fstab: string, signal?: AbortSignal): Promise<void> {
  return runMount(['mount', '--fstab', fstab, '-o', 'remount', '--target', mountPoint], `cannot remount ${mountPoint}`, signal);
}

/** Unmounts the file system on top at `mountPoint`. */
export function umount(mountPoint: string, signal?: AbortSignal): Promise<void> {
  return runMount(['umount', mountPoint], `cannot unmount ${mountPoint}`, signal);
}

// ---------------------------------------------------------------------------------------------------------------
// watching

export interface MountWatchConfig {
  /** The watch command; default `findmnt --poll`. An empty list: poll the table instead. */
  readonly command?: readonly string[];
  /** Poll interval when the command cannot run; default 1000 ms. */
  readonly pollIntervalMs?: number;
  /** Where the one-time fallback warning goes; default console.error. */
  readonly warn?: (msg: string) => void;
}

const FINDMNT = ['findmnt', '--poll', '--raw', '--noheadings', '--output', 'ACTION,TARGET'];
/** findmnt is restarted after it dies, at most this often; after MAX_RESTARTS quick deaths, polling takes over. */
const RESTART_DELAY_MS = 1000;
const MAX_RESTARTS = 3;

let config: Required<MountWatchConfig> = { command: FINDMNT, pollIntervalMs: 1000, warn: (m) => console.error(m) };
let warned = false;

/** Changes the watch backend (tests); returns a function restoring the previous configuration. */
export function configureMountWatch(c: MountWatchConfig): () => void {
  const previous = config;
  config = { command: c.command ?? previous.command, pollIntervalMs: c.pollIntervalMs ?? previous.pollIntervalMs, warn: c.warn ?? previous.warn };
  return () => {
    config = previous;
  };
}

/** Decodes findmnt's `--raw` escapes (`\x20`). */
function unescapeRaw(s: string): string {
  return s.replace(/\\x([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

type Listener = () => void;
const byTarget = new Map<string, Set<Listener>>();
let subscribers = 0;
let watcher: TableWatcher | undefined;

/** What runs while anybody subscribes: findmnt, or the poller. */
class TableWatcher {
  private proc: LineProcess | undefined;
  private timer: NodeJS.Timeout | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private quickDeaths = 0;
  private lastText: string | undefined;
  /** Resolves once findmnt runs or polling has begun. */
  readonly ready: Promise<void>;
  private markReady: () => void = () => undefined;

  constructor() {
    this.ready = new Promise((resolve) => (this.markReady = resolve));
  }

  start(): void {
    if (config.command.length === 0) this.poll('no watch command configured');
    else void this.spawn();
  }

  private async spawn(): Promise<void> {
    const started = Date.now();
    try {
      const p = await startLines(
        { command: { argv: config.command }, env: ENV, killGraceMs: 500 },
        (stream, line) => {
          if (stream === 'stdout') this.onLine(line);
        },
        (r) => this.onExit(r, Date.now() - started),
      );
      if (this.stopped) await p.stop();
      else this.proc = p;
      this.markReady();
    } catch (e) {
      this.poll(`cannot run ${config.command[0]}: ${errorText(e)}`);
    }
  }

  private onLine(line: string): void {
    const m = /^\S+\s+(.*)$/.exec(line.trim());
    const target = m ? unescapeRaw(m[1]!) : undefined;
    const set = target !== undefined ? byTarget.get(target) : undefined;
    if (target === undefined) notifyAll();
    else if (set) for (const l of [...set]) l();
  }

  private onExit(r: ProcessResult, ranMs: number): void {
    this.proc = undefined;
    if (this.stopped || r.aborted) return;
    notifyAll(); // changes may have been missed meanwhile
    this.quickDeaths = ranMs < 10_000 ? this.quickDeaths + 1 : 0;
    const why = `${config.command[0]} ${describeOutcome(r)}${outputTail(r) ? `; ${outputTail(r)}` : ''}`;
    if (this.quickDeaths > MAX_RESTARTS) {
      this.poll(why);
      return;
    }
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (!this.stopped) void this.spawn();
    }, RESTART_DELAY_MS);
  }

  private poll(reason: string): void {
    this.markReady();
    if (this.stopped) return;
    if (!warned) {
      warned = true;
      config.warn(`mount table watch: ${reason}; polling ${MOUNTINFO} every ${config.pollIntervalMs / 1000} s instead`);
    }
    void readFile(MOUNTINFO, 'utf8').then(
      (t) => (this.lastText = t),
      () => undefined,
    );
    this.timer = setInterval(() => {
      void readFile(MOUNTINFO, 'utf8').then(
        (t) => {
          if (this.stopped || t === this.lastText) return;
          this.lastText = t;
          notifyAll();
        },
        () => undefined,
      );
    }, config.pollIntervalMs);
  }

  /** Stops polling, or kills findmnt and waits until it is gone (reaped). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.markReady();
    if (this.timer) clearInterval(this.timer);
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const p = this.proc;
    this.proc = undefined;
    await p?.stop();
  }
}

function notifyAll(): void {
  for (const set of [...byTarget.values()]) for (const l of [...set]) l();
}

/**
 * Calls `onChange` whenever something is mounted on, unmounted from or remounted at `mountPoint` (and, after the
 * watcher had to restart or when polling, on any change of the table). Resolves with the unsubscribe function once
 * the watch runs; unsubscribing the last subscriber stops findmnt, and its promise resolves once findmnt is gone.
 */
export async function watchMountPoint(mountPoint: string, onChange: () => void): Promise<() => Promise<void>> {
  let set = byTarget.get(mountPoint);
  if (!set) byTarget.set(mountPoint, (set = new Set()));
  const l: Listener = () => onChange();
  set.add(l);
  if (subscribers++ === 0) {
    watcher = new TableWatcher();
    watcher.start();
  }
  const running = watcher!;
  await running.ready;
  let done = false;
  return async () => {
    if (done) return;
    done = true;
    set.delete(l);
    if (set.size === 0) byTarget.delete(mountPoint);
    if (--subscribers === 0) {
      const w = watcher;
      watcher = undefined;
      await w?.stop();
    }
  };
}
