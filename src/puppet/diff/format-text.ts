/**
 * The text report, in the terraform / octocatalog-diff style: per node, `+ Type[title]` for an added resource,
 * `- Type[title]` for a removed one, `~ Type[title]` with its changed attributes below (old → new; multi-line
 * text as a unified diff), then the graph and translation sections, a summary line per node and one overall.
 * Colour (green +, red -, yellow ~) only when asked (the CLI asks on a TTY without NO_COLOR).
 */
import { type DiffEntry, refText } from './entry.js';
import { unifiedDiff } from './file-text.js';
import { type GraphDiff, hasGraphChanges } from './graph-diff.js';
import { type NodeDiff, nodeFailures, type ExitPolicy } from './result.js';
import { hasTranslationChanges, isRegression, type TranslationDiff } from './translation-diff.js';

export interface TextOptions extends ExitPolicy {
  readonly color?: boolean;
  /** `--display-detail-add`: every parameter of an added resource. */
  readonly detailAdd?: boolean;
  /** `--display-source`: the manifest file:line of each resource. */
  readonly source?: boolean;
}

const CODES = { '+': 32, '-': 31, '~': 33, '!': 33, err: 31, dim: 2 } as const;

function painter(on: boolean) {
  return (what: keyof typeof CODES, s: string) => (on ? `\x1b[${CODES[what]}m${s}\x1b[0m` : s);
}

/** A value on one line: text quoted (JSON), null as `(absent)`. */
export function valueLine(v: unknown): string {
  return v === null || v === undefined ? '(absent)' : JSON.stringify(v);
}

const isText = (v: unknown): v is string => typeof v === 'string';
const where = (file: string | null, line: number | null) => (file === null ? '' : `${file}${line === null ? '' : `:${line}`}`);

function sourceOf(e: DiffEntry): string {
  const o = where(e.old_file, e.old_line);
  const n = where(e.new_file, e.new_line);
  if (e.diff_type === '+') return n;
  if (e.diff_type === '-') return o;
  return o === n ? n : `${o || '?'} -> ${n || '?'}`;
}

/** The lines of one value change, indented. */
function changeLines(e: DiffEntry, paint: ReturnType<typeof painter>, indent: string): string[] {
  const path = e.structure.join('::');
  if (isText(e.old_value) && isText(e.new_value) && (e.old_value.includes('\n') || e.new_value.includes('\n'))) {
    const body = unifiedDiff(e.old_value, e.new_value).replace(/\n$/, '').split('\n');
    return [`${indent}${path}:`, ...body.map((l) => `${indent}  ${l.startsWith('+') ? paint('+', l) : l.startsWith('-') ? paint('-', l) : l}`)];
  }
  return [`${indent}${path}: ${paint('-', valueLine(e.old_value))} -> ${paint('+', valueLine(e.new_value))}`];
}

function detailLines(v: unknown, indent: string): string[] {
  const params = (v as { parameters?: Record<string, unknown> } | null)?.parameters ?? {};
  return Object.entries(params).map(([k, x]) => `${indent}${k}: ${valueLine(x)}`);
}

function entryBlocks(entries: readonly DiffEntry[], o: TextOptions, paint: ReturnType<typeof painter>): string[] {
  const out: string[] = [];
  const byRes = new Map<string, DiffEntry[]>();
  for (const e of entries) {
    const k = `${e.diff_type === '+' || e.diff_type === '-' ? e.diff_type : '~'}${refText(e)}`;
    let l = byRes.get(k);
    if (!l) byRes.set(k, (l = []));
    l.push(e);
  }
  const keys = [...byRes.keys()].sort((a, b) => {
    const x = a.slice(1);
    const y = b.slice(1);
    return x < y ? -1 : x > y ? 1 : a < b ? -1 : 1;
  });
  for (const k of keys) {
    const es = byRes.get(k)!.sort((a, b) => {
      const x = a.structure.join('\f');
      const y = b.structure.join('\f');
      return x < y ? -1 : x > y ? 1 : 0;
    });
    const mark = k[0] as '+' | '-' | '~';
    const first = es[0]!;
    const src = o.source ? sourceOf(first) : '';
    out.push(`  ${paint(mark, `${mark} ${refText(first)}`)}${src ? `  ${paint('dim', `(${src})`)}` : ''}`);
    if (mark === '+') {
      if (o.detailAdd) out.push(...detailLines(first.new_value, '      '));
    } else if (mark === '~') for (const e of es) out.push(...changeLines(e, paint, '      '));
  }
  return out;
}

