// Puppet `package` → `pkg`: the namevar names the vertex, ensure values, providers, and the collisions the older
// translator got wrong (puppet.md §7 bugs 4 and 5). The golden catalogs P18/P19 show whole outputs.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CatalogResource } from '../../src/puppet/catalog.js';
import { translateCatalog } from '../../src/puppet/translate.js';
import { catalogOf, catalogResource, translateOne } from '../harness/catalog.js';
import { registry } from '../../src/cli/registry.js';

const pkg = (title: string, parameters: Record<string, unknown> = {}, line = 1) => catalogResource('Package', title, parameters, { line });
const cat = (resources: CatalogResource[]) => catalogOf(resources);
const one = (parameters: Record<string, unknown>, title = 'p') => translateOne(pkg(title, parameters));

describe('Puppet package', () => {
  it('names the vertex by the package name, not the title (bug 4), and keeps the title as origin', () => {
    const { spec, report } = one({ name: 'cowsay' }, 'cs');
    assert.equal(`${spec.kind}[${spec.name}]`, 'pkg[cowsay]');
    assert.deepEqual(spec.params, { state: 'installed' });
    assert.equal(spec.origin?.ref, 'Package[cs]');
    assert.equal(report.status, 'native');
  });

  it('maps every ensure value', () => {
    const state = (ensure: string) => one({ ensure }).spec.params.state;
    assert.equal(state('present'), 'installed');
    assert.equal(state('installed'), 'installed');
    assert.equal(state('absent'), 'uninstalled');
    assert.equal(state('purged'), 'uninstalled');
    assert.equal(state('latest'), 'newest');
    assert.equal(state('1:2.36-9+deb12u4'), '1:2.36-9+deb12u4');
    assert.equal(one({ ensure: 'purged' }).report.status, 'degraded');
    assert.equal(one({ ensure: 'held' }).report.status, 'fallback');
    assert.equal(one({ ensure: '>= 1.0' }).report.status, 'fallback');
  });

  it('apt, aptitude, dpkg and default providers are native; any other goes to Puppet with the reason', () => {
    for (const provider of ['apt', 'aptitude', 'dpkg', 'default']) assert.equal(one({ provider }).report.status, 'native', provider);
    for (const provider of ['gem', 'pip', 'pip3', 'yum']) {
      const { spec, report } = one({ provider });
      assert.equal(spec.kind, 'puppet', provider);
      assert.match(report.reason!, /only the apt, aptitude and dpkg providers are translated/);
    }
    for (const attr of ['source', 'install_options', 'uninstall_options']) assert.equal(one({ [attr]: 'x' }).report.status, 'fallback', attr);
  });

  it('one name under two providers: a pkg vertex and a fallback vertex (bug 5)', () => {
    const t = translateCatalog(registry, cat([pkg('rake-gem', { name: 'rake', provider: 'gem' }, 1), pkg('rake', {}, 2)]));
    assert.deepEqual(
      t.spec.resources.map((r) => `${r.kind}[${r.name}]`),
      ['pkg[rake]', 'puppet[Package[rake-gem]]'],
    );
  });

  it('two native packages with one name are refused, naming both origins', () => {
    assert.throws(
      () => translateCatalog(registry, cat([pkg('rake', {}, 1), pkg('rake-apt', { name: 'rake', provider: 'apt' }, 2)])),
      /Package\[rake-apt\] \(site\.pp:2\) and Package\[rake\] \(site\.pp:1\) both become pkg\[rake\]/,
    );
  });
});
