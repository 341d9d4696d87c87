// Differential test of Puppet's automatic relationships (src/puppet/autorelations.ts and the `autorelations` of
// the rule tables) against the ones real Puppet's relationship graph adds for the same catalogs. One Ruby
// process (test/harness/puppet-relationships.rb) compiles every manifest with our face's compiler and gives, per
// manifest, the face's catalog and the edges Puppet's `build_autorelation_dependencies` added (after the manual
// dependencies, before containers are replaced). We compute ours from that very catalog; both sets must be
// equal, refresh flags included. Manifests: fixtures/puppet/autorelations/ (every translated type's
// autorelations, an explicit relationship against one), fixtures/puppet/manifests/ and the equivalence
// manifests (with @ROOT@ made a fixed path).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { autoRelations } from '../../src/puppet/autorelations.js';
import { catalogFromData, refOf } from '../../src/puppet/catalog.js';
import { flattenRelationships } from '../../src/puppet/relationships.js';
import { translateCatalog } from '../../src/puppet/translate.js';
import { typeRules } from '../../src/puppet/types/index.js';
import { registry } from '../../src/cli/registry.js';
import { checkSpec } from '../../src/graph/check-spec.js';
import { mgmtRun } from '../harness/cli.js';

// dist/test/integration/ -> repository root
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const fixtures = join(repo, 'fixtures', 'puppet');

interface Compiled {
  readonly manifest: string;
  readonly catalog: unknown;
  readonly automatic: [string, string, boolean][];
}

let tmp: string | undefined;
let compiled: Compiled[];

before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'mgmt-autorelations-'));
  const mp = join(tmp, 'mp');
  mkdirSync(mp);
  symlinkSync(join(repo, 'puppet-module'), join(mp, 'mgmtgraph'));
  const manifests: string[] = [];
  for (const dir of ['autorelations', 'manifests'])
    for (const f of readdirSync(join(fixtures, dir)).sort()) if (f.endsWith('.pp')) manifests.push(join(fixtures, dir, f));
  const eq = join(fixtures, 'equivalence');
  for (const f of readdirSync(eq).sort()) {
    if (!f.endsWith('.pp')) continue;
    const copy = join(tmp, f);
    writeFileSync(copy, readFileSync(join(eq, f), 'utf8').replaceAll('@ROOT@', '/srv/root'));
    manifests.push(copy);
  }
  const r = spawnSync(
    'ruby',
    [
      join(repo, 'test', 'harness', 'puppet-relationships.rb'),
      join(fixtures, 'facts.yaml'),
      '--modulepath',
      `${mp}:${join(eq, 'modules')}:/usr/share/puppet/modules`,
      '--confdir',
      join(tmp, 'conf'),
      '--vardir',
      join(tmp, 'var'),
      '--codedir',
      join(tmp, 'code'),
      '--log_level',
      'err',
    ],
    { input: JSON.stringify(manifests), encoding: 'utf8', maxBuffer: 64 << 20, timeout: 120_000 },
  );
  if (r.error || r.status !== 0)
    throw new Error(`Puppet's relationship graph could not be built (install the Debian package "puppet"): ${r.error?.message ?? r.stderr}`);
  compiled = JSON.parse(r.stdout) as Compiled[];
});

after(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const fmt = ([from, to, refresh]: readonly [string, string, boolean]) => `${from} -> ${to}${refresh ? ' (refresh)' : ''}`;

describe("Puppet's automatic relationships, against Puppet's relationship graph", () => {
  it('the same edges as Puppet for every manifest (and every translated type is exercised)', () => {
    assert.ok(compiled.length >= 20, `only ${compiled.length} manifests compiled`);
    const exercised = new Set<string>();
    let total = 0;
    for (const c of compiled) {
      const catalog = catalogFromData(c.catalog, c.manifest);
      const local = (r: { exported: boolean; virtual: boolean }) => !(r.exported && r.virtual);
      const automatic = autoRelations(catalog, (type) => typeRules.get(type), local);
      const flat = flattenRelationships(catalog, { local, refreshable: () => true, automatic });
      const ours = flat.automatic.map((a) => fmt([refOf(catalog.resources[a.from]!), refOf(catalog.resources[a.to]!), a.notify])).sort();
      const theirs = c.automatic.map(fmt).sort();
      assert.deepEqual(ours, theirs, c.manifest);
      for (const a of flat.automatic) exercised.add(catalog.resources[a.to]!.type).add(catalog.resources[a.from]!.type);
      total += theirs.length;
    }
    // Every type whose table declares an autorelation has one in these manifests.
    const declared = [...typeRules.values()].filter((t) => t.autorelations.length > 0).map((t) => t.type);
    assert.deepEqual(
      declared.filter((t) => !exercised.has(t)),
      [],
    );
    assert.ok(total >= 40, `only ${total} automatic relationships`);
  });

  it("point 4's shape (an explicit before from a file to its directory) translates into a graph without a cycle", () => {
    const c = compiled.find((x) => x.manifest.endsWith('reverse-before.pp'))!;
    const { spec } = translateCatalog(registry, catalogFromData(c.catalog, c.manifest));
    assert.equal(spec.autoedges, false);
    assert.deepEqual(checkSpec(registry, spec), []);
  });

  it('`mgmt validate` of the translated YAML (the engine’s own autoedges included unless the graph turns them off) finds no cycle', async () => {
    const t = await mgmtRun(['puppet', 'translate', '--catalog', join(fixtures, 'catalogs', 'autorel-reverse-before.json')]);
    assert.equal(t.code, 0, t.stderr);
    assert.match(t.stdout, /^autoedges: false$/m);
    const file = join(tmp!, 'reverse-before.yaml');
    writeFileSync(file, t.stdout);
    const v = await mgmtRun(['validate', file]);
    assert.equal(v.code, 0, v.stderr + v.stdout);
    // The same graph with the engine's autoedges on has the cycle of issue 12, point 4.
    writeFileSync(file, t.stdout.replace(/^autoedges: false\n/m, ''));
    const cyc = await mgmtRun(['validate', file]);
    assert.notEqual(cyc.code, 0);
    assert.match(cyc.stderr + cyc.stdout, /cycle/);
  });
});
