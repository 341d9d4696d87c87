// The account files and the shadow tools: parsing, names, exit codes. The real tools against a scratch root need
// root: test/integration/shadow-scratch-root.test.ts.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { commandLine, exitMeaning, parseGroup, parsePasswd, parseShadowHashes, supplementaryGroups } from '../../src/system/tools/shadow.js';
import { invalidAccountName, invalidPasswordHash } from '../../src/system/tools/account-names.js';

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

it('shadow text: the password field of each well-formed line by name; a hash with a colon or line break is invalid', () => {
  const m = parseShadowHashes('root:*:19000:0:99999:7:::\n# comment\nbad:line\nu:$6$s$h:19000::::::\n+nis::::::::\n');
  assert.deepEqual(
    [...m],
    [
      ['root', '*'],
      ['u', '$6$s$h'],
    ],
  );
  assert.equal(invalidPasswordHash('$6$s$h'), undefined);
  assert.equal(invalidPasswordHash('a:b'), "cannot contain ':' or a line break");
  assert.equal(invalidPasswordHash('a\nb'), "cannot contain ':' or a line break");
});
