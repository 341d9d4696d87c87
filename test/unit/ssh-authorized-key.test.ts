// The ssh:authorized_key kind against real files given by `target`. In a real user's home (needs root):
// test/integration/ssh-authorized-key-home.test.ts.
import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { checkGraphText } from '../../src/graph/read.js';
import { vertexId } from '../../src/graph/spec.js';
import { sshAuthorizedKeyKind } from '../../src/resources/ssh-authorized-key.js';
import { check, startWatch, validResource } from '../harness/resource-context.js';
import { registry } from '../../src/cli/registry.js';

const K1 = 'AAAAC3NzaC1lZDI1NTE5AAAAIBx';
const K2 = 'AAAAB3NzaC1yc2EAAAADAQABAAABAQ';

let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mgmt-sshkey-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const make = (name: string, params: Record<string, unknown>) => validResource(sshAuthorizedKeyKind, name, params);
const modeOf = (p: string) => statSync(p).mode & 0o7777;

describe('ssh:authorized_key with a target', () => {
  it('adds the key (noop first), keeps other lines, writes mode 0600, then is OK', async () => {
    const target = join(dir, 'authorized_keys');
    const before = `# keys\nssh-rsa ${K2} other@host`;
    writeFileSync(target, before, { mode: 0o644 });
    const { r, ctx } = make('me@laptop', { user: 'root', type: 'ssh-ed25519', key: K1, options: ['no-pty', 'command="echo hi"'], target });
    assert.equal(await check(r, { apply: false }), false);
    assert.equal(readFileSync(target, 'utf8'), before);
    assert.equal(await check(r), false);
    assert.equal(readFileSync(target, 'utf8'), `${before}\nno-pty,command="echo hi" ssh-ed25519 ${K1} me@laptop\n`);
    assert.equal(modeOf(target), 0o600);
    assert.equal(await check(r), true);
    assert.deepEqual(ctx.lines, [`info: would add the key "me@laptop" to ${target}`, `info: add the key "me@laptop" to ${target}`]);
  });

  it('creates the missing directory 0700 and file 0600', async () => {
    const target = join(dir, 'ssh', 'keys');
    assert.equal(await check(make('k', { type: 'ssh-rsa', key: K2, target }).r), false);
    assert.equal(modeOf(join(dir, 'ssh')), 0o700);
    assert.equal(modeOf(target), 0o600);
    assert.equal(readFileSync(target, 'utf8'), `ssh-rsa ${K2} k\n`);
  });

  it('creates only the file’s own directory, as Puppet’s provider: a missing one above it is reported under noop, refused when applying', async () => {
    const target = join(dir, 'var', 'ssh', 'jeff', 'keys');
    const { r, ctx } = make('k', { user: 'root', type: 'ssh-rsa', key: K2, target });
    assert.equal(await check(r, { apply: false }), false);
    assert.deepEqual(ctx.lines, [
      `info: would create ${join(dir, 'var', 'ssh', 'jeff')} (0700) and add the key "k" to ${target} (${join(dir, 'var', 'ssh')} does not exist yet)`,
    ]);
    await assert.rejects(
      check(r),
      new RegExp(
        `cannot create ${join(dir, 'var', 'ssh', 'jeff')}: ${join(dir, 'var', 'ssh')} does not exist \\(only the key file's own directory is created, as Puppet does\\); create ${join(dir, 'var', 'ssh')} first`,
      ),
    );
    assert.deepEqual(readdirSync(dir), [], 'nothing was created');
    // Once an earlier resource has made the directory above, the key's own directory is created with the file.
    mkdirSync(join(dir, 'var', 'ssh'), { recursive: true });
    assert.equal(await check(r), false);
    assert.equal(modeOf(join(dir, 'var', 'ssh', 'jeff')), 0o700);
    assert.equal(readFileSync(target, 'utf8'), `ssh-rsa ${K2} k\n`);
  });

  it('under noop, a user the run has not created yet is reported with the plan; applying, it is an error', async () => {
    const user = 'mgmt-no-such-user-sshkey';
    const target = join(dir, 'keys');
    const withTarget = make('k', { user, type: 'ssh-rsa', key: K2, target });
    assert.equal(await check(withTarget.r, { apply: false }), false);
    assert.deepEqual(withTarget.ctx.lines, [`info: would add the key "k" to ${target}`]);
    const inHome = make('k', { user, type: 'ssh-rsa', key: K2 });
    assert.equal(await check(inHome.r, { apply: false }), false);
    assert.deepEqual(inHome.ctx.lines, [`info: would add the key "k" to ~${user}/.ssh/authorized_keys (user ${user} not yet created)`]);
    assert.equal(await check(make('k', { user, state: 'absent' }).r, { apply: false }), true);
    await assert.rejects(check(inHome.r), new RegExp(`no such user '${user}'`));
    assert.deepEqual(readdirSync(dir), []);
  });

  it('absent removes every key with the comment; a missing directory is fine', async () => {
    assert.equal(await check(make('k', { state: 'absent', target: join(dir, 'none', 'keys') }).r), true);
    const target = join(dir, 'keys');
    writeFileSync(target, `ssh-rsa ${K2} k\nssh-rsa ${K2} keep\nssh-ed25519 ${K1} k\n`);
    assert.equal(await check(make('k', { state: 'absent', target }).r), false);
    assert.equal(readFileSync(target, 'utf8'), `ssh-rsa ${K2} keep\n`);
  });

  it('refuses to follow a symlink at the file or at its directory', async () => {
    const elsewhere = join(dir, 'elsewhere');
    mkdirSync(elsewhere);
    writeFileSync(join(elsewhere, 'keys'), 'secret\n');
    symlinkSync(join(elsewhere, 'keys'), join(dir, 'keys'));
    await assert.rejects(check(make('k', { type: 'ssh-rsa', key: K2, target: join(dir, 'keys') }).r), /keys is a symlink; not following it/);
    symlinkSync(elsewhere, join(dir, 'linkdir'));
    await assert.rejects(check(make('k', { type: 'ssh-rsa', key: K2, target: join(dir, 'linkdir', 'keys') }).r), /linkdir is a symlink; not following it/);
    assert.equal(readFileSync(join(elsewhere, 'keys'), 'utf8'), 'secret\n', 'nothing was written through the links');
    assert.ok(lstatSync(join(dir, 'keys')).isSymbolicLink());
  });

  it('the watch reports an edit by hand', async () => {
    const target = join(dir, 'keys');
    const { r } = make('k', { type: 'ssh-rsa', key: K2, target });
    const w = startWatch(r);
    try {
      await w.next();
      assert.equal(await check(r), false);
      writeFileSync(target, '# emptied\n');
      await w.next();
      assert.equal(await check(r), false);
    } finally {
      await w.stop();
    }
  });

  it('validates: user or target, type and key when present, options, comment', () => {
    const v = (name: string, p: Record<string, unknown>) =>
      sshAuthorizedKeyKind.validate!(name, p)
        .map((x) => x.message)
        .join('\n');
    assert.match(v('k', { type: 'ssh-rsa', key: K2 }), /set `user`.*or `target`/);
    assert.match(v('k', { user: 'u' }), /`type` is required[^]*`key` is required/);
    assert.equal(v('k', { user: 'u', state: 'absent' }), '');
    assert.match(v(' k', { user: 'u', state: 'absent' }), /must not start or end with blanks/);
    assert.match(v('k', { target: 'rel/keys', state: 'absent' }), /absolute, normalized path/);
    assert.deepEqual(sshAuthorizedKeyKind.autoEdges!('k', { user: 'u' }), { afterVertex: [{ kind: 'user', name: 'u' }] });
    assert.deepEqual(sshAuthorizedKeyKind.autoEdges!('k', { user: 'u', target: '/srv/k' }), {
      afterVertex: [{ kind: 'user', name: 'u' }],
      afterPath: ['/srv/k'],
      afterNearestAncestor: ['/srv/k'],
    });
  });
});

describe('a kind name with a colon', () => {
  it('loads from YAML (as a key and in edges), validates, and names its vertex', () => {
    const yaml = [
      'graph: g',
      'resources:',
      '  ssh:authorized_key:',
      '  - name: me@laptop',
      '    user: root',
      '    type: ssh-ed25519',
      `    key: ${K1}`,
      '  file:',
      '  - name: /root/.ssh/',
      '    state: exists',
      'edges:',
      '- from: {kind: file, name: /root/.ssh/}',
      '  to: {kind: ssh:authorized_key, name: me@laptop}',
      '',
    ].join('\n');
    const { spec, diagnostics } = checkGraphText(registry, yaml, 'g.yaml');
    assert.deepEqual(diagnostics, []);
    assert.deepEqual(spec!.resources.map((r) => vertexId(r)).sort(), ['file[/root/.ssh/]', 'ssh:authorized_key[me@laptop]']);
    assert.equal(vertexId(spec!.edges[0]!.to), 'ssh:authorized_key[me@laptop]');
    const bad = checkGraphText(registry, yaml.replace('type: ssh-ed25519', 'type: nope'), 'g.yaml').diagnostics;
    assert.match(bad.map((d) => d.message).join('\n'), /parameter `type`: does not match/);
  });
});
