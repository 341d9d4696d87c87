/**
 * The translation report: every leaf resource is native, degraded (translated, with the dropped attributes
 * named) or fallback (with the reason), at its file:line; coverage per Puppet type; untranslated attributes
 * grouped by frequency with constant messages ("3x File[...] backup: ..."). Never a Sensitive value.
 */
import type { Note } from './rules.js';

export type Status = 'native' | 'degraded' | 'fallback';

export interface ResourceReport {
  readonly ref: string;
  readonly file?: string;
  readonly line?: number;
  readonly status: Status;
  readonly kind: string;
  readonly name: string;
  /** Attributes dropped (degraded) or refused (fallback), with constant messages. */
  readonly notes: readonly Note[];
  /** Attributes translated natively with a note: they only shape Puppet's own output (show_diff, loglevel). */
  readonly info?: readonly Note[];
  /** Why the resource went to the fallback. */
  readonly reason?: string;
  /** Names of the Puppet attributes that held Sensitive values. */
  readonly sensitive?: readonly string[];
  readonly exported?: boolean;
}

export interface TypeCoverage {
  readonly type: string;
  readonly total: number;
  readonly native: number;
  readonly degraded: number;
  readonly fallback: number;
  /** Percentages of total, one decimal. */
  readonly nativePct: number;
  readonly degradedPct: number;
  readonly fallbackPct: number;
}

export interface AttributeStat {
  readonly count: number;
  readonly type: string;
  /** Absent for a whole-type fallback. */
  readonly attribute?: string;
  readonly message: string;
  /** `native`: translated, with a note (the attribute only shapes Puppet's own output). */
  readonly status: Status;
  /** `3x File[...] backup: no filebucket: backups are not made` */
  readonly text: string;
}

export interface TranslationReport {
  readonly node: string;
  readonly source: string;
  readonly resources: readonly ResourceReport[];
  readonly coverage: { readonly total: TypeCoverage; readonly types: readonly TypeCoverage[] };
  readonly attributes: readonly AttributeStat[];
  /** Classes, stages, define instances and anchors: flattened into edges, no vertices. */
  readonly containers: number;
  readonly edges: number;
}

export const MSG_NO_NATIVE = 'no native translation yet';

const pct = (n: number, total: number) => (total === 0 ? 0 : Math.round((n * 1000) / total) / 10);

function coverage(type: string, rs: readonly ResourceReport[]): TypeCoverage {
  const c = { native: 0, degraded: 0, fallback: 0 };
  for (const r of rs) c[r.status]++;
  const total = rs.length;
  return { type, total, ...c, nativePct: pct(c.native, total), degradedPct: pct(c.degraded, total), fallbackPct: pct(c.fallback, total) };
}

const typeOfRef = (ref: string) => ref.slice(0, ref.indexOf('['));

export function buildReport(node: string, source: string, resources: ResourceReport[], containers: number, edges: number): TranslationReport {
  const sorted = [...resources].sort((a, b) => (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0));
  const byType = new Map<string, ResourceReport[]>();
  for (const r of sorted) {
    const t = typeOfRef(r.ref);
    let l = byType.get(t);
    if (!l) byType.set(t, (l = []));
    l.push(r);
  }
  const types = [...byType.keys()].sort().map((t) => coverage(t, byType.get(t)!));
  const groups = new Map<string, { count: number; type: string; attribute?: string; message: string; status: Status }>();
  for (const r of sorted) {
    const type = typeOfRef(r.ref);
    const items: { attribute?: string; message: string; status: Status }[] =
      r.status === 'native'
        ? []
        : r.notes.length
          ? r.notes.map((n) => ({ ...n, status: r.status }))
          : [{ message: r.reason ?? MSG_NO_NATIVE, status: r.status }];
    // Attributes translated natively with a note are reported too: nothing is dropped without a line.
    if (r.status !== 'fallback') for (const n of r.info ?? []) items.push({ ...n, status: 'native' });
    for (const n of items) {
      const status = n.status;
      const key = `${status}\0${type}\0${n.attribute ?? ''}\0${n.message}`;
      const g = groups.get(key);
      if (g) g.count++;
      else groups.set(key, { count: 1, type, ...(n.attribute !== undefined ? { attribute: n.attribute } : {}), message: n.message, status });
    }
  }
  const attributes = [...groups.values()]
    .map((g) => ({
      ...g,
      text: `${g.count}x ${g.type}[...] ${g.attribute ? `${g.attribute}: ` : ''}${g.message}${g.status === 'fallback' ? ' (fallback)' : g.status === 'native' ? ' (native, noted)' : ''}`,
    }))
    .sort((a, b) => b.count - a.count || (a.text < b.text ? -1 : a.text > b.text ? 1 : 0));
  return {
    node,
    source,
    resources: sorted,
    coverage: { total: coverage('all', sorted), types },
    attributes,
    containers,
    edges,
  };
}

/** The human summary, for stderr. */
export function formatReport(rep: TranslationReport): string {
  const t = rep.coverage.total;
  const out = [
    `${rep.source}: ${t.total} resources: ${t.native} native, ${t.degraded} degraded, ${t.fallback} fallback (${t.nativePct}% native); ` +
      `${rep.edges} edges, ${rep.containers} containers flattened`,
  ];
  if (rep.coverage.types.length) {
    const w = Math.max(4, ...rep.coverage.types.map((c) => c.type.length));
    out.push(`  ${'type'.padEnd(w)}  total  native  degraded  fallback`);
    for (const c of rep.coverage.types) {
      out.push(
        `  ${c.type.padEnd(w)}  ${String(c.total).padStart(5)}  ${`${c.nativePct}%`.padStart(6)}  ${`${c.degradedPct}%`.padStart(8)}  ${`${c.fallbackPct}%`.padStart(8)}`,
      );
    }
  }
  if (rep.attributes.length) {
    out.push('untranslated:');
    for (const a of rep.attributes) out.push(`  ${a.text}`);
  }
  const flagged = rep.resources.filter((r) => r.status !== 'native' || r.sensitive?.length);
  if (flagged.length) {
    out.push('resources:');
    for (const r of flagged) {
      const at = r.file ? `${r.file}:${r.line ?? '?'}: ` : r.line !== undefined ? `line ${r.line}: ` : '';
      const what = r.notes.map((n) => `${n.attribute}: ${n.message}`).join('; ') || r.reason || '';
      const sens = r.sensitive?.length ? ` [sensitive: ${r.sensitive.join(', ')}]` : '';
      out.push(`  ${at}${r.ref}: ${r.status}${what ? `: ${what}` : ''}${sens}`);
    }
  }
  return out.join('\n') + '\n';
}
