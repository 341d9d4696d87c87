// The pkg kind without PackageKit: parameters, validation, the autogroup key, package ids and error wording.
// Everything that talks to PackageKit is in test/integration/pkg.test.ts (real daemon, real packages).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkGraphText } from '../../src/graph/read.js';
import { pkgGroupKey, pkgKind, stateProblems } from '../../src/resources/pkg/kind.js';
import { Filter, PackageKitError, parsePackageId, TransactionFlag } from '../../src/system/dbus/packagekit.js';
import { splitArch } from '../../src/system/tools/dpkg.js';
import { registry } from '../../src/cli/registry.js';

const problems = (name: string, params: Record<string, unknown>) => pkgKind.validate!(name, params).map((p) => p.message);

describe('pkg parameters', () => {
  it('is registered, named by the resource name, not refreshable, and groupable', () => {
    const k = registry.get('pkg');
    assert.equal(k, pkgKind);
    assert.equal(k.nameParam, undefined);
    assert.equal(k.refreshable, false);
    assert.ok(k.autogroup);
  });

  it('accepts the states and a version', () => {
    for (const state of ['installed', 'uninstalled', 'newest', '5.02-1+b1', '1:2.36-9+deb12u4', '0.9~rc1']) {
      assert.deepEqual(problems('sl', { state }), [], state);
    }
    assert.deepEqual(problems('sl', {}), []);
  });

  it('rejects latest with "did you mean newest", and other near misses with their meaning', () => {
    assert.deepEqual(problems('sl', { state: 'latest' }), ["'latest' is not a pkg state: did you mean newest?"]);
    assert.match(problems('sl', { state: 'present' })[0]!, /did you mean installed\?/);
    assert.match(problems('sl', { state: 'absent' })[0]!, /did you mean uninstalled\?/);
    assert.match(problems('sl', { state: 'purged' })[0]!, /did you mean uninstalled\?/);
    assert.match(
      problems('sl', { state: 'running' })[0]!,
      /state must be installed, uninstalled, newest or a version \(starting with a digit\), got 'running'/,
    );
    assert.deepEqual(stateProblems(''), [
      { param: 'state', message: "state must be installed, uninstalled, newest or a version (starting with a digit), got ''" },
    ]);
  });

  it('checks the package name (the resource name)', () => {
    assert.deepEqual(problems('libc6:i386', {}), []);
    assert.deepEqual(problems('g++', {}), []);
    assert.match(problems('two words', {})[0]!, /'two words' is not a package name/);
    assert.match(problems('sl*', {})[0]!, /'sl\*' is not a package name/);
    assert.match(problems('sl;1;amd64;x', {})[0]!, /is not a package name/);
  });

  it('loads from YAML; a bad state, a bad name and unknown parameters are errors', () => {
    const good = checkGraphText(registry, 'graph: g\nresources:\n  pkg:\n  - name: sl\n    state: newest\n    allowuntrusted: true\n', 'g.yaml');
    assert.deepEqual(
      good.diagnostics.filter((d) => d.severity === 'error'),
      [],
    );
    assert.deepEqual(good.spec!.resources[0]!.params, { state: 'newest', allowuntrusted: true });
    const msgs = (yaml: string) =>
      checkGraphText(registry, yaml, 'g.yaml')
        .diagnostics.map((d) => d.message)
        .join('\n');
    assert.match(msgs('graph: g\nresources:\n  pkg:\n  - name: sl\n    state: latest\n'), /'latest' is not a pkg state: did you mean newest\?/);
    assert.match(msgs('graph: g\nresources:\n  pkg:\n  - name: sl\n    sate: x\n'), /unknown parameter `sate`/);
    assert.match(msgs('graph: g\nresources:\n  pkg:\n  - name: "s*"\n'), /'s\*' is not a package name/);
  });
});

describe('pkg autogroup key', () => {
  // through the kind, so the parameters are normalized (defaults filled in) as the engine would hand them
  const groupKey = (name: string, p: Record<string, unknown>) => pkgKind.autogroup!.key(name, p);
  it('puts installs together (installed, newest, versions) and removals apart', () => {
    const k = (p: Record<string, unknown>) => groupKey('x', p);
    assert.equal(k({}), k({ state: 'installed' }));
    assert.equal(k({ state: 'installed' }), k({ state: 'newest' }));
    assert.equal(k({ state: 'installed' }), k({ state: '1.0-1' }));
    assert.notEqual(k({ state: 'installed' }), k({ state: 'uninstalled' }));
    assert.equal(k({ state: 'uninstalled' }), groupKey('y', { state: 'uninstalled' }));
  });

  it('never puts packages with different transaction flags or filters together', () => {
    const base = groupKey('x', {});
    for (const flag of ['allowuntrusted', 'allowdowngrade']) assert.notEqual(groupKey('x', { [flag]: true }), base, flag);
    for (const flag of ['allownonfree', 'allowunsupported']) assert.notEqual(groupKey('x', { [flag]: false }), base, flag);
    assert.equal(groupKey('x', { allownonfree: true, allowunsupported: true }), base, 'the defaults spelled out');
  });

  it('is the kind key of the normalized parameters', () => {
    const normalized = { state: 'newest', allowuntrusted: false, allowdowngrade: false, allownonfree: true, allowunsupported: true };
    assert.equal(groupKey('sl', { state: 'newest' }), pkgGroupKey('sl', normalized));
  });
});

describe('PackageKit vocabulary', () => {
  it('splits package ids and arch-qualified names', () => {
    assert.deepEqual(parsePackageId('sl;5.02-1+b1;amd64;debian-oldstable-main'), {
      name: 'sl',
      version: '5.02-1+b1',
      arch: 'amd64',
      data: 'debian-oldstable-main',
    });
    assert.deepEqual(splitArch('libc6:i386'), { base: 'libc6', arch: 'i386' });
    assert.deepEqual(splitArch('sl'), { base: 'sl', arch: undefined });
  });

  it('uses PackageKit’s bit values (1 << enum)', () => {
    assert.equal(Filter.NONE, 2n);
    assert.equal(Filter.INSTALLED, 4n);
    assert.equal(Filter.NOT_INSTALLED, 8n);
    assert.equal(Filter.NEWEST, 65536n);
    assert.equal(TransactionFlag.ONLY_TRUSTED, 2n);
    assert.equal(TransactionFlag.ALLOW_DOWNGRADE, 64n);
  });

  it('only a locked package database is retryable', () => {
    assert.equal(new PackageKitError('x', 'locked', 'cannot-get-lock').retryable, true);
    for (const r of ['unreachable', 'not-found', 'fetch', 'timeout', 'cancelled', 'failed'] as const)
      assert.equal(new PackageKitError('x', r).retryable, false);
  });
});
