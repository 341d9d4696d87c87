// The Puppet user and group translations (reference cases P21, P22, P23, P34 and old bug 4). What Puppet itself does
// without ensure was checked with `puppet apply --noop` on Puppet 7.23: a user is created when a property is given
// and left alone otherwise; a group is always created (its ensure defaults to present).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { autoEdges } from '../../src/engine/autoedges.js';
import type { CatalogResource } from '../../src/puppet/catalog.js';
import { translateCatalog } from '../../src/puppet/translate.js';
import { catalogOf, catalogResource, translateOne } from '../harness/catalog.js';
import { registry } from '../../src/cli/registry.js';

const res = (type: string, title: string, parameters: Record<string, unknown> = {}) => catalogResource(type, title, parameters);
const translate = (...resources: CatalogResource[]) => translateCatalog(registry, catalogOf(resources));
const one = translateOne;

describe('puppet user', () => {
  it('P21: properties without ensure create the user (Puppet defaults ensure then); gid by name → group', () => {
    const { spec, report } = one(res('User', 'u', { uid: 1001, gid: 'staff', home: '/home/u', shell: '/bin/sh', groups: ['a', 'b'] }));
    assert.equal(report.status, 'native');
    assert.deepEqual(
      { kind: spec.kind, name: spec.name, params: spec.params },
      { kind: 'user', name: 'u', params: { state: 'exists', uid: 1001, group: 'staff', groups: ['a', 'b'], home: '/home/u', shell: '/bin/sh' } },
    );
  });

  it('bug 4: the vertex is the namevar, the origin keeps the title; numeric strings are ids', () => {
    const { spec } = one(res('User', 'app', { name: 'appsvc', ensure: 'present', uid: '1002', gid: '1001', allowdupe: true, membership: 'inclusive' }));
    assert.equal(spec.name, 'appsvc');
    assert.equal(spec.origin?.ref, 'User[app]');
    assert.deepEqual(spec.params, { state: 'exists', uid: 1002, gid: 1001, membership: 'inclusive', allowduplicateuid: true });
  });

  it('P22: a bare user, or one with parameters only, manages nothing: no state, native', () => {
    for (const params of [{}, { system: true, managehome: true, membership: 'minimum', allowdupe: false }]) {
      const { spec, report } = one(res('User', 'u', params));
      assert.equal(report.status, 'native');
      assert.equal(spec.params.state, undefined, JSON.stringify(params));
    }
  });

  it('what our kind cannot do goes to the fallback, with the reason', () => {
    const reason = (params: Record<string, unknown>) => one(res('User', 'u', { ensure: 'present', ...params })).report;
    for (const [params, why] of [
      [{ password: 'a:b' }, 'the password is not a string without a colon or a line break'],
      [{ expiry: '2030-01-01' }, 'account expiry is not managed natively'],
      [{ password_max_age: 90 }, 'password ageing is not managed natively'],
      [{ purge_ssh_keys: true }, 'SSH keys are not managed natively'],
      [{ provider: 'ldap' }, 'only the useradd provider is supported'],
      [{ groups: 'a,b' }, 'groups must be a list of group names'],
      [{ groups: ['100'] }, 'groups given by number are not supported'],
      [{ roles: ['r'] }, 'a Solaris/AIX/BSD/macOS attribute that the useradd and groupadd providers do not use'],
      [{ uid: 'abc' }, 'not a numeric id'],
    ] as const) {
      const r = reason(params);
      assert.equal(r.status, 'fallback', JSON.stringify(params));
      assert.equal(r.reason, why);
    }
    assert.equal(one(res('User', 'u', { ensure: 'role' })).report.status, 'fallback');
    for (const ok of [{ purge_ssh_keys: false }, { provider: 'useradd' }, { forcelocal: true }]) assert.equal(reason(ok).status, 'native', JSON.stringify(ok));
  });

  it('password is native and always sensitive (the type declares it so), wrapped in Sensitive or not; it makes Puppet ensure present', () => {
    for (const sensitive of [[], ['password']]) {
      const r = { ...res('User', 'u', { password: '$6$salt$hash' }), sensitive };
      const { spec, report } = one(r);
      assert.equal(report.status, 'native');
      assert.deepEqual(spec.params, { state: 'exists', password: '$6$salt$hash' });
      assert.deepEqual(spec.meta.sensitive, ['password']);
    }
  });

  it('ensure absent', () => {
    assert.deepEqual(one(res('User', 'u', { ensure: 'absent', managehome: true })).spec.params, { state: 'absent', managehome: true });
  });
});

describe('puppet group', () => {
  it('P23: gid and system are native; a group without ensure is created, as Puppet does', () => {
    assert.deepEqual(one(res('Group', 'g', { gid: 1001 })).spec.params, { state: 'exists', gid: 1001 });
    assert.deepEqual(one(res('Group', 'g', { system: true })).spec.params, { state: 'exists', system: true });
    assert.deepEqual(one(res('Group', 'g')).spec.params, { state: 'exists' });
    const named = one(res('Group', 'retired', { name: 'admins', ensure: 'absent' }));
    assert.deepEqual([named.spec.name, named.spec.origin?.ref, named.spec.params], ['admins', 'Group[retired]', { state: 'absent' }]);
  });

  it('members, auth_membership, allowdupe and other providers go to the fallback', () => {
    for (const [params, why] of [
      [{ members: ['a'] }, 'group members are not managed natively'],
      [{ auth_membership: false }, 'group members are not managed natively'],
      [{ allowdupe: true }, 'duplicate gids are not supported'],
      [{ provider: 'ldap' }, 'only the groupadd provider is supported'],
    ] as const) {
      const r = one(res('Group', 'g', params)).report;
      assert.equal(r.status, 'fallback', JSON.stringify(params));
      assert.equal(r.reason, why);
    }
    assert.equal(one(res('Group', 'g', { allowdupe: false, provider: 'groupadd', forcelocal: true })).report.status, 'native');
  });
});

describe('P34: automatic edges of a translated graph', () => {
  it("Puppet's autorequires become explicit edges (File[/d] -> File[/d/f], File[/d] -> Exec[e], User[u] -> Exec[e], Group[g] -> User[u]); the engine adds none", () => {
    const { spec } = translate(
      res('File', '/d', { ensure: 'directory' }),
      res('File', '/d/f'),
      res('User', 'u', { gid: 'g' }),
      res('Group', 'g'),
      res('Exec', 'e', { command: '/bin/true', user: 'u', cwd: '/d' }),
    );
    assert.deepEqual(
      spec.edges.map((e) => `${e.name}${e.notify ? ' (notify)' : ''}`),
      ['File[/d] -> Exec[e]', 'File[/d] -> File[/d/f]', 'Group[g] -> User[u]', 'User[u] -> Exec[e]'],
    );
    assert.equal(spec.autoedges, false);
    assert.deepEqual(autoEdges(registry, spec.resources, spec.edges), []);
  });
});
