/**
 * Property-based tests of the schema and the semantic checks on specs that never were YAML (a translated catalog,
 * a collected export): checkSpec, then what `mgmt validate` adds (automatic edges and the cycles through them).
 * Whatever the spec, they return, every error has its file:line, and no resource is created.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { registry } from '../../src/cli/registry.js';
import { autoEdges } from '../../src/engine/autoedges.js';
import { checkSpec } from '../../src/graph/check-spec.js';
import { cycleDiagnostics } from '../../src/graph/cycles.js';
import { hasErrors } from '../../src/graph/diagnostics.js';
import { metaParams } from '../../src/graph/metaparams.js';
import { type EdgeSpec, type GraphSpec, type ResourceSpec, vertexId } from '../../src/graph/spec.js';
import { anyText, assertLocated, fuzz, nested, scalar, spyRegistry, trickyScalar } from './fuzz.js';

const spy = spyRegistry(registry);
const FILE = 'spec.yaml';
const kinds = registry.all().map((k) => k.kind);
const paramNames = [...new Set(registry.all().flatMap((k) => Object.keys(k.params)))];
const pos = fc.record({ file: fc.constant(FILE), line: fc.integer({ min: 1, max: 500 }), col: fc.integer({ min: 1, max: 80 }) });
const name = fc.oneof(trickyScalar, anyText(8), fc.constantFrom('/tmp/a', '/tmp/a/b', '/tmp/a/', 'root', 'nginx', 'echo hi'));

/** Values typed as a loader types them, or not (a forged export can hold anything JSON holds). */
const typed = fc.oneof(
  scalar,
  fc.array(fc.oneof(trickyScalar, anyText(6)), { maxLength: 3 }),
  fc.dictionary(anyText(4), fc.string(), { maxKeys: 3 }),
  nested(scalar),
);

const resource: fc.Arbitrary<ResourceSpec> = fc
  .record({
    kind: fc.oneof({ weight: 9, arbitrary: fc.constantFrom(...kinds) }, { weight: 1, arbitrary: anyText(5) }),
    name,
    params: fc.dictionary(fc.constantFrom(...paramNames, 'bogus'), typed, { maxKeys: 6 }),
    meta: fc.dictionary(fc.constantFrom(...Object.keys(metaParams)), fc.oneof(scalar, fc.array(fc.string(), { maxLength: 2 })), { maxKeys: 3 }),
    pos,
  })
  .map((r) => r as ResourceSpec);

const spec: fc.Arbitrary<GraphSpec> = fc
  .tuple(
    fc.oneof(name, fc.constant('')),
    fc.array(resource, { maxLength: 12 }),
    fc.array(resource, { maxLength: 3 }),
    // edges mostly between resources of the graph (cycles, duplicates, self loops), some to nothing
    fc.array(fc.tuple(fc.nat(), fc.nat(), fc.boolean(), pos, fc.option(fc.record({ kind: fc.string(), name: fc.string() }))), { maxLength: 12 }),
  )
  .map(([graph, resources, exports, pairs]) => {
    const refOf = (i: number) => {
      const r = resources[i % Math.max(1, resources.length)];
      return r ? { kind: r.kind, name: r.name } : { kind: 'noop', name: 'missing' };
    };
    const edges: EdgeSpec[] = pairs.map(([a, b, notify, p, stray]) => {
      const from = refOf(a);
      const to = stray ?? refOf(b);
      return { name: `${from.kind}[${from.name}] -> ${to.kind}[${to.name}]`, from, to, notify, pos: p };
    });
    return { graph, resources, exports, edges, collect: [], source: FILE };
  });

describe('fuzz: schema and semantic checks', () => {
  it('any spec: no crash, no hang, every error at its file:line, nothing created', (t) => {
    fuzz(t, 'schema + semantic checks', spec, (s) => {
      const ds = checkSpec(spy.registry, s);
      assertLocated(ds, FILE);
      if (!hasErrors(ds)) {
        // what `mgmt validate` adds for a graph that passed: automatic edges and the cycles they make
        const auto = autoEdges(spy.registry, s.resources, s.edges);
        const pos = new Map(s.resources.map((r) => [vertexId(r), r.pos] as const));
        const cycles = cycleDiagnostics(
          s.resources.map((r) => vertexId(r)),
          [...s.edges, ...auto],
          { onlyThroughAutoEdges: true, posOf: (id) => pos.get(id) },
        );
        assertLocated(cycles, FILE);
      }
      assert.equal(spy.created(), 0);
    });
  });
});
