/**
 * The process log: stderr, `HH:MM:SS prefix: message`. Quiet by default (changes, warnings, errors);
 * `-v` adds debug lines (events, pokes, timings).
 */
import type { Logger } from './logger.js';

export type Level = 'debug' | 'info' | 'warn' | 'error';
const RANK: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export interface LogSink {
  write(line: string): void;
}

let threshold: Level = 'info';

/**
 * stderr, written once per turn of the event loop: a run that creates 10,000 files logs 10,000 lines, and one
 * write per line cost more than the files themselves. What is pending is written before the process exits.
 */
let pending: string[] = [];
let flushScheduled = false;
export function flushLog(): void {
  flushScheduled = false;
  if (pending.length === 0) return;
  const text = pending.join('');
  pending = [];
  process.stderr.write(text);
}
process.on('exit', flushLog);
const stderrSink: LogSink = {
  write(line) {
    pending.push(line);
    if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flushLog);
    }
  },
};
let sink: LogSink = stderrSink;

export function setLogLevel(level: Level): void {
  threshold = level;
}

export function isDebug(): boolean {
  return threshold === 'debug';
}

/** Redirects the log (tests). */
export function setLogSink(s: LogSink): void {
  sink = s;
}

let stampSecond = -1;
let stampText = '';
/** `HH:MM:SS` local time, formatted once per second. */
function stamp(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== stampSecond) {
    const d = new Date(now);
    const p = (n: number) => (n < 10 ? `0${n}` : String(n));
    stampText = `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
    stampSecond = second;
  }
  return stampText;
}

function emit(level: Level, prefix: string, msg: string): void {
  if (RANK[level] < RANK[threshold]) return;
  const tag = level === 'warn' ? 'warning: ' : level === 'error' ? 'error: ' : '';
  const head = `${stamp()} ${prefix ? `${prefix}: ` : ''}${tag}`;
  sink.write(
    msg.includes('\n')
      ? msg
          .split('\n')
          .map((l) => head + l + '\n')
          .join('')
      : `${head}${msg}\n`,
  );
}

/** A logger whose lines start with `prefix:` (`main`, `engine`, `file[/etc/motd]`...). */
export function logger(prefix: string): Logger {
  return new PrefixedLogger(prefix);
}

/** One small object per logger (methods on the prototype): a 10,000-vertex graph has 10,000 of them. */
class PrefixedLogger implements Logger {
  constructor(private readonly prefix: string) {}
  debug(m: string): void {
    emit('debug', this.prefix, m);
  }
  info(m: string): void {
    emit('info', this.prefix, m);
  }
  warn(m: string): void {
    emit('warn', this.prefix, m);
  }
  error(m: string): void {
    emit('error', this.prefix, m);
  }
}
