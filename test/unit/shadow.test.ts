// The account files and the shadow tools: parsing, names, exit codes, and the real tools run against a scratch
// root (`--root`), so the machine's own accounts are never touched here.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  accountFiles,
  commandLine,
  exitMeaning,
  invalidAccountName,
  parseGroup,
  parsePasswd,
  readAccounts,
  runShadowTool,
  ShadowToolError,
  supplementaryGroups,
} from '../../src/system/tools/shadow.js';
import { scratchRoot, whyNoScratchRoot } from '../harness/scratch-accounts.js';

describe('parsing /etc/passwd and /etc/group', () => {
  it('reads every field, keeps commas in the comment, skips comments, NIS lines and malformed lines', () => {
    const users = parsePasswd(
      [
        'root:x:0:0:root:/root:/bin/bash',
        '# a comment',
        '',
        '+nisuser::::::',
        '-',
        'bob:x:1001:100:Bob Builder,Room 1,,:/home/bob:',
        'short:x:1:1',
        'baduid:x:abc:1::/:/bin/sh',
        'big:x:4294967295:1::/:/bin/sh',
      ].join('\n'),
    );
    assert.deepEqual(users, [
      { name: 'root', uid: 0, gid: 0, comment: 'root', home: '/root', shell: '/bin/bash' },
      { name: 'bob', uid: 1001, gid: 100, comment: 'Bob Builder,Room 1,,', home: '/home/bob', shell: '' },
    ]);
  });

  it('reads group members and finds supplementary groups', () => {
    const groups = parseGroup(['root:x:0:', 'staff:x:50:bob,alice', 'audio:x:29:alice,', 'broken:x:', 'wheel:*:10:bob'].join('\n'));
    assert.deepEqual(groups, [
      { name: 'root', gid: 0, members: [] },
      { name: 'staff', gid: 50, members: ['bob', 'alice'] },
      { name: 'audio', gid: 29, members: ['alice'] },
      { name: 'wheel', gid: 10, members: ['bob'] },
    ]);
    assert.deepEqual(supplementaryGroups(groups, 'bob'), ['staff', 'wheel']);
    assert.deepEqual(supplementaryGroups(groups, 'nobody'), []);
  });

  it('parses this machine’s files', () => {
    const users = parsePasswd(readFileSync('/etc/passwd', 'utf8'));
    assert.ok(users.some((u) => u.name === 'root' && u.uid === 0));
    assert.ok(parseGroup(readFileSync('/etc/group', 'utf8')).some((g) => g.name === 'root' && g.gid === 0));
  });
});

describe('names and messages', () => {
  it('refuses names that are always wrong and leaves the rest to the tools', () => {
    for (const ok of ['bob', 'a.b', 'Upper', 'svc-1', 'x$', 'a'.repeat(32)]) assert.equal(invalidAccountName(ok), undefined, ok);
    assert.match(invalidAccountName('')!, /empty/);
    assert.match(invalidAccountName('a'.repeat(33))!, /longer than 32/);
    for (const bad of ['a:b', 'a,b', 'a b', 'a/b', 'a\nb']) assert.match(invalidAccountName(bad)!, /colon, comma/);
    for (const bad of ['-x', '+x', '#x']) assert.match(invalidAccountName(bad)!, /starts with/);
  });

  it('knows what the documented exit codes mean', () => {
    assert.match(exitMeaning('useradd', 6)!, /group given does not exist/);
    assert.match(exitMeaning('groupdel', 8)!, /primary group/);
    assert.match(exitMeaning('userdel', 8)!, /running processes/);
    assert.equal(exitMeaning('useradd', 77), undefined);
  });

  it('quotes arguments in command lines', () => {
    assert.equal(commandLine('usermod', ['--comment', "Bob's box", 'bob']), `usermod --comment 'Bob'\\''s box' bob`);
  });
});

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
