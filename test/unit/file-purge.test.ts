// File purge without a source (Puppet's `recurse => true, purge => true`): run on the real engine against real
// trees in temporary directories; what the graph manages stays, the rest goes, as `puppet apply` does (the
// equivalence test fixtures/puppet/equivalence/15-purge.pp and 16-purge-force.pp compare the two on the same trees).
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { fileKind } from '../../src/resources/file/kind.js';
import { anyGlobMatches, nameGlob } from '../../src/system/formats/name-glob.js';
import { specOf, startGraph } from '../harness/engine-run.js';
import { check, recordingContext } from '../harness/resource-context.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mgmt-purge-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Every path below `root`, relative, sorted (directories with a trailing `/`, symlinks not followed). */
function tree(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      const isDir = lstatSync(p).isDirectory();
      out.push(relative(root, p) + (isDir ? '/' : ''));
      if (isDir) walk(p);
    }
  };
  walk(root);
  return out;
}

function setUp(root: string): void {
  for (const d of ['d/sub/deeper', 'd/managed', 'd/ign.d', 'd/holder/inner', 'other']) mkdirSync(join(root, d), { recursive: true });
  const files: Record<string, string> = {
    'd/f1': 'x',
    'd/.hidden': 'h',
    'd/x.ign': 'i',
    'd/keep': 'k',
    'd/sub/f2': 'y',
    'd/sub/deeper/f3': 'z',
    'd/managed/inner': 'm',
    'd/ign.d/a': 'a',
    'd/holder/inner/kept': 'kept',
    'd/holder/loose': 'l',
    'other/o': 'o',
  };
  for (const [rel, text] of Object.entries(files)) writeFileSync(join(root, rel), text);
  symlinkSync('../other', join(root, 'd/otherlink'));
  symlinkSync('/etc', join(root, 'd/etclink'));
}

/** A graph with the purging directory and the managed entries below it. */
function graph(root: string, purge: string): string {
  return `graph: purge
resources:
  file:
    - {name: purged, path: "${root}/d/", state: exists, recurse: true, purge: true${purge}}
    - {name: keep, path: "${root}/d/keep", state: exists}
    - {name: managed, path: "${root}/d/managed/", state: exists}
    - {name: kept, path: "${root}/d/holder/inner/kept", state: exists, recurse: true, content: "kept"}
`;
}

async function converge(yaml: string, noop = false): Promise<{ failed: string[]; stop: () => Promise<void> }> {
  const r = await startGraph(yaml, { noop });
  const failed = (await r.converged()).map((v) => v.id);
  return { failed, stop: () => r.engine.shutdown() };
}

