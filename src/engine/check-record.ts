/**
 * The change record: what one check/apply of a vertex found and did, as the engine hands it to whoever listens
 * (`EngineOptions.onCheck`: reports, plans, diffs). Built from the kind's `ctx.change` calls, redacted before it
 * leaves the engine; a kind that records nothing still yields one generic change.
 */
import type { Origin } from '../graph/spec.js';
import { REDACTED, type Redactor } from '../observe/redact.js';
import type { Change } from '../resources/resource.js';

/** A change as it leaves the engine: Sensitive values replaced by the marker, and flagged. */
export interface RecordedChange extends Change {
  /** A Sensitive value was replaced (Puppet's event `redacted`). */
  readonly redacted?: boolean;
}

/**
 * - `changed`: the state was wrong and was set right;
 * - `noop`: the state is wrong and was left alone (`--noop` or the `noop` metaparam);
 * - `failed`: the check/apply threw (`error` says why).
 */
export type CheckOutcome = 'changed' | 'noop' | 'failed';

export interface CheckRecord {
  /** The vertex, `kind[name]` (for an autogroup: its first member's); a Sensitive value in the name is redacted. */
  readonly id: string;
  readonly kind: string;
  readonly name: string;
  /** Where the resource came from (a translated Puppet resource: `Type[title]`, file, line, tags). */
  readonly origin?: Origin;
  readonly outcome: CheckOutcome;
  /** At least one for `changed` and `noop`; what was recorded before the failure for `failed`. */
  readonly changes: readonly RecordedChange[];
  /**
   * Drift repaired: the vertex had reached its state before, and something outside changed it (Puppet's
   * `corrective_change`). False for the first run of a new or replaced resource.
   */
  readonly corrective: boolean;
  /** The run was caused by a refresh over a notify edge. */
  readonly refresh: boolean;
  /** Date.now() when the check/apply started. */
  readonly at: number;
  readonly ms: number;
  /** For `failed`: the error text, redacted. */
  readonly error?: string;
}

/** Where a vertex sends its records, and how its values are redacted. */
export interface ChangeRedaction {
  /** Parameter names marked sensitive (first component of each `meta.sensitive` path). */
  readonly sensitive: ReadonlySet<string>;
  /** Replaces clear secret values in free text. */
  readonly redactor: Redactor | undefined;
}

/** The change with Sensitive values replaced: the whole value of a sensitive property, secrets inside any text. */
export function redactChange(c: Change, r: ChangeRedaction | undefined): RecordedChange {
  if (!r || (r.sensitive.size === 0 && !r.redactor?.active)) return c;
  const text = (s: string) => r.redactor?.text(s) ?? s;
  if (r.sensitive.has(c.property)) {
    const out: RecordedChange = { ...c, message: text(c.message), redacted: true };
    return {
      ...out,
      ...(c.previous !== undefined ? { previous: REDACTED } : {}),
      ...(c.desired !== undefined ? { desired: REDACTED } : {}),
    };
  }
  const prev = deepText(c.previous, text);
  const want = deepText(c.desired, text);
  const message = text(c.message);
  const changed = prev.changed || want.changed || message !== c.message;
  return changed
    ? {
        ...c,
        message,
        ...(c.previous !== undefined ? { previous: prev.value } : {}),
        ...(c.desired !== undefined ? { desired: want.value } : {}),
        redacted: true,
      }
    : c;
}

function deepText(v: unknown, text: (s: string) => string): { value: unknown; changed: boolean } {
  if (typeof v === 'string') {
    const t = text(v);
    return { value: t, changed: t !== v };
  }
  if (Array.isArray(v)) {
    const parts = v.map((x) => deepText(x, text));
    return parts.some((p) => p.changed) ? { value: parts.map((p) => p.value), changed: true } : { value: v, changed: false };
  }
  if (typeof v === 'object' && v !== null) {
    const parts = Object.entries(v).map(([k, x]) => [k, deepText(x, text)] as const);
    return parts.some(([, p]) => p.changed) ? { value: Object.fromEntries(parts.map(([k, p]) => [k, p.value])), changed: true } : { value: v, changed: false };
  }
  return { value: v, changed: false };
}

/** The change a kind that recorded nothing yields: its whole state was wrong. */
export function genericChange(applied: boolean): Change {
  return { property: 'state', message: applied ? 'changed' : 'would change' };
}
