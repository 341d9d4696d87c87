/** The fleet's migration plan (fleet-coverage.ts) as text for a terminal, as Markdown, or as JSON. */
import type { FleetBlocker, FleetCoverage, NodeCoverage } from './fleet-coverage.js';

export type CoverageFormat = 'text' | 'json' | 'markdown';
export const COVERAGE_FORMATS: readonly CoverageFormat[] = ['text', 'json', 'markdown'];

export function formatCoverage(c: FleetCoverage, format: CoverageFormat): string {
  if (format === 'json') return JSON.stringify(c, null, 2) + '\n';
  return format === 'markdown' ? markdown(c) : text(c);
}

function summary(c: FleetCoverage): string {
  const t = c.totals;
  const parts = [
    `${t.nodes} active node${t.nodes === 1 ? '' : 's'}`,
    `${t.translated} translated`,
    `${t.ready} fully native`,
    ...(t.noCatalog ? [`${t.noCatalog} without a catalog`] : []),
    ...(t.failed ? [`${t.failed} failed to translate`] : []),
  ];
  return `${c.source}: ${parts.join(', ')}; ${t.resources} resources, ${t.native} native (${t.nativePct}%)`;
}

const pctText = (n: NodeCoverage, v: number) => (n.status === 'translated' ? `${v}%` : '-');
const share = (n: NodeCoverage, k: 'degraded' | 'fallback') => (n.total === 0 ? 0 : Math.round((n[k] * 1000) / n.total) / 10);

function what(n: NodeCoverage): string {
  if (n.status === 'no-catalog') return `no catalog: ${n.error ?? ''}`;
  if (n.status === 'failed') return `translation failed: ${n.error ?? ''}`;
  return n.blockers.length ? n.blockers.map((b) => `${b.resources}x ${b.label}`).join('; ') : 'ready: 100% native';
}

function text(c: FleetCoverage): string {
  const out = [summary(c), '', 'nodes, in migration order (fewest blockers first):'];
  const w = Math.max(4, ...c.nodes.map((n) => n.node.length));
  out.push(`  ${'node'.padEnd(w)}  resources  native  degraded  fallback  what blocks 100%`);
  for (const n of c.nodes) {
    out.push(
      `  ${n.node.padEnd(w)}  ${String(n.total).padStart(9)}  ${pctText(n, n.nativePct).padStart(6)}  ${pctText(n, share(n, 'degraded')).padStart(8)}  ` +
        `${pctText(n, share(n, 'fallback')).padStart(8)}  ${what(n)}`,
    );
  }
  out.push('', 'blockers, by the nodes each holds back (add these translations first):');
  if (c.blockers.length === 0) out.push('  none');
  else {
    out.push('  nodes  alone  resources  blocker');
    for (const b of c.blockers) {
      out.push(`  ${String(b.nodes).padStart(5)}  ${String(b.only).padStart(5)}  ${String(b.resources).padStart(9)}  ${b.label}: ${names(b)}`);
    }
  }
  return out.join('\n') + '\n';
}

const names = (b: FleetBlocker) => b.nodeNames.join(', ') + (b.nodes > b.nodeNames.length ? ` and ${b.nodes - b.nodeNames.length} more` : '');

/** A table cell: pipes escaped, line breaks as spaces. */
const cell = (s: string) => s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');

function markdown(c: FleetCoverage): string {
  const out = ['# Migration plan', '', cell(summary(c)), '', '## Nodes, in migration order', ''];
  out.push('| node | resources | native | degraded | fallback | what blocks 100% |', '|---|---:|---:|---:|---:|---|');
  for (const n of c.nodes) {
    out.push(
      `| ${cell(n.node)} | ${n.total} | ${pctText(n, n.nativePct)} | ${pctText(n, share(n, 'degraded'))} | ${pctText(n, share(n, 'fallback'))} | ${cell(what(n))} |`,
    );
  }
  out.push('', '## Blockers, by the nodes each holds back', '');
  if (c.blockers.length === 0) out.push('None: every translated node is 100% native.');
  else {
    out.push('| nodes | alone | resources | blocker | nodes held back |', '|---:|---:|---:|---|---|');
    for (const b of c.blockers) out.push(`| ${b.nodes} | ${b.only} | ${b.resources} | ${cell(b.label)} | ${cell(names(b))} |`);
  }
  out.push('', '"alone": the nodes that translating this blocker makes 100% native.');
  return out.join('\n') + '\n';
}