function graphLines(g: GraphDiff, paint: ReturnType<typeof painter>): string[] {
  const out: string[] = [];
  for (const v of g.vertices) out.push(`    ${paint(v.change, `${v.change} vertex ${v.vertex}`)} (${v.ref})`);
  for (const e of g.edges) {
    const arrow = e.notify ? '~>' : '->';
    const what = e.origin === 'autorelation' ? ' (automatic)' : '';
    const was = e.change === '~' ? ` (was ${e.oldNotify ? 'a refresh' : 'ordering only'})` : '';
    out.push(`    ${paint(e.change, `${e.change} edge ${e.from} ${arrow} ${e.to}`)}${what}${was}`);
  }
  for (const c of g.newCycles) out.push(`    ${paint('err', `! new dependency cycle: ${c.join(' -> ')}`)}`);
  return out;
}

function translationLines(t: TranslationDiff, paint: ReturnType<typeof painter>): string[] {
  const out: string[] = [];
  for (const c of t.changes) {
    const at = c.file !== undefined ? ` (${c.file}${c.line !== undefined ? `:${c.line}` : ''})` : '';
    out.push(`    ${isRegression(c) ? paint('-', `regression ${c.ref}: ${c.from} -> ${c.to}`) : paint('+', `${c.ref}: ${c.from} -> ${c.to}`)}${at}`);
  }
  for (const n of t.newNotes) out.push(`    new untranslated: ${n.ref} ${n.attribute}: ${n.message}`);
  return out;
}

export interface Counts {
  readonly add: number;
  readonly change: number;
  readonly remove: number;
}

export function countsOf(entries: readonly DiffEntry[]): Counts {
  const changed = new Set(entries.filter((e) => e.diff_type === '~' || e.diff_type === '!').map(refText));
  return { add: entries.filter((e) => e.diff_type === '+').length, change: changed.size, remove: entries.filter((e) => e.diff_type === '-').length };
}

/** A node's entries, graph and translation sections (no header or summary), indented by two. */
export function nodeBody(n: NodeDiff, o: TextOptions = {}): string[] {
  const paint = painter(o.color === true);
  const out = entryBlocks(n.entries, o, paint);
  if (n.graph && hasGraphChanges(n.graph)) out.push('  graph:', ...graphLines(n.graph, paint));
  if (n.graphError !== undefined) out.push('  graph:', ...n.graphError.split('\n').map((l) => `    ${l}`));
  if (n.translation && hasTranslationChanges(n.translation)) out.push('  translation:', ...translationLines(n.translation, paint));
  return out;
}

export const countText = (c: Counts): string => `${c.add} to add, ${c.change} to change, ${c.remove} to remove`;

/** The text report of a run. */
export function formatText(nodes: readonly NodeDiff[], o: TextOptions = {}): string {
  const paint = painter(o.color === true);
  const out: string[] = [];
  let failed = 0;
  let changed = 0;
  const total = { add: 0, change: 0, remove: 0 };
  for (const n of nodes) {
    const failures = nodeFailures(n, o);
    if (n.error) {
      failed++;
      const at = n.error.file ? ` (${n.error.file}${n.error.line ? `:${n.error.line}` : ''})` : '';
      out.push(`${n.node}:`, `  ${paint('err', `error (${n.error.side}): ${n.error.message}`)}${at}`, `${n.node}: failed.`, '');
      continue;
    }
    const c = countsOf(n.entries);
    total.add += c.add;
    total.change += c.change;
    total.remove += c.remove;
    const any = n.entries.length > 0 || hasGraphChanges(n.graph) || hasTranslationChanges(n.translation);
    if (n.entries.length > 0) changed++;
    if (failures.length > 0) failed++;
    out.push(`${n.node}:`);
    out.push(...nodeBody(n, o));
    if (!any) out.push('  no differences');
    out.push(
      `${n.node}: ${countText(c)}.${failures.length > 0 ? ` ${paint('err', `failed: ${failures.length} problem${failures.length === 1 ? '' : 's'}`)}` : ''}`,
      '',
    );
  }
  out.push(`Diff: ${countText(total)}; ${changed} of ${nodes.length} node${nodes.length === 1 ? '' : 's'} changed, ${failed} failed.`);
  return out.join('\n') + '\n';
}
