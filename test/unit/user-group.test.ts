// The user and group kinds: parameters, validation and autoedge hints. Check/apply with the real shadow tools on a
// scratch root needs root: test/integration/user-group-scratch-root.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { autoEdges } from '../../src/engine/autoedges.js';
import { checkGraphText } from '../../src/graph/read.js';
import type { ResourceSpec } from '../../src/graph/spec.js';
import { execKind } from '../../src/resources/exec.js';
import { groupKind, type GroupParams } from '../../src/resources/group.js';
import { userKind, type UserParams } from '../../src/resources/user.js';
import { registry } from '../../src/cli/registry.js';

const loose = (p: UserParams | GroupParams): Readonly<Record<string, unknown>> => p;
const messages = (kind: typeof userKind, name: string, p: UserParams | GroupParams) =>
  kind.validate!(name, loose(p)).map((x) => `${x.param ?? ''}: ${x.message}`);

describe('user and group validation', () => {
  it('accepts mgmt’s spellings and a full set of parameters', () => {
    assert.deepEqual(
      messages(userKind, 'bob', { state: 'exists', uid: 1001, gid: 100, groups: ['a', 'b'], homedir: '/home/bob', allowduplicateuid: true }),
      [],
    );
    assert.deepEqual(
      messages(userKind, 'bob', { group: 'staff', home: '/h', homedir: '/h', shell: '/bin/sh', comment: 'Bob, Room 1', membership: 'inclusive' }),
      [],
    );
    assert.deepEqual(messages(groupKind, 'staff', { state: 'exists', gid: 50, system: true }), []);
  });

  it('refuses what can never work, naming the parameter', () => {
    assert.deepEqual(messages(userKind, 'bob', { gid: 1, group: 'staff' }), ['group: give the primary group either as `gid` or as `group`, not both']);
    assert.deepEqual(messages(userKind, 'bob', { home: '/a', homedir: '/b' }), ['homedir: `home` and `homedir` (mgmt’s spelling) differ: give one of them']);
    assert.deepEqual(messages(userKind, 'bob', { home: 'home/bob', shell: 'sh' }), [
      "home: `home` must be an absolute path, got 'home/bob'",
      "shell: `shell` must be an absolute path, got 'sh'",
    ]);
    assert.deepEqual(messages(userKind, 'bob', { comment: 'a:b' }), ["comment: `comment` cannot contain ':' or a newline"]);
    assert.deepEqual(messages(userKind, 'bob', { groups: ['ok', 'a b', '100'], group: '-x' }), [
      "group: the group name '-x' starts with '-', '+' or '#'",
      "groups: the group name 'a b' contains a colon, comma, slash or white space",
      "groups: the group name '100' is a number: give supplementary groups by name",
    ]);
    assert.deepEqual(messages(userKind, '1234', {}), [": the user name '1234' is a number, which tools would take for a uid"]);
    assert.deepEqual(messages(userKind, 'x'.repeat(33), { uid: 2 ** 32 }), [
      `: the user name '${'x'.repeat(33)}' is longer than 32 characters`,
      'uid: uid 4294967296 is out of range (0..4294967294)',
    ]);
    assert.deepEqual(messages(groupKind, 'a,b', { gid: 2 ** 32 }), [
      ": the group name 'a,b' contains a colon, comma, slash or white space",
      'gid: gid 4294967296 is out of range (0..4294967294)',
    ]);
  });

  it('loads mgmt-shaped YAML (state, gid, homedir, unset strings as empty)', () => {
    const { spec, diagnostics } = checkGraphText(
      registry,
      `graph: g
resources:
  group:
  - {name: staff, state: exists, gid: 1050}
  user:
  - {name: bob, state: exists, uid: 1050, gid: 1050, groups: [staff], homedir: /home/bob, shell: '', allowduplicateuid: false}
  - {name: eve, state: absent}
`,
      'g.yaml',
    );
    assert.deepEqual(
      diagnostics.filter((d) => d.severity === 'error'),
      [],
    );
    assert.deepEqual(spec!.resources.find((r) => r.name === 'bob')!.params, {
      state: 'exists',
      uid: 1050,
      gid: 1050,
      groups: ['staff'],
      homedir: '/home/bob',
      allowduplicateuid: false,
    });
  });
});

describe('autoedges of users, groups and execs', () => {
  const res = (kind: string, name: string, params: Record<string, unknown> = {}): ResourceSpec => ({ kind, name, params, meta: {} });
  const edges = (rs: ResourceSpec[]) => autoEdges(registry, rs).map((e) => e.name);

  it('a user comes after the groups it names (not a gid), and before them when it is removed', () => {
    assert.deepEqual(userKind.autoEdges!('bob', { group: 'staff', groups: ['a', 'staff'] }), {
      afterVertex: [
        { kind: 'group', name: 'staff' },
        { kind: 'group', name: 'a' },
      ],
    });
    assert.deepEqual(userKind.autoEdges!('bob', { gid: 50, group: '' }), {});
    assert.deepEqual(userKind.autoEdges!('bob', { group: '50' }), {});
    assert.deepEqual(userKind.autoEdges!('bob', { state: 'absent', groups: ['a'] }), { beforeVertex: [{ kind: 'group', name: 'a' }] });
    assert.deepEqual(edges([res('group', 'staff'), res('group', 'a'), res('user', 'bob', { state: 'exists', group: 'staff', groups: ['a', 'nograph'] })]), [
      'group[staff] -> user[bob]',
      'group[a] -> user[bob]',
    ]);
    assert.deepEqual(edges([res('group', 'old', { state: 'absent' }), res('user', 'gone', { state: 'absent', group: 'old' })]), ['user[gone] -> group[old]']);
  });

  it('an exec comes after the user and group it runs as (names only)', () => {
    assert.deepEqual(execKind.autoEdges!('e', { cmd: 'true', user: 'bob', group: 'staff', cwd: '/d' }), {
      afterPath: ['/d/'],
      afterVertex: [
        { kind: 'user', name: 'bob' },
        { kind: 'group', name: 'staff' },
      ],
    });
    assert.deepEqual(execKind.autoEdges!('e', { cmd: 'true', user: '1000', group: '' }), {});
    assert.deepEqual(edges([res('user', 'bob', { state: 'exists' }), res('exec', 'e', { cmd: 'true', user: 'bob' })]), ['user[bob] -> exec[e]']);
  });
});
