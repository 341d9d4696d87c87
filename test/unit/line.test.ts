// The line kind driven directly on temp files (the editing rules themselves: file-line-text.test.ts).
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync, lstatSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { autoEdges } from '../../src/engine/autoedges.js';
import type { ResourceSpec } from '../../src/graph/spec.js';
import { lineKind } from '../../src/resources/line.js';
import type { Resource } from '../../src/resources/resource.js';
import { check, recordingContext, startWatch, type RecordingContext } from '../harness/resource-context.js';
import { registry } from '../../src/cli/registry.js';

type Params = Record<string, string | boolean>;
let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mgmt-line-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function make(params: Params, name = 'l'): { r: Resource; ctx: RecordingContext } {
  assert.deepEqual(lineKind.validate?.(name, params) ?? [], [], 'test resources must be valid');
  const ctx = recordingContext(`line[${name}]`);
  return { r: lineKind.create(name, params, ctx), ctx };
}

test('appends, then is in sync; keeps mode and owner; logs what it did without the line', async () => {
  const path = join(dir, 'f');
  writeFileSync(path, 'a\n');
  chmodSync(path, 0o600);
  const { r, ctx } = make({ path, line: 'secret=1' });
  assert.equal(await check(r), false);
  assert.equal(readFileSync(path, 'utf8'), 'a\nsecret=1\n');
  assert.equal(statSync(path).mode & 0o7777, 0o600);
  assert.equal(await check(r), true);
  assert.deepEqual(ctx.lines, [`info: edited ${path}: line appended`]);
});

test('noop reports and changes nothing', async () => {
  const path = join(dir, 'f');
  writeFileSync(path, 'k=1\n');
  const { r, ctx } = make({ path, line: 'k=2', match: '^k=' });
  assert.equal(await check(r, { apply: false }), false);
  assert.equal(readFileSync(path, 'utf8'), 'k=1\n');
  assert.deepEqual(ctx.lines, [`info: would edit ${path}: 1 matching line replaced`]);
});

test('a missing file: an error when applying, a note under noop, in sync when absent', async () => {
  const path = join(dir, 'missing');
  const { r } = make({ path, line: 'x' });
  await assert.rejects(check(r), /does not exist; a line is added to an existing file/);
  assert.equal(await check(r, { apply: false }), false);
  assert.equal(await check(make({ path, line: 'x', state: 'absent' }).r), true);
});

test('several matches without multiple: an error that names the file', async () => {
  const path = join(dir, 'f');
  writeFileSync(path, 'k=1\nk=3\n');
  await assert.rejects(check(make({ path, line: 'k=2', match: '^k=' }).r), /more than one line in .*\/f matches `match`/);
  assert.equal(readFileSync(path, 'utf8'), 'k=1\nk=3\n');
});

test('follows a symlink: the target is edited, the link stays', async () => {
  const target = join(dir, 'target');
  const link = join(dir, 'link');
  writeFileSync(target, 'a\n');
  symlinkSync(target, link);
  assert.equal(await check(make({ path: link, line: 'x' }).r), false);
  assert.ok(lstatSync(link).isSymbolicLink());
  assert.equal(readlinkSync(link), target);
  assert.equal(readFileSync(target, 'utf8'), 'a\nx\n');
});

test('utf-8 files are checked, latin1 edits any bytes', async () => {
  const path = join(dir, 'f');
  writeFileSync(path, Buffer.from([0x61, 0xe9, 0x0a]));
  await assert.rejects(check(make({ path, line: 'x' }).r), /not valid UTF-8; set encoding: latin1/);
  assert.equal(await check(make({ path, line: 'café', encoding: 'latin1' }).r), false);
  assert.deepEqual([...readFileSync(path)], [0x61, 0xe9, 0x0a, 0x63, 0x61, 0x66, 0xe9, 0x0a]);
});

test('watch: an event at start and when the file is edited by hand; drift is repaired', async () => {
  const path = join(dir, 'f');
  writeFileSync(path, 'a\n');
  const { r } = make({ path, line: 'x' });
  const w = await startWatch(r);
  assert.equal(w.events(), 1);
  assert.equal(await check(r), false);
  const next = w.next();
  writeFileSync(path, 'a\n'); // someone removes our line
  await next;
  assert.equal(await check(r), false);
  assert.equal(readFileSync(path, 'utf8'), 'a\nx\n');
  await w.stop();
});

test('watch follows a symlink to the file it edits', async () => {
  const target = join(dir, 'target');
  const link = join(dir, 'link');
  writeFileSync(target, 'x\n');
  symlinkSync(target, link);
  const { r } = make({ path: link, line: 'x' });
  const w = await startWatch(r);
  assert.equal(await check(r), true);
  const next = w.next();
  writeFileSync(target, 'changed\n');
  await next;
  await w.stop();
});

test('several line resources on one file do not lose each other’s edits', async () => {
  const path = join(dir, 'f');
  writeFileSync(path, '');
  const rs = ['a', 'b', 'c', 'd'].map((l) => make({ path, line: l }, l).r);
  assert.deepEqual(await Promise.all(rs.map((r) => check(r))), [false, false, false, false]);
  assert.deepEqual(readFileSync(path, 'utf8').split('\n').sort(), ['', 'a', 'b', 'c', 'd']);
});

test('validate: path, regexes and file_line’s own rules', () => {
  const problems = (p: Params) => (lineKind.validate?.('l', p) ?? []).map((x) => x.message);
  assert.match(problems({ line: 'x' }).join(), /`path` is required/);
  assert.match(problems({ path: 'rel', line: 'x' }).join(), /not absolute/);
  assert.match(problems({ path: '/a/', line: 'x' }).join(), /ends with "\/"/);
  assert.match(problems({ path: '/a//b', line: 'x' }).join(), /not normalized/);
  assert.match(problems({ path: '/a', line: 'x', match: '(' }).join(), /`match` is not a valid JavaScript regular expression/);
  assert.match(problems({ path: '/a' }).join(), /`line` is required/);
  assert.deepEqual(problems({ path: '/a', state: 'absent', match: '^x' }), []);
  assert.match(problems({ path: '/a', line: 'é€', encoding: 'latin1' }).join(), /ISO-8859-1 cannot write/);
});

test('autoedges: after the file that manages the path, and after its directory', () => {
  const spec = (kind: string, name: string, params: Record<string, unknown>): ResourceSpec => ({ kind, name, params, meta: {} });
  const edges = autoEdges(registry, [
    spec('file', '/etc/app/', { state: 'exists' }),
    spec('file', '/etc/app/x.conf', { state: 'exists' }),
    spec('line', 'l', { path: '/etc/app/x.conf', line: 'a' }),
    spec('line', 'm', { path: '/etc/app/other.conf', line: 'a' }),
  ]).map((e) => e.name);
  assert.deepEqual(edges.sort(), [
    'file[/etc/app/] -> file[/etc/app/x.conf]',
    'file[/etc/app/] -> line[l]',
    'file[/etc/app/] -> line[m]',
    'file[/etc/app/x.conf] -> line[l]',
  ]);
});
