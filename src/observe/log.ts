/**
 * The process log: stderr, `HH:MM:SS prefix: message`. Quiet by default (changes, warnings, errors);
 * `-v` adds debug lines (events, pokes, timings).
 */
import type { Logger } from '../resources/resource.js';

export type Level = 'debug' | 'info' | 'warn' | 'error';
const RANK: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export interface LogSink {
  write(line: string): void;
}

let threshold: Level = 'info';
let sink: LogSink = { write: (line) => process.stderr.write(line) };

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

function stamp(d: Date): string {
  const p = (n: number) => (n < 10 ? `0${n}` : String(n));
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

function emit(level: Level, prefix: string, msg: string): void {
  if (RANK[level] < RANK[threshold]) return;
  const tag = level === 'warn' ? 'warning: ' : level === 'error' ? 'error: ' : '';
  const head = `${stamp(new Date())} ${prefix ? `${prefix}: ` : ''}${tag}`;
  sink.write(msg.includes('\n') ? msg.split('\n').map((l) => head + l + '\n').join('') : `${head}${msg}\n`);
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
