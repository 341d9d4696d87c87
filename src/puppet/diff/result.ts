/** The result of a diff run: one entry per node, and the exit code octocatalog-diff would give for it. */
import type { DiffEntry, NodeError } from './entry.js';
import type { GraphDiff } from './graph-diff.js';
import type { TranslationDiff } from './translation-diff.js';

export interface NodeDiff {
  readonly node: string;
  /** The Puppet-level differences (octocatalog-diff's entries); empty when the node failed. */
  readonly entries: readonly DiffEntry[];
  /** Set when the node could not be compiled or read at a side: the other nodes are still reported. */
  readonly error?: NodeError;
  /** The translated graphs compared (vertices, edges), when both sides translated. */
  readonly graph?: GraphDiff;
  /** Why there is no graph section: a side did not translate (reported, not a failure). */
  readonly graphError?: string;
  /** Resources whose translation status changed, and new untranslated attributes. */
  readonly translation?: TranslationDiff;
}

export const EXIT_NO_DIFF = 0;
export const EXIT_ERROR = 1;
export const EXIT_DIFF = 2;

export interface ExitPolicy {
  /** `--fail-on regression`: a translation regression is an error. */
  readonly failOnRegression?: boolean;
}

/** What keeps a node from passing: a failure, a new dependency cycle, or (when asked) a translation regression. */
export function nodeFailures(n: NodeDiff, policy: ExitPolicy = {}): string[] {
  const out: string[] = [];
  if (n.error) out.push(`${n.node}: ${n.error.message}`);
  for (const c of n.graph?.newCycles ?? []) out.push(`${n.node}: the change introduces a dependency cycle: ${c.join(' -> ')}`);
  if (policy.failOnRegression) for (const t of n.translation?.regressions ?? []) out.push(`${n.node}: ${t.ref} regressed from ${t.from} to ${t.to}`);
  return out;
}

/** 1 when any node failed, else 2 when any node has Puppet-level differences, else 0 (as octocatalog-diff). */
export function exitCode(nodes: readonly NodeDiff[], policy: ExitPolicy = {}): number {
  if (nodes.some((n) => nodeFailures(n, policy).length > 0)) return EXIT_ERROR;
  return nodes.some((n) => n.entries.length > 0) ? EXIT_DIFF : EXIT_NO_DIFF;
}
