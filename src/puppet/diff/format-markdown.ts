/**
 * The Markdown report, ready for a pull-request comment: a summary table (changed, unchanged, failed nodes and
 * the resource counts), then one collapsible section per distinct diff. Nodes whose diffs are identical (same
 * entries, graph and translation changes; where in the manifests aside) are grouped once: "changed on 14 nodes".
 * Failed nodes come first, each with Puppet's message.
 */
import { type DiffEntry } from './entry.js';
import { countsOf, countText, nodeBody, type TextOptions } from './format-text.js';
import { type NodeDiff, nodeFailures } from './result.js';
import { hasGraphChanges } from './graph-diff.js';
import { hasTranslationChanges } from './translation-diff.js';

/** What makes two nodes' diffs the same: the entries without their locations, the graph, the translation. */
function groupKey(n: NodeDiff): string {
  const strip = (e: DiffEntry) => [e.diff_type, e.type, e.title, e.structure, e.old_value, e.new_value];
  return JSON.stringify([n.entries.map(strip), n.graph ?? null, n.translation ?? null, n.graphError ?? null]);
}

/** Text inside a fenced block: a line of backticks cannot close it early. */
const fenced = (lines: readonly string[]) => ['```diff', ...lines.map((l) => l.replace(/^```/, '\u200b```')), '```'];
const escapeCell = (s: string) => s.replace(/[|<>]/g, (c) => `&#${c.charCodeAt(0)};`);

function nodeList(nodes: readonly NodeDiff[], max = 10): string {
  const names = nodes.map((n) => `\`${escapeCell(n.node)}\``);
  return names.length <= max ? names.join(', ') : `${names.slice(0, max).join(', ')} and ${names.length - max} more`;
}

export function formatMarkdown(nodes: readonly NodeDiff[], o: TextOptions = {}): string {
  const opts = { ...o, color: false };
  const failed = nodes.filter((n) => nodeFailures(n, o).length > 0);
  const changed = nodes.filter((n) => !failed.includes(n) && (n.entries.length > 0 || hasGraphChanges(n.graph) || hasTranslationChanges(n.translation)));
  const unchanged = nodes.filter((n) => !failed.includes(n) && !changed.includes(n));
  const total = nodes.reduce(
    (t, n) => {
      const c = countsOf(n.entries);
      return { add: t.add + c.add, change: t.change + c.change, remove: t.remove + c.remove };
    },
    { add: 0, change: 0, remove: 0 },
  );
  const out = [
    '### mgmt puppet diff',
    '',
    '| | nodes |',
    '|---|---|',
    `| Failed | ${failed.length} |`,
    `| Changed | ${changed.length} |`,
    `| Unchanged | ${unchanged.length} |`,
    '',
    `Resources: ${countText(total)}.`,
    '',
  ];
  for (const n of failed) {
    out.push(`<details open><summary>Failed: <code>${escapeCell(n.node)}</code></summary>`, '');
    out.push(...fenced([...nodeFailures(n, o), ...nodeBody(n, opts)]), '', '</details>', '');
  }
  const groups = new Map<string, NodeDiff[]>();
  for (const n of changed) {
    const k = groupKey(n);
    const g = groups.get(k);
    if (g) g.push(n);
    else groups.set(k, [n]);
  }
  for (const g of groups.values()) {
    const c = countsOf(g[0]!.entries);
    const where = g.length === 1 ? `<code>${escapeCell(g[0]!.node)}</code>` : `${g.length} nodes`;
    out.push(`<details><summary>Changed on ${where}: ${countText(c)}</summary>`, '');
    if (g.length > 1) out.push(`Nodes: ${nodeList(g)}`, '');
    out.push(...fenced(nodeBody(g[0]!, opts)), '', '</details>', '');
  }
  if (unchanged.length > 0) out.push(`Unchanged: ${nodeList(unchanged)}`, '');
  return out.join('\n');
}
