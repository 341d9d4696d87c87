import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatKeyLine, OPTION_PATTERN, parseKeyLine, planKeys } from '../../src/system/formats/authorized-keys-text.js';

const K1 = 'AAAAC3NzaC1lZDI1NTE5AAAAIBx';
const K2 = 'AAAAB3NzaC1yc2EAAAADAQABAAABAQ';

describe('authorized_keys lines', () => {
  it('parses type, key and a comment with spaces', () => {
    assert.deepEqual(parseKeyLine(`ssh-ed25519 ${K1} me@laptop`), { options: [], type: 'ssh-ed25519', key: K1, comment: 'me@laptop' });
    assert.deepEqual(parseKeyLine(`ssh-rsa\t${K2}   two words here  `), { options: [], type: 'ssh-rsa', key: K2, comment: 'two words here' });
    assert.deepEqual(parseKeyLine(`  ecdsa-sha2-nistp256 ${K2}`), { options: [], type: 'ecdsa-sha2-nistp256', key: K2, comment: '' });
  });

  it('parses options, with quoted values holding blanks, commas and escaped quotes', () => {
    assert.deepEqual(parseKeyLine(`no-pty,command="echo a, b \\"c\\"",from="10.0.0.*" ssh-ed25519 ${K1} c`), {
      options: ['no-pty', 'command="echo a, b \\"c\\""', 'from="10.0.0.*"'],
      type: 'ssh-ed25519',
      key: K1,
      comment: 'c',
    });
    assert.deepEqual(parseKeyLine(`cert-authority sk-ssh-ed25519@openssh.com ${K1} ca`)!.options, ['cert-authority']);
  });

  it('skips comments, blank lines and lines that are not keys', () => {
    for (const l of [
      '',
      '   ',
      `# ssh-ed25519 ${K1} old`,
      '  # indented',
      'garbage',
      `no-pty,command="unterminated ssh-rsa ${K2} x`,
      `1024 35 1234567 sshv1-key`,
    ]) {
      assert.equal(parseKeyLine(l), undefined, JSON.stringify(l));
    }
  });

  it('formats like Puppet: options joined with commas, single spaces', () => {
    assert.equal(
      formatKeyLine({ options: ['no-pty', 'command="echo hi"'], type: 'ssh-ed25519', key: K1, comment: 'me@laptop' }),
      `no-pty,command="echo hi" ssh-ed25519 ${K1} me@laptop`,
    );
    assert.equal(formatKeyLine({ options: [], type: 'ssh-rsa', key: K2, comment: 'two words' }), `ssh-rsa ${K2} two words`);
  });

  it('validates single options like Puppet', () => {
    const re = new RegExp(OPTION_PATTERN, 'u');
    for (const ok of ['no-pty', 'command="/bin/true"', 'from="a,b"', 'command="echo \\"x\\""', 'principals="superuser"']) assert.ok(re.test(ok), ok);
    for (const bad of ['no pty', 'a,b', 'command=/bin/true', 'command="x" y', '']) assert.ok(!re.test(bad), bad);
  });
});

describe('planning an authorized_keys edit', () => {
  const file = `# keys\nssh-rsa ${K2} other@host\n\nssh-ed25519 ${K1} me@laptop\n`;

  it('adds a missing key and keeps the rest byte for byte', () => {
    const p = planKeys(file, 'new key', { type: 'ssh-rsa', key: K2, options: ['no-pty'] });
    assert.equal(p.text, `${file}no-pty ssh-rsa ${K2} new key\n`);
    assert.deepEqual(p.changes, ['add the key "new key" to the authorized_keys file']);
    assert.equal(planKeys(`ssh-rsa ${K2} x`, 'y', { type: 'ssh-rsa', key: K2, options: [] }).text, `ssh-rsa ${K2} x\nssh-rsa ${K2} y\n`);
  });

  it('is satisfied by the same key whatever its spacing', () => {
    const text = `ssh-ed25519\t${K1}    me@laptop   \n`;
    assert.deepEqual(planKeys(text, 'me@laptop', { type: 'ssh-ed25519', key: K1, options: [] }), { text, changes: [] });
  });

  it('rewrites the key with the comment when type, key or options differ', () => {
    const p = planKeys(file, 'me@laptop', { type: 'ssh-ed25519', key: K1, options: ['restrict'] });
    assert.equal(p.text, file.replace(`ssh-ed25519 ${K1} me@laptop`, `restrict ssh-ed25519 ${K1} me@laptop`));
    assert.deepEqual(p.changes, ['update the key "me@laptop" in the authorized_keys file (line 4): options [] → [restrict]']);
    assert.deepEqual(planKeys(file, 'me@laptop', { type: 'ssh-rsa', key: K2, options: [] }).changes, [
      'update the key "me@laptop" in the authorized_keys file (line 4): type ssh-ed25519 → ssh-rsa, key',
    ]);
  });

  it('with duplicate comments, manages the matching key, else the last, and leaves the others', () => {
    const dup = `ssh-rsa ${K2} me\nssh-ed25519 ${K1} me\n`;
    assert.deepEqual(planKeys(dup, 'me', { type: 'ssh-rsa', key: K2, options: [] }).changes, []);
    assert.equal(planKeys(dup, 'me', { type: 'ssh-rsa', key: 'AAAA', options: [] }).text, `ssh-rsa ${K2} me\nssh-rsa AAAA me\n`);
  });

  it('removes every key with the comment when absent, never a commented-out one', () => {
    const text = `ssh-rsa ${K2} me\n# ssh-rsa ${K2} me\nssh-ed25519 ${K1} me`;
    const p = planKeys(text, 'me', null);
    assert.equal(p.text, `# ssh-rsa ${K2} me`);
    assert.equal(p.changes.length, 2);
    assert.deepEqual(planKeys(file, 'nobody', null), { text: file, changes: [] });
  });
});
