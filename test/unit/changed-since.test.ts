import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { changedSince } from '../../src/system/fs/changed-since.js';

describe('changedSince (the catch-up of a watch set up after its paths were read)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'changed-since-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const tree = join(dir, 'tree');
  const deep = join(tree, 'a', 'b');
  mkdirSync(deep, { recursive: true });
  writeFileSync(join(deep, 'f.pp'), 'one');
  writeFileSync(join(dir, 'g.yaml'), 'graph: g\n');

  it('a path written after the moment changed; nothing changed since a later moment', async () => {
    assert.equal(await changedSince([{ path: join(dir, 'g.yaml') }], Date.now() - 1000), true);
    const later = Date.now() + 60_000;
    assert.equal(await changedSince([{ path: join(dir, 'g.yaml') }, { path: tree, recursive: true }], later), false);
  });

  it('a write deep below a directory counts only for a recursive watch', async () => {
    await sleep(60); // the tree's own time stamps are now well before `since`
    const since = Date.now();
    writeFileSync(join(deep, 'f.pp'), 'two'); // changes the file, not its directories
    assert.equal(await changedSince([{ path: tree, recursive: true }], since), true);
    assert.equal(await changedSince([{ path: tree }], since), false);
  });

  it('a symlink at the path: re-pointed, or its target written, both count', async () => {
    const a = join(dir, 'a.yaml');
    const b = join(dir, 'b.yaml');
    writeFileSync(a, 'graph: a\n');
    writeFileSync(b, 'graph: b\n');
    symlinkSync(a, join(dir, 'link.yaml'));
    await sleep(60);
    let since = Date.now();
    assert.equal(await changedSince([{ path: join(dir, 'link.yaml') }], since), false);
    writeFileSync(a, 'graph: a2\n'); // through the link
    assert.equal(await changedSince([{ path: join(dir, 'link.yaml') }], since), true);
    await sleep(60);
    since = Date.now();
    symlinkSync(b, join(dir, 'link.new'));
    renameSync(join(dir, 'link.new'), join(dir, 'link.yaml')); // re-pointed to an older file
    assert.equal(await changedSince([{ path: join(dir, 'link.yaml') }], since), true);
  });

  it('a path that is gone changed', async () => {
    assert.equal(await changedSince([{ path: join(dir, 'missing.yaml') }], Date.now() + 60_000), true);
  });
});
