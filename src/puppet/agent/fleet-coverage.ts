/**
 * The fleet's migration plan, from each node's translation report: per node the share of native resources and
 * what blocks 100% (the degraded attributes and fallback types on it), and over the fleet the blockers ranked by
 * how many nodes each holds back: the order in which to migrate nodes (fewest blockers first) and in which to add
 * translations (the blocker holding back the most nodes first).
 */
import type { TranslationReport } from '../report.js';

/** One reason a resource is not native: a fallback type or refused attribute, or a degraded attribute. */
export interface Blocker {
  /** `Tidy: no native translation yet (fallback)`, `File.backup: no filebucket... (degraded)`. */
  readonly label: string;
  readonly type: string;
  readonly attribute?: string;
  readonly message: string;
  readonly status: 'degraded' | 'fallback';
}

export interface NodeBlocker extends Blocker {
  /** Resources on the node it holds back. */
  readonly resources: number;
}

export interface NodeCoverage {
  readonly node: string;
  readonly environment: string | null;
  /** `translated`; `no-catalog` (PuppetDB holds none); `failed` (the catalog did not translate: `error` says why). */
  readonly status: 'translated' | 'no-catalog' | 'failed';
  readonly error?: string;
  readonly total: number;
  readonly native: number;
  readonly degraded: number;
  readonly fallback: number;
  /** Percentage of native resources, one decimal (100 for a node without resources). */
  readonly nativePct: number;
  /** What blocks 100%, most resources first. */
  readonly blockers: readonly NodeBlocker[];
}

export interface FleetBlocker extends Blocker {
  /** Nodes it holds back (it appears on them). */
  readonly nodes: number;
  /** Nodes it alone holds back: translating it makes them 100% native. */
  readonly only: number;
  /** Resources it holds back over the fleet. */
  readonly resources: number;
  /** The nodes it holds back, by name (at most `NODE_NAMES_MAX`). */
  readonly nodeNames: readonly string[];
}

export interface FleetCoverage {
  /** Where the catalogs came from (`PuppetDB https://...`). */
  readonly source: string;
  readonly totals: {
    readonly nodes: number;
    readonly translated: number;
    /** Translated nodes that are 100% native. */
    readonly ready: number;
    readonly noCatalog: number;
    readonly failed: number;
    readonly resources: number;
    readonly native: number;
    readonly nativePct: number;
  };
  /** In migration order: 100% native first, then fewest blockers, then the highest native share; failures last. */
  readonly nodes: readonly NodeCoverage[];
  /** Ranked: most nodes held back first, then most nodes it alone holds back, then most resources. */
  readonly blockers: readonly FleetBlocker[];
}

export const NODE_NAMES_MAX = 20;

const pct = (n: number, total: number) => (total === 0 ? 100 : Math.round((n * 1000) / total) / 10);
const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function labelOf(b: Omit<Blocker, 'label'>): string {
  return `${b.type}${b.attribute !== undefined ? `.${b.attribute}` : ''}: ${b.message} (${b.status})`;
}

/** A translated node's coverage, from its translation report. */
export function nodeCoverage(report: TranslationReport, environment: string | null): NodeCoverage {
  const t = report.coverage.total;
  // Attributes that are native with a note (`info`) hold nothing back.
  const blockers: NodeBlocker[] = report.attributes.flatMap((a) => {
    if (a.status === 'native') return [];
    const b = { type: a.type, ...(a.attribute !== undefined ? { attribute: a.attribute } : {}), message: a.message, status: a.status };
    return [{ label: labelOf(b), ...b, resources: a.count }];
  });
  blockers.sort((a, b) => b.resources - a.resources || cmp(a.label, b.label));
  return {
    node: report.node,
    environment,
    status: 'translated',
    total: t.total,
    native: t.native,
    degraded: t.degraded,
    fallback: t.fallback,
    nativePct: pct(t.native, t.total),
    blockers,
  };
}

/** A node that has no coverage: PuppetDB holds no catalog for it, or its catalog did not translate. */
export function nodeWithout(node: string, environment: string | null, status: 'no-catalog' | 'failed', error: string): NodeCoverage {
  return { node, environment, status, error, total: 0, native: 0, degraded: 0, fallback: 0, nativePct: 0, blockers: [] };
}

const RANK: Readonly<Record<NodeCoverage['status'], number>> = { translated: 0, failed: 1, 'no-catalog': 2 };

/** The fleet's plan from every node's coverage. */
export function fleetCoverage(source: string, nodes: readonly NodeCoverage[]): FleetCoverage {
  const ordered = [...nodes].sort(
    (a, b) => RANK[a.status] - RANK[b.status] || a.blockers.length - b.blockers.length || b.nativePct - a.nativePct || b.total - a.total || cmp(a.node, b.node),
  );
  const byLabel = new Map<string, { b: Blocker; nodes: string[]; only: number; resources: number }>();
  for (const n of ordered) {
    for (const nb of n.blockers) {
      let g = byLabel.get(nb.label);
      if (!g) {
        const { resources: _r, ...b } = nb;
        byLabel.set(nb.label, (g = { b, nodes: [], only: 0, resources: 0 }));
      }
      g.nodes.push(n.node);
      g.resources += nb.resources;
      if (n.blockers.length === 1) g.only++;
    }
  }
  const blockers: FleetBlocker[] = [...byLabel.values()]
    .map((g) => ({ ...g.b, nodes: g.nodes.length, only: g.only, resources: g.resources, nodeNames: g.nodes.slice(0, NODE_NAMES_MAX) }))
    .sort((a, b) => b.nodes - a.nodes || b.only - a.only || b.resources - a.resources || cmp(a.label, b.label));
  const translated = ordered.filter((n) => n.status === 'translated');
  const resources = translated.reduce((s, n) => s + n.total, 0);
  const native = translated.reduce((s, n) => s + n.native, 0);
  return {
    source,
    totals: {
      nodes: ordered.length,
      translated: translated.length,
      ready: translated.filter((n) => n.blockers.length === 0).length,
      noCatalog: ordered.filter((n) => n.status === 'no-catalog').length,
      failed: ordered.filter((n) => n.status === 'failed').length,
      resources,
      native,
      nativePct: pct(native, resources),
    },
    nodes: ordered,
    blockers,
  };
}
