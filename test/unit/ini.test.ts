// The ini kind driven directly on temp files (the editing rules themselves: ini-text.test.ts).
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { autoEdges } from '../../src/engine/autoedges.js';
import type { ResourceSpec } from '../../src/graph/spec.js';
import { iniKind } from '../../src/resources/ini.js';
import type { Resource } from '../../src/resources/resource.js';
import { check, recordingContext, startWatch, type RecordingContext } from '../harness/resource-context.js';
import { registry } from '../../src/cli/registry.js';

type Params = Record<string, string | boolean | number>;
let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mgmt-ini-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function make(params: Params, name = 'i'): { r: Resource; ctx: RecordingContext } {
  assert.deepEqual(iniKind.validate?.(name, params) ?? [], [], 'test resources must be valid');
  const ctx = recordingContext(`ini[${name}]`);
  return { r: iniKind.create(name, params, ctx), ctx };
}

test('creates a missing file with mode 0644; never logs the value', async () => {
  const path = join(dir, 'a.ini');
  const { r, ctx } = make({ path, section: 'db', setting: 'password', value: 's3cret' });
  assert.equal(await check(r), false);
  assert.equal(readFileSync(path, 'utf8'), '[db]\npassword = s3cret\n');
  assert.equal(statSync(path).mode & 0o7777, 0o644);
  assert.equal(await check(r), true);
  assert.deepEqual(ctx.lines, [`info: edited ${path} (new file): password added in a new section db`]);
  assert.ok(!ctx.lines.join().includes('s3cret'));
});

test('changes a value in place, keeping mode and every other byte', async () => {
  const path = join(dir, 'a.ini');
  writeFileSync(path, '# top\r\n[db]\r\nhost=old\r\nport = 1\r\n');
  chmodSync(path, 0o640);
  assert.equal(await check(make({ path, section: 'db', setting: 'host', value: 'new' }).r), false);
  assert.equal(readFileSync(path, 'utf8'), '# top\r\n[db]\r\nhost=new\nport = 1\r\n');
  assert.equal(statSync(path).mode & 0o7777, 0o640);
});

test('non-UTF-8 bytes elsewhere are kept, and UTF-8 values are written as UTF-8', async () => {
  const path = join(dir, 'a.ini');
  writeFileSync(path, Buffer.concat([Buffer.from('[s]\nname = caf'), Buffer.from([0xe9]), Buffer.from('\n')]));
  assert.equal(await check(make({ path, section: 's', setting: 'städt', value: 'München' }).r), false);
  assert.deepEqual(readFileSync(path), Buffer.concat([Buffer.from('[s]\nname = caf'), Buffer.from([0xe9]), Buffer.from('\nstädt = München\n')]));
});

test('noop reports and changes nothing; a missing file with state absent is in sync', async () => {
  const path = join(dir, 'a.ini');
  const { r, ctx } = make({ path, section: '', setting: 'k', value: 'v' });
  assert.equal(await check(r, { apply: false }), false);
  assert.deepEqual(ctx.lines, [`info: would edit ${path} (new file): k added at the top of the file`]);
  assert.equal(await check(make({ path, setting: 'k', state: 'absent' }).r), true);
});

test('a missing directory is an actionable error', async () => {
  const path = join(dir, 'nodir', 'a.ini');
  await assert.rejects(check(make({ path, setting: 'k', value: 'v' }).r), /its directory .*nodir does not exist/);
});

test('watch: drift by hand is seen and repaired', async () => {
  const path = join(dir, 'a.ini');
  const { r } = make({ path, section: 's', setting: 'k', value: 'v' });
  const w = await startWatch(r);
  assert.equal(await check(r), false);
  const next = w.next();
  writeFileSync(path, '[s]\nk = hand\n');
  await next;
  assert.equal(await check(r), false);
  assert.equal(readFileSync(path, 'utf8'), '[s]\nk = v\n');
  await w.stop();
});

test('several settings of one file do not lose each other’s edits', async () => {
  const path = join(dir, 'a.ini');
  const rs = ['a', 'b', 'c', 'd'].map((k) => make({ path, section: 's', setting: k, value: k.toUpperCase() }, k).r);
  await Promise.all(rs.map((r) => check(r)));
  assert.equal(readFileSync(path, 'utf8'), '[s]\na = A\nb = B\nc = C\nd = D\n');
});

test('validate: required params, and settings that would not read back', () => {
  const problems = (p: Params) => (iniKind.validate?.('i', p) ?? []).map((x) => x.message).join('\n');
  assert.match(problems({ setting: 'k' }), /`path` is required/);
  assert.match(problems({ path: '/a.ini' }), /`setting` is required/);
  assert.match(problems({ path: '/a.ini', setting: 'k', value: ' v' }), /would not read back/);
  assert.match(problems({ path: '/a.ini', setting: 'a=b' }), /would not read back/);
  assert.match(problems({ path: '/a.ini', setting: 'k', indentchar: 'x', indentwidth: 2 }), /would not read back/);
  assert.equal(problems({ path: '/a.ini', section: 'x y', setting: 'k.a-b', value: 'v = w # c' }), '');
});

test('autoedges: after the file that manages the path, and after its directory', () => {
  const spec = (kind: string, name: string, params: Record<string, unknown>): ResourceSpec => ({ kind, name, params, meta: {} });
  const edges = autoEdges(registry, [
    spec('file', '/etc/app/', { state: 'exists' }),
    spec('file', '/etc/app/a.ini', { state: 'exists' }),
    spec('ini', 'i', { path: '/etc/app/a.ini', setting: 'k' }),
  ]).map((e) => e.name);
  assert.deepEqual(edges.sort(), ['file[/etc/app/] -> file[/etc/app/a.ini]', 'file[/etc/app/] -> ini[i]', 'file[/etc/app/a.ini] -> ini[i]']);
});