describe('file purge without a source', () => {
  it('removes what no resource manages; keeps managed paths, what is below them, and ignored names; follows no symlink', async () => {
    setUp(dir);
    writeFileSync(join(dir, `d/.keep.mgmt-${process.pid}-0123456789ab`), 'a write in flight');
    const r = await converge(graph(dir, ', ignore: ["*.ign", "ign.d"]'));
    await r.stop();
    assert.deepEqual(r.failed, []);
    assert.deepEqual(tree(join(dir, 'd')), [
      `.keep.mgmt-${process.pid}-0123456789ab`,
      'holder/',
      'holder/inner/',
      'holder/inner/kept',
      'ign.d/',
      'ign.d/a',
      'keep',
      'managed/',
      'managed/inner',
      'sub/',
      'sub/deeper/',
      'x.ign',
    ]);
    assert.equal(readFileSync(join(dir, 'other/o'), 'utf8'), 'o', 'a symlink is removed, never followed');
    assert.ok(existsSync('/etc/hostname') || existsSync('/etc/passwd'));
  });

  it('force removes unmanaged directories whole, but never one that holds a managed path', async () => {
    setUp(dir);
    const r = await converge(graph(dir, ', force: true'));
    await r.stop();
    assert.deepEqual(r.failed, []);
    assert.deepEqual(tree(join(dir, 'd')), ['holder/', 'holder/inner/', 'holder/inner/kept', 'keep', 'managed/', 'managed/inner']);
  });

  it('recurselimit bounds the depth: 1 is the entries of the directory itself, 0 purges nothing', async () => {
    setUp(dir);
    const one = await converge(graph(dir, ', recurselimit: 1'));
    await one.stop();
    assert.deepEqual(one.failed, []);
    assert.ok(existsSync(join(dir, 'd/sub/f2')), 'depth 2 is left alone');
    assert.ok(!existsSync(join(dir, 'd/f1')));
    assert.ok(existsSync(join(dir, 'd/holder/loose')), 'beyond the limit in a directory holding a managed path, too');
    writeFileSync(join(dir, 'd/f1'), 'again');
    const zero = await converge(graph(dir, ', recurselimit: 0'));
    await zero.stop();
    assert.ok(existsSync(join(dir, 'd/f1')));
  });

  it('maxfiles: more entries than allowed fail the resource before anything is removed', async () => {
    setUp(dir);
    const yaml = graph(dir, ', maxfiles: 3');
    const r = await converge(yaml);
    await r.stop();
    assert.deepEqual(r.failed, ['file[purged]']);
    assert.ok(existsSync(join(dir, 'd/f1')), 'nothing purged');
    const errs: string[] = [];
    const ctx = { ...recordingContext('file[purged]'), managedPaths: () => new Set<string>() };
    const res = fileKind.create('purged', { path: `${dir}/d/`, recurse: true, purge: true, maxfiles: 3 }, ctx);
    await res
      .checkApply({ apply: true, refresh: false, signal: new AbortController().signal })
      .catch((e: unknown) => errs.push(e instanceof Error ? e.message : String(e)));
    assert.match(errs[0] ?? '', /holds more than 3 entries \(maxfiles\), so nothing was purged; raise maxfiles/);
  });

  it('noop reports what it would remove and removes nothing', async () => {
    setUp(dir);
    const before = tree(dir);
    const ctx = { ...recordingContext('file[purged]'), managedPaths: () => new Set([`${dir}/d/keep`, `${dir}/d/managed`, `${dir}/d/holder/inner/kept`]) };
    const res = fileKind.create('purged', { path: `${dir}/d/`, recurse: true, purge: true }, ctx);
    assert.equal(await check(res, { apply: false }), false);
    assert.deepEqual(tree(dir), before);
    for (const w of ['would purge file f1', 'would purge symlink etclink', 'would purge file sub/deeper/f3', 'would purge file holder/loose']) {
      assert.ok(
        ctx.lines.some((l) => l === `info: ${w}`),
        `${w}:\n${ctx.lines.join('\n')}`,
      );
    }
    assert.ok(!ctx.lines.some((l) => l.includes('keep') || l.includes('managed/inner') || l.includes('kept')));
  });

  it('a new unmanaged entry is removed on the watch event; a new managed one stays', async () => {
    mkdirSync(join(dir, 'd'));
    const r = await startGraph(graph(dir, ''), {});
    await r.converged();
    const seen = r.converged();
    mkdirSync(join(dir, 'd/new/sub'), { recursive: true });
    writeFileSync(join(dir, 'd/new/sub/stray'), 's');
    writeFileSync(join(dir, 'd/stray'), 's');
    await seen;
    // The events may come in several bursts: wait until the purge has caught up with all of them.
    for (let i = 0; i < 20 && existsSync(join(dir, 'd/new/sub/stray')); i++) await r.converged();
    await r.engine.shutdown();
    assert.deepEqual(tree(join(dir, 'd')), ['holder/', 'holder/inner/', 'holder/inner/kept', 'keep', 'managed/', 'new/', 'new/sub/']);
  });
});

describe('file purge when the graph changes', () => {
  it('a path the new graph no longer manages is purged at the swap; the purging vertex itself is kept', async () => {
    mkdirSync(join(dir, 'd'));
    const r = await startGraph(graph(dir, ''), {});
    assert.deepEqual(
      (await r.converged()).map((v) => v.id),
      [],
    );
    assert.ok(existsSync(join(dir, 'd/keep')));
    const purger = r.engine.vertex('file[purged]');
    const without = graph(dir, '').replace(/^ {4}- \{name: keep,.*\n/m, '');
    const seen = r.converged();
    const swap = await r.engine.swap(specOf(without));
    assert.deepEqual(swap.diagnostics, []);
    await seen;
    assert.equal(r.engine.vertex('file[purged]'), purger, 'the purging vertex was not replaced');
    await r.engine.shutdown();
    assert.equal(existsSync(join(dir, 'd/keep')), false);
    assert.ok(existsSync(join(dir, 'd/managed')));
  });
});

describe('ignore patterns (Ruby File.fnmatch? without flags, as Puppet matches them)', () => {
  const cases: [string, string, boolean][] = [
    ['*.conf', 'a.conf', true],
    ['*.conf', '.a.conf', false],
    ['.*', '.hidden', true],
    ['?x', '.x', false],
    ['a?c', 'abc', true],
    ['[a-c]*', 'b1', true],
    ['[!a-c]*', 'b1', false],
    ['[^a-c]*', 'd1', true],
    ['\\*', '*', true],
    ['\\*', 'a', false],
    ['[', '[', false],
    ['[x', '[x', false],
    ['[a-]', '-', true],
    ['[.]x', '.x', false],
    ['\\.x', '.x', true],
    ['*', '.', false],
    ['*', '', true],
    ['a*b*c', 'aXbYc', true],
    ['a*b*c', 'aXbY', false],
    ['{a,b}', 'a', false],
  ];
  for (const [pattern, name, want] of cases) {
    it(`${pattern} ${want ? 'matches' : 'does not match'} ${JSON.stringify(name)}`, () => {
      assert.equal(nameGlob(pattern).matches(name), want);
    });
  }
  it('any of several', () => {
    assert.equal(anyGlobMatches([nameGlob('*.a'), nameGlob('*.b')], 'x.b'), true);
    assert.equal(anyGlobMatches([], 'x'), false);
  });
});
