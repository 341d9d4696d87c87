/**
 * Redaction: the one helper every printer uses so that Sensitive values are applied but never printed.
 *
 * A resource marks its sensitive parameters by name (`meta: {sensitive: [content]}`; a dotted path such as
 * `parameters.content` or `companions.0.parameters.content` reaches inside a map or list). Two uses:
 *
 * - structure: `redactParams` replaces every scalar at those paths by `[redacted]` (lists and maps keep their
 *   shape, so a printed graph still validates);
 * - free text: a `Redactor` made from the clear values replaces every occurrence of each of them (every
 *   string leaf, however short: a garbled log line is better than a printed secret) in a log line or an error
 *   message, in one pass, longest first.
 */
import { errorText } from './errors.js';
import type { Logger } from './logger.js';

export const REDACTED = '[redacted]';

/** The keys of a dotted path; the last key of a Puppet `parameters` map is taken whole (a name could hold a dot). */
export function pathKeys(path: string): string[] {
  const parts = path.split('.');
  const at = parts.indexOf('parameters');
  return at < 0 || at === parts.length - 1 ? parts : [...parts.slice(0, at + 1), parts.slice(at + 1).join('.')];
}

/** Replaces every scalar inside a value by the marker, keeping lists and maps. */
function redactValue(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(redactValue);
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, redactValue(x)]));
  return REDACTED;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

/** The value at `keys` (keys and list indexes), or undefined. */
function valueAt(v: unknown, keys: readonly string[]): unknown {
  let cur = v;
  for (const k of keys) {
    if (Array.isArray(cur)) {
      const i = /^\d+$/.test(k) ? Number(k) : -1;
      cur = i >= 0 && i < cur.length ? (cur as unknown[])[i] : undefined;
    } else if (isRecord(cur) && Object.hasOwn(cur, k)) cur = cur[k];
    else return undefined;
  }
  return cur;
}

/** The value with the part at `keys` redacted; a path that leads nowhere changes nothing. */
function redactAt(v: unknown, keys: readonly string[]): unknown {
  if (keys.length === 0) return redactValue(v);
  const [head, ...rest] = keys as [string, ...string[]];
  if (Array.isArray(v)) {
    const i = /^\d+$/.test(head) ? Number(head) : -1;
    if (i < 0 || i >= v.length) return v;
    const out = [...(v as unknown[])];
    out[i] = redactAt(v[i], rest);
    return out;
  }
  if (!isRecord(v) || !Object.hasOwn(v, head)) return v;
  return { ...v, [head]: redactAt(v[head], rest) };
}

/** Parameters as they may be printed: the values at the sensitive paths replaced by the marker. */
export function redactParams(params: Readonly<Record<string, unknown>>, sensitive: readonly string[] | undefined): Readonly<Record<string, unknown>> {
  if (!sensitive?.length) return params;
  let out: unknown = params;
  for (const path of sensitive) out = redactAt(out, pathKeys(path));
  return out as Record<string, unknown>;
}

/** The string leaves of a value (numbers and booleans as their text): what free text must not contain. */
export function secretStrings(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return [String(v)];
  if (Array.isArray(v)) return v.flatMap(secretStrings);
  if (isRecord(v)) return Object.values(v).flatMap(secretStrings);
  return [];
}

/** The clear values at the sensitive paths of `params`. */
export function secretsOf(params: Readonly<Record<string, unknown>>, sensitive: readonly string[] | undefined): string[] {
  return (sensitive ?? []).flatMap((path) => secretStrings(valueAt(params, pathKeys(path))));
}

/** Replaces every occurrence of the given secrets in free text by the marker. */
export class Redactor {
  private readonly re: RegExp | undefined;

  constructor(secrets: Iterable<string>) {
    const given = Array.isArray(secrets) ? (secrets as readonly string[]) : [...secrets];
    if (given.length === 0) return; // the common case (nothing Sensitive): nothing to build
    const list = [...new Set(given.filter((s) => s !== ''))].sort((a, b) => b.length - a.length);
    this.re = list.length ? new RegExp(list.map(escapeRegExp).join('|'), 'g') : undefined;
  }

  /** Whether there is anything to redact. */
  get active(): boolean {
    return this.re !== undefined;
  }

  text(s: string): string {
    return this.re ? s.replace(this.re, REDACTED) : s;
  }

  /**
   * The thrown value as an Error whose message is redacted (a new one when the text changed: the original stays
   * out of reach, with no `cause` and no stack holding the text).
   */
  error(e: unknown): Error {
    const msg = errorText(e);
    const clean = this.text(msg);
    if (e instanceof Error && clean === msg) return e;
    const out = new Error(clean);
    if (e instanceof Error) out.name = e.name;
    return out;
  }

  /** A logger that redacts every line before `log` sees it. */
  logger(log: Logger): Logger {
    if (!this.re) return log;
    return {
      debug: (m) => log.debug(this.text(m)),
      info: (m) => log.info(this.text(m)),
      warn: (m) => log.warn(this.text(m)),
      error: (m) => log.error(this.text(m)),
    };
  }
}

/** Redacts `secrets` from `text` (one-off use; keep a Redactor for repeated use). */
export function redactText(text: string, secrets: Iterable<string>): string {
  return new Redactor(secrets).text(text);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
