/**
 * Property-based tests of the Puppet front door: the catalog reader (any text: JSON, YAML, half-written, hostile)
 * and the translator (any catalog the reader can return). The reader returns a catalog or throws a CatalogError
 * naming the source; the translator returns a spec whose every error names its Puppet resource (or its manifest
 * file:line), or throws a CatalogError naming the catalog; nothing crashes, hangs or creates a resource.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { registry } from '../../src/cli/registry.js';
import { checkSpec } from '../../src/graph/check-spec.js';
import { formatDiagnostic } from '../../src/graph/diagnostics.js';
import { type Catalog, CatalogError, type CatalogResource, readCatalog } from '../../src/puppet/catalog.js';
import { translateCatalog } from '../../src/puppet/translate.js';
import { metaparamRules, typeRules } from '../../src/puppet/types/index.js';
import { anyText, fuzz, nested, scalar, spyRegistry, toYaml, trickyScalar } from './fuzz.js';

const spy = spyRegistry(registry);
const SOURCE = 'site.json';

const types = [...typeRules.keys(), 'Class', 'Stage', 'Mgmt::Vhost', 'Sysctl', 'Foo'];
const attributes = [...new Set([...[...typeRules.values()].flatMap((r) => Object.keys(r.attributes)), ...Object.keys(metaparamRules)])];
const title = fc.oneof(trickyScalar, anyText(8), fc.constantFrom('/tmp/a', '/tmp/a/b', '/tmp/d/', 'main', 'nginx', 'root', 'echo hi', 'Settings'));
const puppetValue = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.oneof(
      scalar,
      fc.constantFrom('present', 'absent', 'file', 'directory', 'link', 'running', 'stopped', 'true', 'false', 'latest', 'installed', 'purged', 'mounted'),
    ),
  },
  { weight: 2, arbitrary: nested(scalar) },
  // the face's special forms (deferred values, Sensitive, Binary...) and references
  { weight: 1, arbitrary: fc.record({ __ptype: fc.constantFrom('Sensitive', 'Deferred', 'Binary', 'Timespan', 'x'), __pvalue: scalar }, { requiredKeys: [] }) },
);

function catalogResource(refs: readonly string[]): fc.Arbitrary<CatalogResource> {
  const ref = refs.length ? fc.constantFrom(...refs) : fc.constant('File[/tmp/a]');
  return fc
    .record(
      {
        type: fc.constantFrom(...types),
        title,
        file: fc.constantFrom('/etc/puppet/site.pp', 'modules/x/manifests/init.pp'),
        line: fc.integer({ min: 0, max: 999 }),
        tags: fc.array(fc.string(), { maxLength: 3 }),
        exported: fc.boolean(),
        virtual: fc.boolean(),
        parameters: fc.dictionary(fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...attributes) }, { weight: 1, arbitrary: anyText(5) }), puppetValue, {
          maxKeys: 6,
        }),
        relationships: fc.dictionary(fc.constantFrom('before', 'require', 'notify', 'subscribe'), fc.oneof(ref, fc.array(ref, { maxLength: 3 }), fc.string()), {
          maxKeys: 2,
        }),
        sensitive: fc.array(fc.constantFrom(...attributes), { maxLength: 2 }),
        kind: fc.constantFrom('compilable_type', 'defined_type', 'class', 'unknown'),
      },
      { requiredKeys: ['type', 'title', 'tags', 'exported', 'virtual', 'parameters', 'sensitive'] },
    )
    .map(({ relationships, ...r }): CatalogResource => ({ ...r, parameters: { ...r.parameters, ...relationships } }));
}

/** Catalogs the reader could return: resources of every translated type, relationships and containment among them. */
const catalog: fc.Arbitrary<Catalog> = fc
  .array(fc.tuple(fc.constantFrom(...types), title), { maxLength: 10 })
  .chain((seeds) => {
    const refs = seeds.map(([t, n]) => `${t}[${n}]`);
    const ref = refs.length ? fc.constantFrom(...refs, 'Class[main]', 'File[/nowhere]') : fc.constant('Class[main]');
    return fc.record({
      resources: fc.array(catalogResource(refs), { maxLength: 12 }),
      edges: fc.array(fc.record({ source: ref, target: ref }), { maxLength: 8 }),
      collectors: fc.array(fc.record({ type: fc.constantFrom(...types), query: nested(scalar) }), { maxLength: 2 }),
    });
  })
  .map((c) => ({ node: 'fuzz.example', ...c, source: SOURCE }));

/** Documents in each shape the reader recognises, with fields of any type, as JSON or YAML, sometimes cut short. */
const shaped = fc.oneof(
  fc.record(
    {
      format: fc.constantFrom('mgmtgraph-catalog', 'other'),
      version: fc.oneof(fc.constant(1), scalar),
      node: scalar,
      resources: nested(scalar),
      edges: nested(scalar),
      collectors: nested(scalar),
    },
    { requiredKeys: [] },
  ),
  fc.record({ catalog_format: scalar, name: scalar, resources: nested(scalar), edges: nested(scalar) }, { requiredKeys: [] }),
  fc.record({ document_type: fc.constant('Catalog'), data: nested(scalar) }),
  fc.record({ certname: scalar, resources: nested(scalar), edges: nested(scalar) }, { requiredKeys: [] }),
  catalog.map((c) => ({ format: 'mgmtgraph-catalog', version: 1, node: c.node, resources: c.resources, edges: c.edges, collectors: c.collectors })),
  nested(scalar),
);
const text = fc.oneof(
  fc.tuple(shaped, fc.boolean(), fc.nat()).map(([doc, asYaml, cut]) => {
    const t = asYaml ? toYaml(doc) : JSON.stringify(doc);
    return cut % 4 === 0 ? t.slice(0, cut % (t.length + 1)) : t;
  }),
  anyText(120),
  fc.constantFrom(
    'x: &x [*x]\n',
    '{"format": "mgmtgraph-catalog", "version": 1, "resources": [',
    'a: &a [1,1,1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b]\n',
  ),
);

