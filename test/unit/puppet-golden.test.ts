// Golden tests of the Puppet translator: fixtures/puppet/catalogs/*.json → expected/*.yaml and *.report.json,
// compared exactly. UPDATE_GOLDEN=1 rewrites the expected files. Native graphs must also load back through
// the YAML front door (checkGraphText) to the same spec.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { checkGraphText } from '../../src/graph/read.js';
import type { GraphSpec, ResourceSpec } from '../../src/graph/spec.js';
import type { Diagnostic } from '../../src/graph/diagnostics.js';
import { loadYamlGraph } from '../../src/graph/yaml-loader.js';
import { readCatalog } from '../../src/puppet/catalog.js';
import { graphYaml } from '../../src/puppet/output.js';
import { translateCatalog } from '../../src/puppet/translate.js';
import { registry } from '../../src/cli/registry.js';

const root = new URL('../../../fixtures/puppet/', import.meta.url);
const UPDATE = process.env.UPDATE_GOLDEN === '1';

export function golden(path: URL, actual: string): void {
  if (UPDATE || !existsSync(path)) {
    writeFileSync(path, actual);
    if (!UPDATE) assert.fail(`golden file ${path.pathname} was missing; written now: check it and rerun`);
    return;
  }
  assert.equal(actual, readFileSync(path, 'utf8'), `${path.pathname} differs (UPDATE_GOLDEN=1 rewrites it)`);
}

const comparable = (r: ResourceSpec) => ({ kind: r.kind, name: r.name, params: r.params, meta: r.meta });
function sameSpec(a: GraphSpec, b: GraphSpec): void {
  assert.equal(a.graph, b.graph);
  assert.deepEqual(a.resources.map(comparable), b.resources.map(comparable));
  assert.deepEqual(a.exports.map(comparable), b.exports.map(comparable));
  assert.deepEqual(
    a.edges.map((e) => ({ name: e.name, from: e.from, to: e.to, notify: e.notify })),
    b.edges.map((e) => ({ name: e.name, from: e.from, to: e.to, notify: e.notify })),
  );
  assert.deepEqual(
    a.collect.map((c) => [c.kind, c.pattern]),
    b.collect.map((c) => [c.kind, c.pattern]),
  );
}

describe('puppet translator golden catalogs', () => {
  const names = readdirSync(new URL('catalogs/', root))
    .filter((f) => f.endsWith('.json'))
    .sort();
  for (const file of names) {
    const base = file.replace(/\.json$/, '');
    it(base, () => {
      const catalog = readCatalog(readFileSync(new URL(`catalogs/${file}`, root), 'utf8'), file);
      const { spec, report } = translateCatalog(registry, catalog);
      const yaml = graphYaml(spec);
      golden(new URL(`expected/${base}.yaml`, root), yaml);
      golden(new URL(`expected/${base}.report.json`, root), JSON.stringify(report, null, 2) + '\n');
      // Sensitive values never reach printed output.
      for (const r of [...catalog.resources]) {
        for (const s of r.sensitive) {
          const v = JSON.stringify(r.parameters[s]);
          const needle = typeof r.parameters[s] === 'string' ? r.parameters[s] : v;
          assert.ok(!yaml.includes(needle), `${file}: sensitive ${s} leaked into the YAML`);
          assert.ok(!JSON.stringify(report).includes(needle), `${file}: sensitive ${s} leaked into the report`);
        }
      }
      // Round trip through the YAML front door when every vertex is of a registered kind and nothing is redacted.
      const registered = [...spec.resources, ...spec.exports].every((r) => r.kind !== 'puppet' && !r.meta.sensitive?.length);
      if (registered) {
        const loaded = checkGraphText(registry, yaml, `${base}.yaml`);
        // exec's `user`/`group` check asks whether this process is root (where the graph would run), not
        // whether the YAML is well formed: not an error of the round trip when the tests run as a normal user.
        const runsAsRoot = (d: Diagnostic) => d.message === '`user` and `group` need the engine to run as root';
        assert.deepEqual(
          loaded.diagnostics.filter((d) => d.severity === 'error' && !runsAsRoot(d)),
          [],
          `${base}.yaml does not load back`,
        );
        // When only the root check failed, checkGraphText keeps no spec; the loader's spec of the same text stands in.
        sameSpec(loaded.spec ?? loadYamlGraph(registry, yaml, `${base}.yaml`).spec!, spec);
      }
    });
  }
});
