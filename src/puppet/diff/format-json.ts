/**
 * The JSON report: octocatalog-diff's document (`{diff: [...]}`, each entry with its keys `diff_type`, `type`,
 * `title`, `structure`, `old_value`, `new_value`, `old_file`, `old_line`, `new_file`, `new_line`,
 * `old_location`, `new_location`), so the CI glue written for it keeps working; with more than one node each entry
 * also names its `node`. Our own keys come beside it: `mgmt_diff_version` and `nodes` (per node: its entries, its
 * error, the graph and translation changes, and whether it failed).
 */
import { type ExitPolicy, type NodeDiff, nodeFailures } from './result.js';

export const JSON_VERSION = 1;

export function formatJson(nodes: readonly NodeDiff[], policy: ExitPolicy = {}, header?: string): string {
  const many = nodes.length > 1;
  const diff = nodes.flatMap((n) => (many ? n.entries.map((e) => ({ ...e, node: n.node })) : n.entries));
  const doc = {
    diff,
    ...(header !== undefined ? { header } : {}),
    mgmt_diff_version: JSON_VERSION,
    nodes: nodes.map((n) => ({
      node: n.node,
      diff: n.entries,
      error: n.error ?? null,
      failures: nodeFailures(n, policy),
      graph: n.graph ?? null,
      graph_error: n.graphError ?? null,
      translation: n.translation ?? null,
    })),
  };
  return JSON.stringify(doc, null, 2) + '\n';
}
