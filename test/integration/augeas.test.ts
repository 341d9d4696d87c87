// The augeas kind against the real augtool (Debian package augeas-tools) and Debian's lenses, on scratch roots
// (augtool --root), so no file of the machine is touched: changes with incl/lens and with Augeas's autoload, the
// context, onlyif, force, and a tree the lens cannot write back.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { augeasKind } from '../../src/resources/augeas.js';
import { check, startWatch, validResource } from '../harness/resource-context.js';

let root = '';
const HOSTS = '127.0.0.1 localhost\n10.0.0.1 db.example db\n';
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'mgmt-augeas-'));
  mkdirSync(join(root, 'etc'));
  writeFileSync(join(root, 'etc/hosts'), HOSTS);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));
const hosts = () => readFileSync(join(root, 'etc/hosts'), 'utf8');

test('incl and lens: a relative path in the default context (/files<incl>), noop first, then in sync', async () => {
  const { r, ctx } = validResource(augeasKind, 'db-ip', { root, incl: '/etc/hosts', lens: 'Hosts.lns', changes: ['set 2/ipaddr 10.0.0.2'] });
  assert.equal(await check(r, { apply: false }), false);
  assert.equal(hosts(), HOSTS);
  assert.equal(await check(r), false);
  assert.equal(hosts(), '127.0.0.1 localhost\n10.0.0.2 db.example db\n');
  assert.equal(await check(r), true);
  assert.deepEqual(ctx.lines, ['info: would change /etc/hosts', 'info: changed /etc/hosts']);
});

test("Augeas's autoload without incl, an explicit context, values with spaces and quotes reach Augeas as written", async () => {
  writeFileSync(join(root, 'etc/hosts'), '127.0.0.1 localhost # the "local" host\n');
  const { r } = validResource(augeasKind, 'comment', {
    root,
    context: '/files/etc/hosts',
    changes: ['set 1/#comment \'the "loopback" host\''],
  });
  assert.equal(await check(r), false);
  assert.equal(hosts(), '127.0.0.1 localhost # the "loopback" host\n');
  assert.equal(await check(r), true);
});

test('onlyif: match size adds an entry once; get compares the value', async () => {
  const add = ['set 01/ipaddr 192.0.2.7', 'set 01/canonical web.example'];
  const { r } = validResource(augeasKind, 'web', {
    root,
    incl: '/etc/hosts',
    lens: 'Hosts.lns',
    changes: add,
    onlyif: "match *[canonical = 'web.example'] size == 0",
  });
  assert.equal(await check(r), false);
  assert.equal(hosts(), `${HOSTS}192.0.2.7\tweb.example\n`);
  assert.equal(await check(r), true, 'the condition no longer holds');
  const when = (onlyif: string) =>
    validResource(augeasKind, 'g', { root, incl: '/etc/hosts', lens: 'Hosts.lns', changes: ['set 1/ipaddr 127.0.1.1'], onlyif }).r;
  assert.equal(await check(when('get 1/ipaddr != 127.0.0.1'), { apply: false }), true);
  assert.equal(await check(when('get 1/ipaddr =~ ^127\\.'), { apply: false }), false);
  assert.equal(await check(when("match *[canonical = 'db.example'] include /files/etc/hosts/2"), { apply: false }), false);
});

test('force runs changes that change nothing; a tree the lens cannot write back fails and leaves the file', async () => {
  const forced = validResource(augeasKind, 'same', { root, incl: '/etc/hosts', lens: 'Hosts.lns', changes: ['set 1/ipaddr 127.0.0.1'], force: true });
  assert.equal(await check(forced.r), false);
  assert.deepEqual(forced.ctx.lines, ['info: changed no file (force)']);
  const bad = validResource(augeasKind, 'bad', { root, incl: '/etc/hosts', lens: 'Hosts.lns', changes: ['set 2/alias[last()+1] "two words"'] });
  await assert.rejects(
    check(bad.r),
    /the changes failed \(augtool exit code 1\): .*\/etc\/hosts: Failed to match tree under \/files\/etc\/hosts\/2.*check the paths and values of `changes`/,
  );
  const path = validResource(augeasKind, 'path', { root, incl: '/etc/hosts', lens: 'Hosts.lns', changes: ['set 1/ipaddr|x 1'] });
  await assert.rejects(check(path.r), /the changes failed \(augtool exit code 1\): error: /);
  assert.equal(hosts(), HOSTS);
});

test('not watched: a change that is not idempotent (alias[last()+1]) is applied once per check, never in a loop on its own save', async () => {
  const { r } = validResource(augeasKind, 'alias', { root, incl: '/etc/hosts', lens: 'Hosts.lns', changes: ["set 2/alias[last()+1] 'db2'"] });
  const w = await startWatch(r);
  try {
    assert.equal(w.events(), 1);
    assert.equal(await check(r), false);
    writeFileSync(join(root, 'etc/hosts'), hosts() + '# edited\n');
    assert.equal(w.events(), 1, 'no event from the file it edits');
  } finally {
    await w.stop();
  }
  assert.equal(hosts(), '127.0.0.1 localhost\n10.0.0.1 db.example db db2\n# edited\n');
});

test('validation: commands, onlyif, incl with lens', () => {
  const problems = (p: Record<string, unknown>) => augeasKind.validate!('a', p).map((x) => x.message);
  assert.deepEqual(problems({ changes: ['save', 'set /x', "set /x 'open"], onlyif: 'values /x include y', incl: '/etc/hosts' }), [
    'give both `incl` and `lens`, or neither',
    "change 1: unknown command 'save' (the commands are set, setm, rm, remove, clear, clearm, touch, mv, move, rename, insert, ins, defvar, defnode)",
    "change 2: 'set' takes 2 arguments, got 1",
    'change 3: unterminated single quote',
    '`onlyif`: only `get PATH OP VALUE` (OP: == != < <= > >= =~) and `match PATH size OP N`, `match PATH include VALUE`, `match PATH not_include VALUE` are supported',
  ]);
  assert.deepEqual(problems({ changes: ['set /x 1\nsave'] }), ['change 1 contains a line break: give one command per item']);
});
