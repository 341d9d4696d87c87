/** stdlib's `anchor`: a do-nothing resource that only orders; it becomes no vertex (an empty container). */
import type { TypeRules } from '../rules.js';

export const anchorRules: TypeRules<Record<string, never>> = {
  type: 'Anchor',
  kind: null,
  doc: 'Ordering only: no vertex; edges through it connect its predecessors to its successors.',
  name: (r) => r.title,
  attributes: { name: { do: 'drop' } },
  // stdlib's anchor type declares no automatic relationship.
  autorelations: [],
};
