import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { autogroup } from '../../src/engine/autogroup.js';
import type { EdgeSpec, ResourceSpec } from '../../src/graph/spec.js';

const res = (kind: string, name: string, params: Record<string, unknown> = {}, meta: Record<string, unknown> = {}): ResourceSpec => ({
  kind,
  name,
  params,
  meta,
});
const edge = (from: ResourceSpec, to: ResourceSpec): EdgeSpec => ({
  name: `${from.name}->${to.name}`,
  from: { kind: from.kind, name: from.name },
  to: { kind: to.kind, name: to.name },
  notify: false,
});
/** Groups `g` resources by their `state` param (the rule the pkg kind uses, spelled here for the test). */
// eslint-disable-next-line @typescript-eslint/no-base-to-string -- a value read from JSON, D-Bus or a manifest; String() keeps its text whatever its shape
const byState = (r: ResourceSpec) => (r.kind === 'g' ? String(r.params.state ?? 'x') : undefined);
const names = (rs: readonly ResourceSpec[]) => rs.map((r) => `${r.kind}[${r.name}]${r.members ? `{${r.members.map((m) => m.name).join(',')}}` : ''}`);

describe('autogroup', () => {
  it('merges resources with the same key and no path between them, named after the first', () => {
    const [a, b, c] = [res('g', 'a'), res('g', 'b'), res('g', 'c')];
    const other = res('file', 'f');
    const g = autogroup([a, other, b, c], [edge(other, b)], byState);
    assert.deepEqual(names(g.resources), ['g[a]{a,b,c}', 'file[f]']);
    assert.deepEqual(
      g.edges.map((e) => `${e.from.kind}[${e.from.name}] -> ${e.to.kind}[${e.to.name}]`),
      ['file[f] -> g[a]'],
    );
    assert.equal(g.leaderOf.get('g[c]'), 'g[a]');
  });

  it('keeps different keys and different metaparams apart', () => {
    const g = autogroup(
      [res('g', 'a', { state: 'installed' }), res('g', 'b', { state: 'uninstalled' }), res('g', 'c', {}, { retry: 2 }), res('g', 'd', {}, { retry: 2 })],
      [],
      byState,
    );
    assert.deepEqual(names(g.resources), ['g[a]', 'g[b]', 'g[c]{c,d}']);
  });

  it('never merges along a path, directly or through other vertices', () => {
    const [a, b, c, d] = [res('g', 'a'), res('g', 'b'), res('g', 'c'), res('g', 'd')];
    const mid = res('exec', 'mid');
    // a -> mid -> b: a and b cannot merge; c is free; d comes after c.
    const g = autogroup([a, mid, b, c, d], [edge(a, mid), edge(mid, b), edge(c, d)], byState);
    assert.deepEqual(names(g.resources), ['g[a]{a,c}', 'exec[mid]', 'g[b]{b,d}']);
  });

  it('checks each merge against the graph as already merged (no cycle through two groups)', () => {
    // a -> x and y -> b, in the order a, y, x, b. x joins y's group first; then a -> {y,x} -> b is a path,
    // so a and b must stay apart (merged, they would form the cycle {a,b} -> {x,y} -> {a,b}).
    const [a, b, x, y] = [res('g', 'a'), res('g', 'b'), res('h', 'x'), res('h', 'y')];
    const byKind = (r: ResourceSpec) => r.kind;
    const g = autogroup([a, y, x, b], [edge(a, x), edge(y, b)], byKind);
    assert.deepEqual(names(g.resources), ['g[a]', 'h[y]{y,x}', 'g[b]']);
    assert.deepEqual(
      g.edges.map((e) => `${e.from.name}->${e.to.name}`),
      ['a->y', 'y->b'],
    );
  });

  it('leaves graphs without groupable resources as they are', () => {
    const none = autogroup([res('file', 'x')], [], byState);
    assert.equal(none.leaderOf.size, 0);
  });
});
