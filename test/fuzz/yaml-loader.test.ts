/**
 * Property-based tests of the YAML front door (checkGraphText: syntax, bounds, schema, semantics): whatever the
 * text, it returns (no exception, no hang), every error has its file:line, a graph with an error has no spec, and
 * no resource is created.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { registry } from '../../src/cli/registry.js';
import { hasErrors } from '../../src/graph/diagnostics.js';
import { metaParams } from '../../src/graph/metaparams.js';
import { checkGraphText } from '../../src/graph/read.js';
import { anyText, assertLocated, fuzz, nested, scalar, spyRegistry, toYaml, trickyScalar } from './fuzz.js';

const spy = spyRegistry(registry);
const FILE = 'fuzz.yaml';

function check(text: string): void {
  const r = checkGraphText(spy.registry, text, FILE);
  assertLocated(r.diagnostics, FILE);
  if (r.spec) assert.equal(hasErrors(r.diagnostics), false);
  assert.equal(spy.created(), 0);
}

const kinds = registry.all().map((k) => k.kind);
const paramNames = [...new Set(registry.all().flatMap((k) => Object.keys(k.params)))];
const name = fc.oneof(trickyScalar, anyText(10), fc.constantFrom('a', 'b', '/tmp/a', '/tmp/b/', '@@a'));
const value = nested(scalar);

const resource = fc
  .tuple(
    fc.option(name),
    fc.dictionary(fc.constantFrom(...paramNames, 'bogus'), value, { maxKeys: 6 }),
    fc.option(fc.dictionary(fc.constantFrom(...Object.keys(metaParams), 'bogus'), fc.oneof(scalar, fc.array(scalar, { maxLength: 2 })), { maxKeys: 4 })),
  )
  .map(([n, params, meta]) => ({ ...(n !== null ? { name: n } : {}), ...params, ...(meta ? { meta } : {}) }));

const ref = fc.record({ kind: fc.oneof(fc.constantFrom(...kinds), anyText(4)), name }, { requiredKeys: [] });
const edge = fc.record({ name: fc.string(), from: ref, to: ref, notify: fc.oneof(fc.boolean(), trickyScalar), res: fc.string() }, { requiredKeys: [] });

/** Documents shaped like graphs, mostly close to valid. */
const graphDoc = fc.record(
  {
    graph: fc.oneof(name, fc.constant(null)),
    comment: scalar,
    resources: fc.dictionary(fc.oneof(fc.constantFrom(...kinds), anyText(5)), fc.oneof(fc.array(resource, { maxLength: 5 }), value), { maxKeys: 4 }),
    edges: fc.oneof(fc.array(edge, { maxLength: 4 }), value),
    collect: fc.array(fc.record({ kind: fc.constantFrom(...kinds), pattern: fc.string() }, { requiredKeys: [] }), { maxLength: 2 }),
    remote: fc.string(),
  },
  { requiredKeys: [] },
);

/** What a typo, a half-written save or an attacker does to a text. */
const snippet = fc.constantFrom(
  '&a ',
  '*a',
  '&b [*a, *a] ',
  '[',
  ']',
  '{',
  '}',
  '- ',
  ': ',
  '\n  ',
  '\n',
  '\t',
  '"',
  "'",
  '|',
  '>-',
  '#',
  '\u0000',
  '\ufeff',
  '<<: *a',
  '!!binary ',
  '%YAML 1.2\n',
  '---\n',
  '...\n',
  '? ',
  ',',
  '@',
  '`',
);
const mutated = (text: string): fc.Arbitrary<string> =>
  fc.oneof(
    fc.constant(text),
    fc.nat().map((n) => text.slice(0, n % (text.length + 1))), // a write cut short
    fc.tuple(fc.nat(), snippet).map(([n, s]) => {
      const i = n % (text.length + 1);
      return text.slice(0, i) + s + text.slice(i);
    }),
    fc.tuple(fc.nat(), fc.nat({ max: 8 }), anyText(6)).map(([n, k, s]) => {
      const i = n % (text.length + 1);
      return text.slice(0, i) + s + text.slice(i + k);
    }),
  );

/** Anchors and aliases in every shape: shared subtrees `levels` deep, `width` aliases each. */
const aliasDoc = fc.tuple(fc.integer({ min: 1, max: 14 }), fc.integer({ min: 1, max: 12 }), fc.boolean()).map(([levels, width, inResource]) => {
  const lines = ['graph: g', 'x0: &x0 [lol]'];
  for (let i = 1; i <= levels; i++) lines.push(`x${i}: &x${i} [${Array.from({ length: width }, () => `*x${i - 1}`).join(', ')}]`);
  if (inResource) lines.push('resources:', '  noop:', `  - {name: a, meta: {sema: *x${levels}}}`);
  return lines.join('\n') + '\n';
});

/** Nesting far past the bound, in flow and block style, written or through aliases. */
const deepDoc = fc.tuple(fc.integer({ min: 1, max: 3000 }), fc.constantFrom('[', '{a: ', '- ', '&x ['), fc.boolean()).map(([n, open, closed]) => {
  const close = open === '{a: ' ? '}' : open === '- ' ? '' : ']';
  // `- - - x` is a list in a list in a list: block nesting on one line
  return `graph: g\nx: ${open.repeat(n)}${closed ? 'x' + close.repeat(n) : ''}\n`;
});

describe('fuzz: YAML graph loader', () => {
  it('graph-shaped documents, mutated: no crash, no hang, every error at its file:line, nothing created', (t) => {
    fuzz(
      t,
      'yaml loader (graph documents)',
      graphDoc.chain((d) => mutated(toYaml(d))),
      check,
    );
  });

  it('any text', (t) => {
    fuzz(t, 'yaml loader (any text)', anyText(200), check);
  });

  it('alias bombs and deep nesting are refused in bounded time', (t) => {
    fuzz(t, 'yaml loader (aliases, nesting)', fc.oneof(aliasDoc, deepDoc).chain(mutated), check);
  });
});