/**
 * Catalogs shaped as Puppet compiles them: each type and title once, relationships only to resources declared
 * earlier (no explicit cycle), no containment; values of every kind (the translator cannot know which Puppet
 * would refuse, so it must send whatever our kinds refuse to the fallback, never into the graph).
 */
const applicable: fc.Arbitrary<Catalog> = fc
  // Puppet refuses an empty title ("Title strings must have a length greater than zero").
  .uniqueArray(
    fc.tuple(
      fc.constantFrom(...typeRules.keys()),
      title.filter((x) => x !== ''),
    ),
    { maxLength: 10, selector: ([t, n]) => `${t}[${n}]` },
  )
  .chain((seeds) =>
    fc.tuple(
      ...seeds.map(([type, name], i) =>
        fc
          .record({
            parameters: fc.dictionary(fc.constantFrom(...attributes), puppetValue, { maxKeys: 6 }),
            relationships: fc.dictionary(
              fc.constantFrom('require', 'subscribe'),
              i > 0 ? fc.constantFrom(...seeds.slice(0, i).map(([t, n]) => `${t}[${n}]`)) : fc.constant(undefined),
              { maxKeys: 1 },
            ),
            sensitive: fc.array(fc.constantFrom(...attributes), { maxLength: 2 }),
          })
          .map(({ parameters, relationships, sensitive }): CatalogResource => {
            const own = Object.fromEntries(Object.entries(parameters).filter(([k]) => !['before', 'require', 'notify', 'subscribe', 'stage'].includes(k)));
            const rel = Object.fromEntries(Object.entries(relationships).filter(([, v]) => v !== undefined));
            return {
              type,
              title: name,
              file: '/etc/puppet/site.pp',
              line: i + 1,
              tags: [],
              exported: false,
              virtual: false,
              parameters: { ...own, ...rel },
              sensitive,
              kind: 'compilable_type',
            };
          }),
      ),
    ),
  )
  .map((resources) => ({ node: 'fuzz.example', resources, edges: [], collectors: [], source: SOURCE }));

describe('fuzz: Puppet catalog reader and translator', () => {
  it('point 4: a catalog shaped as Puppet compiles one always translates into a graph that validates', (t) => {
    fuzz(t, 'translator (valid graphs)', applicable, (c) => {
      let out;
      try {
        out = translateCatalog(spy.registry, c);
      } catch (e) {
        // two resources Puppet would refuse too (one path or one name twice, under titles that differ)
        if (e instanceof CatalogError && e.message.includes('both become')) return;
        throw e;
      }
      const errors = checkSpec(spy.registry, out.spec).filter((d) => d.severity === 'error');
      // a cycle only through Puppet's automatic relationships against explicit ones: Puppet refuses it too
      const other = errors.filter((d) => !d.message.startsWith('dependency cycle'));
      assert.deepEqual(other.map(formatDiagnostic), []);
      assert.equal(spy.created(), 0);
    });
  });

  it('the reader: any text gives a catalog or a CatalogError naming its source', (t) => {
    fuzz(t, 'catalog reader', text, (s) => {
      try {
        const c = readCatalog(s, SOURCE);
        assert.ok(Array.isArray(c.resources));
      } catch (e) {
        if (!(e instanceof CatalogError)) throw e;
        assert.ok(e.message.startsWith(SOURCE), e.message);
      }
    });
  });

  it('the translator: any catalog gives a spec whose errors name their Puppet resource, or a CatalogError', (t) => {
    fuzz(t, 'translator', catalog, (c) => {
      let out;
      try {
        out = translateCatalog(spy.registry, c);
      } catch (e) {
        if (!(e instanceof CatalogError)) throw e;
        // placed in the catalog, or at the manifest line of the resource concerned
        const places = [SOURCE, ...c.resources.flatMap((r) => (r.file !== undefined ? [r.file] : []))];
        assert.ok(
          places.some((p) => e.message.startsWith(p)),
          e.message,
        );
        return;
      }
      for (const r of out.report.resources) assert.ok(r.ref.length > 0);
      const ds = checkSpec(spy.registry, out.spec);
      for (const d of ds) {
        if (d.severity !== 'error') continue;
        // a resource's error names it (`kind[name]`, and its manifest file:line when the catalog has it); an
        // error about the graph as a whole is placed in its catalog
        assert.ok(d.where !== undefined || d.pos?.file === SOURCE, `an error without its place: ${formatDiagnostic(d)}`);
      }
      assert.equal(spy.created(), 0);
    });
  });
});
