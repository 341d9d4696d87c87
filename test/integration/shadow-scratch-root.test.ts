// The real shadow tools run against a scratch root (`--root`), so the machine's own accounts are never touched here.
// Needs root: the tools chroot into the scratch root. Parsing, names and exit codes: test/unit/shadow.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { accountFiles, readAccounts, runShadowTool, ShadowToolError, supplementaryGroups } from '../../src/system/tools/shadow.js';
import { scratchRoot, whyNoScratchRoot } from '../harness/scratch-accounts.js';

describe('the shadow tools on a scratch root', () => {
  it('create, change and remove accounts; failures carry the command, the code, its meaning and stderr', async (t) => {
    const why = whyNoScratchRoot();
    if (why) {
      t.skip(why);
      return;
    }
    const root = await scratchRoot();
    try {
      const files = accountFiles(root.dir);
      await runShadowTool('groupadd', ['--gid', '2000', 'g1'], { root: root.dir });
      await runShadowTool('useradd', ['--uid', '2001', '--groups', 'g1', '--shell', '/bin/sh', 'u1'], { root: root.dir });
      let acc = await readAccounts(files);
      assert.deepEqual(
        acc.users.find((u) => u.name === 'u1'),
        { name: 'u1', uid: 2001, gid: 100, comment: '', home: '/home/u1', shell: '/bin/sh' },
      );
      assert.deepEqual(supplementaryGroups(acc.groups, 'u1'), ['g1']);

      await assert.rejects(runShadowTool('useradd', ['--gid', 'nosuch', 'u2'], { root: root.dir }), (e: unknown) => {
        assert.ok(e instanceof ShadowToolError);
        assert.equal(e.code, 6);
        assert.match(
          e.message,
          /^useradd --root \S+ --gid nosuch u2 exited with code 6 \(a group given does not exist.*\): useradd: group 'nosuch' does not exist$/,
        );
        return true;
      });
      await assert.rejects(runShadowTool('groupadd', ['--gid', '2000', 'g2'], { root: root.dir }), /exited with code 4 \(the gid is already in use\)/);
      await runShadowTool('userdel', ['u1'], { root: root.dir });
      await runShadowTool('groupdel', ['g1'], { root: root.dir });
      acc = await readAccounts(files);
      assert.ok(!acc.users.some((u) => u.name === 'u1'));
      assert.ok(!acc.groups.some((g) => g.name === 'g1'));
    } finally {
      await root.remove();
    }
  });

  it('a cancelled run says so and starts nothing', async (t) => {
    const why = whyNoScratchRoot();
    if (why) {
      t.skip(why);
      return;
    }
    const root = await scratchRoot();
    try {
      const ac = new AbortController();
      ac.abort();
      await assert.rejects(runShadowTool('groupadd', ['g9'], { root: root.dir, signal: ac.signal }), /was cancelled before it started/);
      assert.ok(!(await readAccounts(accountFiles(root.dir))).groups.some((g) => g.name === 'g9'));
    } finally {
      await root.remove();
    }
  });
});
