// The user and group kinds' check/apply with the real shadow tools on a scratch root (test/harness/scratch-accounts.ts),
// so the machine's accounts are never touched here. Needs root: the tools chroot into the scratch root (--root).
// Validation and autoedge hints: test/unit/user-group.test.ts.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { createGroup } from '../../src/resources/group-resource.js';
import { createUser } from '../../src/resources/user-resource.js';
import { type UserParams, userKind } from '../../src/resources/user.js';
import { accountFiles, readAccounts, readPasswordHashes, runShadowTool, supplementaryGroups } from '../../src/system/tools/shadow.js';
import { check, recordingContext, startWatch } from '../harness/resource-context.js';
import { scratchRoot, whyNoScratchRoot, type ScratchRoot } from '../harness/scratch-accounts.js';

const infos = (lines: readonly string[]) => lines.filter((l) => l.startsWith('info: '));

/** Runs `f` with a scratch root, or skips the test with the reason. */
async function withRoot(t: TestContext, f: (root: ScratchRoot) => Promise<void>): Promise<void> {
  const why = whyNoScratchRoot();
  if (why) {
    t.skip(why);
    return;
  }
  const root = await scratchRoot();
  try {
    await f(root);
  } finally {
    await root.remove();
  }
}

describe('group check and apply (scratch root)', () => {
  it('creates, changes the gid, repairs, and removes; noop changes nothing', (t) =>
    withRoot(t, async (root) => {
      const files = accountFiles(root.dir);
      const find = async (n: string) => (await readAccounts(files)).groups.find((g) => g.name === n);
      const ctx = recordingContext('group[g1]');
      const g = createGroup('g1', { state: 'exists', gid: 3000 }, ctx, files);
      assert.equal(await check(g, { apply: false }), false);
      assert.equal(await find('g1'), undefined);
      assert.equal(await check(g), false);
      assert.deepEqual(await find('g1'), { name: 'g1', gid: 3000, members: [] });
      assert.equal(await check(g), true);

      const g2 = createGroup('g1', { state: 'exists', gid: 3001 }, ctx, files);
      assert.equal(await check(g2, { apply: false }), false);
      assert.equal(await check(g2), false);
      assert.equal((await find('g1'))!.gid, 3001);
      assert.deepEqual(ctx.lines, [
        'info: would create the group (gid 3000)',
        'info: created the group (gid 3000)',
        'info: would change gid 3000 -> 3001',
        'info: gid 3000 -> 3001',
      ]);

      // A gid held by another group is refused with a clear message before any tool runs.
      await assert.rejects(
        check(createGroup('g2', { state: 'exists', gid: 3001 }, recordingContext(), files)),
        /cannot create the group with gid 3001: group 'g1' already has it/,
      );
      // Without state: a missing group stays missing; an existing one gets its gid.
      assert.equal(await check(createGroup('g3', { gid: 3003 }, recordingContext(), files)), true);
      assert.equal(await find('g3'), undefined);
      assert.equal(await check(createGroup('g1', { gid: 3004 }, recordingContext(), files)), false);
      assert.equal((await find('g1'))!.gid, 3004);

      const sys = createGroup('sysg', { state: 'exists', system: true }, recordingContext(), files);
      assert.equal(await check(sys), false);
      assert.ok((await find('sysg'))!.gid < 1000, 'a system gid');

      const gone = createGroup('g1', { state: 'absent' }, recordingContext(), files);
      assert.equal(await check(gone, { apply: false }), false);
      assert.ok(await find('g1'));
      assert.equal(await check(gone), false);
      assert.equal(await find('g1'), undefined);
      assert.equal(await check(gone), true);
    }));

  it('removing a primary group fails with groupdel’s reason', (t) =>
    withRoot(t, async (root) => {
      const files = accountFiles(root.dir);
      await runShadowTool('groupadd', ['prim'], { root: root.dir });
      await runShadowTool('useradd', ['--gid', 'prim', 'holder'], { root: root.dir });
      await assert.rejects(
        check(createGroup('prim', { state: 'absent' }, recordingContext(), files)),
        /groupdel --root \S+ prim exited with code 8 \(it is a user's primary group \(remove or change that user first\)\): groupdel: cannot remove the primary group of user 'holder'/,
      );
    }));
});

describe('user check and apply (scratch root)', () => {
  it('creates with every parameter, then is in its desired state', (t) =>
    withRoot(t, async (root) => {
      const files = accountFiles(root.dir);
      for (const g of ['staff', 'a', 'b']) await runShadowTool('groupadd', [g], { root: root.dir });
      const ctx = recordingContext('user[bob]');
      const p: UserParams = {
        state: 'exists',
        uid: 4001,
        group: 'staff',
        groups: ['a', 'b'],
        homedir: '/home/bob',
        managehome: true,
        shell: '/bin/sh',
        comment: 'Bob, Room 1',
      };
      const u = createUser('bob', p, ctx, files);
      assert.equal(await check(u, { apply: false }), false);
      assert.equal(
        (await readAccounts(files)).users.find((x) => x.name === 'bob'),
        undefined,
      );
      assert.equal(await check(u), false);
      const acc = await readAccounts(files);
      const staff = acc.groups.find((g) => g.name === 'staff')!.gid;
      assert.deepEqual(
        acc.users.find((x) => x.name === 'bob'),
        { name: 'bob', uid: 4001, gid: staff, comment: 'Bob, Room 1', home: '/home/bob', shell: '/bin/sh' },
      );
      assert.deepEqual(supplementaryGroups(acc.groups, 'bob'), ['a', 'b']);
      assert.ok(existsSync(join(root.dir, 'home/bob/.profile')), 'managehome copies /etc/skel');
      assert.equal(await check(u), true);
      const { group: _byName, ...byGid } = p;
      assert.equal(await check(createUser('bob', { ...byGid, gid: staff }, recordingContext(), files)), true, 'the same primary group by gid');
      const what = "the user (uid 4001, group staff, groups a,b, home /home/bob, home created, shell /bin/sh, comment 'Bob, Room 1')";
      assert.deepEqual(infos(ctx.lines), [`info: would create ${what}`, `info: created ${what}`]);
      // What the tool printed despite succeeding is passed on as a warning (the scratch root has no shells).
      assert.ok(ctx.lines.includes("warn: useradd: Warning: missing or non-executable shell '/bin/sh'"), ctx.lines.join('\n'));

      // managehome removes the home with the user.
      const gone = createUser('bob', { state: 'absent', managehome: true }, recordingContext('user[bob]'), files);
      assert.equal(await check(gone), false);
      assert.ok(!existsSync(join(root.dir, 'home/bob')));
      assert.equal(await check(gone), true);
    }));

  it('changes uid, primary group, shell, comment and home in one usermod; noop only says what it would do', (t) =>
    withRoot(t, async (root) => {
      const files = accountFiles(root.dir);
      await runShadowTool('groupadd', ['--gid', '5000', 'other'], { root: root.dir });
      await runShadowTool('useradd', ['--uid', '5001', '--shell', '/bin/sh', 'carl'], { root: root.dir });
      const ctx = recordingContext('user[carl]');
      const u = createUser('carl', { state: 'exists', uid: 5002, gid: 5000, shell: '/bin/bash', comment: 'Carl', home: '/srv/carl' }, ctx, files);
      const before = await readAccounts(files);
      assert.equal(await check(u, { apply: false }), false);
      assert.deepEqual(await readAccounts(files), before);
      assert.equal(await check(u), false);
      assert.deepEqual(
        (await readAccounts(files)).users.find((x) => x.name === 'carl'),
        {
          name: 'carl',
          uid: 5002,
          gid: 5000,
          comment: 'Carl',
          home: '/srv/carl',
          shell: '/bin/bash',
        },
      );
      assert.equal(await check(u), true);
      const text = "uid 5001 -> 5002, primary group users -> 5000, home /home/carl -> /srv/carl, shell /bin/sh -> /bin/bash, comment '' -> 'Carl'";
      assert.deepEqual(infos(ctx.lines), [`info: would change ${text}`, `info: ${text}`]);
    }));

  it('membership minimum adds and keeps other groups; inclusive makes the list exact', (t) =>
    withRoot(t, async (root) => {
      const files = accountFiles(root.dir);
      for (const g of ['a', 'b', 'c']) await runShadowTool('groupadd', [g], { root: root.dir });
      await runShadowTool('useradd', ['--groups', 'c', 'dora'], { root: root.dir });
      const groupsOf = async () => supplementaryGroups((await readAccounts(files)).groups, 'dora');

      const min = createUser('dora', { groups: ['a', 'b'] }, recordingContext(), files);
      assert.equal(await check(min), false);
      assert.deepEqual(await groupsOf(), ['a', 'b', 'c']);
      assert.equal(await check(min), true);

      const ctx = recordingContext();
      const inc = createUser('dora', { groups: ['b', 'a'], membership: 'inclusive' }, ctx, files);
      assert.equal(await check(inc), false);
      assert.deepEqual(await groupsOf(), ['a', 'b']);
      assert.equal(await check(inc), true);
      assert.deepEqual(ctx.lines, ['info: groups a,b,c -> a,b']);

      const none = createUser('dora', { groups: [], membership: 'inclusive' }, recordingContext(), files);
      assert.equal(await check(none), false);
      assert.deepEqual(await groupsOf(), []);
    }));

  it('says which groups are missing, refuses a taken uid, and leaves a missing user alone without state', (t) =>
    withRoot(t, async (root) => {
      const files = accountFiles(root.dir);
      const ctx = recordingContext();
      const u = createUser('erin', { state: 'exists', group: 'nog', groups: ['a', 'nog2'] }, ctx, files);
      assert.equal(await check(u, { apply: false }), false);
      assert.deepEqual(ctx.lines, ["info: would create the user (group nog, groups a,nog2), but groups 'nog', 'a', 'nog2' do not exist (yet)"]);
      await assert.rejects(
        check(u),
        /cannot create the user \(group nog, groups a,nog2\): groups 'nog', 'a', 'nog2' do not exist \(in \S+\/etc\/group\); create them first/,
      );

      await runShadowTool('useradd', ['--uid', '6001', 'fred'], { root: root.dir });
      await assert.rejects(
        check(createUser('erin', { state: 'exists', uid: 6001 }, recordingContext(), files)),
        /uid 6001 is already used by user 'fred': choose another uid, or set allowduplicateuid/,
      );
      assert.equal(await check(createUser('erin', { state: 'exists', uid: 6001, allowduplicateuid: true }, recordingContext(), files)), false);
      assert.equal((await readAccounts(files)).users.filter((x) => x.uid === 6001).length, 2);

      assert.equal(await check(createUser('gina', { shell: '/bin/sh' }, recordingContext(), files)), true);
      assert.equal(
        (await readAccounts(files)).users.find((x) => x.name === 'gina'),
        undefined,
      );
    }));

  it('a system user gets a uid from the system range', (t) =>
    withRoot(t, async (root) => {
      const files = accountFiles(root.dir);
      assert.equal(await check(createUser('svc', { state: 'exists', system: true }, recordingContext(), files)), false);
      assert.ok((await readAccounts(files)).users.find((x) => x.name === 'svc')!.uid < 1000);
    }));

  it('watches /etc/passwd and /etc/group through the tools’ rename', (t) =>
    withRoot(t, async (root) => {
      const files = accountFiles(root.dir);
      const w = await startWatch(createUser('hank', { state: 'exists' }, recordingContext(), files));
      try {
        assert.equal(w.events(), 1);
        await Promise.all([w.next(), runShadowTool('useradd', ['hank'], { root: root.dir })]);
        await Promise.all([w.next(), runShadowTool('usermod', ['--shell', '/bin/false', 'hank'], { root: root.dir })]);
        await Promise.all([w.next(), runShadowTool('groupadd', ['newg'], { root: root.dir })]);
        await Promise.all([w.next(), runShadowTool('userdel', ['hank'], { root: root.dir })]);
      } finally {
        await w.stop();
      }
      const gw = await startWatch(createGroup('newg', { state: 'exists' }, recordingContext(), files));
      try {
        await Promise.all([gw.next(), runShadowTool('groupdel', ['newg'], { root: root.dir })]);
      } finally {
        await gw.stop();
      }
    }));

  it('password: sets the hash with chpasswd (noop first), compares it with shadow, repairs drift seen by the watch, and never prints it', (t) =>
    withRoot(t, async (root) => {
      const files = accountFiles(root.dir);
      const h1 = '$6$saltsalt$Y7Pq0g5vJ5PpHkD3vQ2wLqQmY3Y0m3u0yB5o9w2C1aFQn2r3kq6w0cN0.pVZr8hF6m9yT8x3i4S0a8xQy1rX0/';
      const h2 = '$y$j9T$abcdefghijklmnopqrstu.$0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcde';
      const hashOf = async (n: string) => (await readPasswordHashes(files)).get(n);
      const ctx = recordingContext('user[pat]');
      const u = createUser('pat', { state: 'exists', password: h1 }, ctx, files);
      assert.equal(await check(u, { apply: false }), false);
      assert.equal(await hashOf('pat'), undefined);
      assert.equal(await check(u), false);
      assert.equal(await hashOf('pat'), h1);
      assert.equal(await check(u), true);
      // a changed hash, and a shell, in one run: usermod for the shell, chpasswd for the hash
      const u2 = createUser('pat', { state: 'exists', password: h2, shell: '/bin/sh' }, ctx, files);
      assert.equal(await check(u2, { apply: false }), false);
      assert.equal(await check(u2), false);
      assert.equal(await hashOf('pat'), h2);
      assert.equal(await check(u2), true);
      // drift by hand: the watch sees the shadow file change, and the check puts the hash back
      const w = await startWatch(u2);
      try {
        assert.equal(w.events(), 1);
        await Promise.all([w.next(), runShadowTool('usermod', ['--password', '!locked', 'pat'], { root: root.dir })]);
      } finally {
        await w.stop();
      }
      assert.equal(await hashOf('pat'), '!locked');
      assert.equal(await check(u2), false);
      assert.equal(await hashOf('pat'), h2);
      assert.deepEqual(infos(ctx.lines), [
        'info: would create the user (password set)',
        'info: created the user (password set)',
        'info: would change shell /bin/bash -> /bin/sh, password (hash not shown)',
        'info: shell /bin/bash -> /bin/sh, password (hash not shown)',
        'info: password (hash not shown)',
      ]);
      for (const h of [h1, h2]) assert.ok(!ctx.lines.join('\n').includes(h), 'a hash was printed');
      assert.deepEqual(
        userKind.validate!('x', { password: 'a:b' }).map((p) => p.message),
        ["`password` cannot contain ':' or a line break"],
      );
    }));
});
