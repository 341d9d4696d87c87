import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { registry } from '../../src/cli/registry.js';
import { puppetKind, withPuppetKind } from '../../src/puppet/fallback-kind.js';
import { coreRegistry } from '../../src/resources/core-registry.js';
import { fileKind, noopKind } from '../../src/resources/core-kinds.js';
import { registryOf } from '../../src/resources/registry.js';

describe('registry', () => {
  it('looks kinds up by name and lists them sorted by name', () => {
    const r = registryOf([noopKind, fileKind]);
    assert.equal(r.get('file'), fileKind);
    assert.equal(r.get('nosuch'), undefined);
    assert.deepEqual(
      r.all().map((k) => k.kind),
      ['file', 'noop'],
    );
    const names = coreRegistry.all().map((k) => k.kind);
    assert.deepEqual(names, [...names].sort());
  });

  it('refuses two kinds of one name, when built and when extended', () => {
    assert.throws(() => registryOf([fileKind, fileKind]), /two resource kinds are named `file`/);
    assert.throws(() => coreRegistry.with(fileKind), /two resource kinds are named `file`/);
    assert.throws(() => withPuppetKind(registry), /two resource kinds are named `puppet`/);
  });

  it('is a value: extending one gives a new registry and leaves the original as it was', () => {
    const before = coreRegistry.all();
    const more = withPuppetKind(coreRegistry);
    assert.notEqual(more, coreRegistry);
    assert.equal(more.get('puppet'), puppetKind);
    assert.equal(coreRegistry.get('puppet'), undefined, 'the Puppet fallback kind is not a core kind');
    assert.deepEqual(coreRegistry.all(), before);
    assert.equal(more.all().length, before.length + 1);
    assert.ok(Object.isFrozen(coreRegistry.all()));
  });

  it('the mgmt command’s registry is the core kinds and Puppet’s fallback kind', () => {
    assert.deepEqual(
      registry.all().map((k) => k.kind),
      [...coreRegistry.all().map((k) => k.kind), 'puppet'].sort(),
    );
  });
});
