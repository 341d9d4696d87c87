/**
 * Translation changes between the two sides: resources whose status moved (native → degraded → fallback is a
 * migration regression; the other way an improvement), and attributes that stopped translating. Resources only
 * on one side are the Puppet-level diff's business, not this one's.
 */
import type { ResourceReport, Status, TranslationReport } from '../report.js';

export interface StatusChange {
  readonly ref: string;
  readonly from: Status;
  readonly to: Status;
  readonly file?: string;
  readonly line?: number;
}

export interface NewNote {
  readonly ref: string;
  readonly attribute: string;
  readonly message: string;
}

export interface TranslationDiff {
  /** Every status change, regressions included. */
  readonly changes: readonly StatusChange[];
  /** The changes to a worse status. */
  readonly regressions: readonly StatusChange[];
  /** Attributes dropped or refused in the new translation that were not in the old one. */
  readonly newNotes: readonly NewNote[];
}

const RANK: Record<Status, number> = { native: 0, degraded: 1, fallback: 2 };

export function isRegression(c: StatusChange): boolean {
  return RANK[c.to] > RANK[c.from];
}

export function diffTranslation(from: TranslationReport, to: TranslationReport): TranslationDiff {
  const old = new Map<string, ResourceReport>(from.resources.map((r) => [r.ref, r]));
  const changes: StatusChange[] = [];
  const newNotes: NewNote[] = [];
  for (const r of to.resources) {
    const o = old.get(r.ref);
    if (!o) continue;
    if (o.status !== r.status) {
      changes.push({
        ref: r.ref,
        from: o.status,
        to: r.status,
        ...(r.file !== undefined ? { file: r.file } : {}),
        ...(r.line !== undefined ? { line: r.line } : {}),
      });
    }
    const had = new Set(o.notes.map((n) => `${n.attribute}\f${n.message}`));
    for (const n of r.notes) if (!had.has(`${n.attribute}\f${n.message}`)) newNotes.push({ ref: r.ref, attribute: n.attribute, message: n.message });
  }
  const byRef = (a: { ref: string }, b: { ref: string }) => (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0);
  changes.sort(byRef);
  newNotes.sort(byRef);
  return { changes, regressions: changes.filter(isRegression), newNotes };
}

export function hasTranslationChanges(t: TranslationDiff | undefined): boolean {
  return t !== undefined && (t.changes.length > 0 || t.newNotes.length > 0);
}
