/** The DOT text of a graph: vertices labelled `kind[name]`, edges by name; notify edges bold, automatic ones dashed. */
import type { EdgeSpec, ResourceSpec } from './spec.js';
import { vertexId } from './spec.js';

export function toDot(name: string, resources: readonly ResourceSpec[], edges: readonly EdgeSpec[]): string {
  const q = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  const lines = [`digraph ${q(name)} {`, '  rankdir=LR;', '  node [shape=box];'];
  for (const id of resources.map((r) => vertexId(r)).sort()) lines.push(`  ${q(id)};`);
  const sorted = [...edges].sort((a, b) => {
    const ka = `${vertexId(a.from)}\n${vertexId(a.to)}`;
    const kb = `${vertexId(b.from)}\n${vertexId(b.to)}`;
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
  for (const e of sorted) {
    const attrs = [`label=${q(e.auto ? 'auto' : e.name)}`];
    if (e.notify) attrs.push('style=bold', 'color=red');
    else if (e.auto) attrs.push('style=dashed');
    lines.push(`  ${q(vertexId(e.from))} -> ${q(vertexId(e.to))} [${attrs.join(', ')}];`);
  }
  lines.push('}');
  return lines.join('\n') + '\n';
}
