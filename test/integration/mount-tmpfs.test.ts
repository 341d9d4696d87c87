// The mount kind against the real mount(8), umount(8) and findmnt: a tmpfs mounted at a temp directory through a
// temp fstab. Needs root (CAP_SYS_ADMIN); skipped with the reason when mounting is not permitted (a skip fails the
// run). Every mount made here is unmounted in cleanup, and the temp directory is removed. Validation and autoedges:
// test/unit/mount.test.ts.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { mountKind } from '../../src/resources/mount.js';
import { configureMountWatch, mountedAt, parseMountinfo, umount } from '../../src/system/tools/mount-table.js';
import { specOf, startGraph } from '../harness/engine-run.js';
import { check, recordingContext, startWatch } from '../harness/resource-context.js';

let base = '';
let skip: string | false = false;
let n = 0;
let mp = '';
let fstab = '';

function unmountAll(): void {
  // Anything left mounted under the temp dir, deepest first, however many times it is stacked.
  for (let i = 0; i < 20; i++) {
    const info = parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8')).filter((e) => e.mountPoint.startsWith(`${base}/`));
    if (info.length === 0) return;
    const last = info.sort((a, b) => b.mountPoint.length - a.mountPoint.length)[0]!;
    spawnSync('umount', [last.mountPoint]);
  }
}

before(() => {
  base = mkdtempSync(join(tmpdir(), 'mgmt-mount-'));
  const probe = join(base, 'probe');
  mkdirSync(probe);
  const r = spawnSync('mount', ['-t', 'tmpfs', 'tmpfs', probe], { encoding: 'utf8' });
  if (r.error || r.status !== 0) skip = `mounting is not permitted here (mount -t tmpfs: ${r.error?.message ?? r.stderr.trim()})`;
  else spawnSync('umount', [probe]);
});
after(() => {
  if (base) {
    unmountAll();
    rmSync(base, { recursive: true, force: true });
  }
});
beforeEach(() => {
  mp = join(base, `mnt${++n}`);
  mkdirSync(mp);
  fstab = join(base, `fstab${n}`);
  writeFileSync(fstab, '# test table\nproc /proc proc defaults 0 0\n');
});

const make = (params: Record<string, unknown>, name = mp) => {
  assert.deepEqual(mountKind.validate!(name, params), []);
  const ctx = recordingContext(`mount[${name}]`);
  return { r: mountKind.create(name, params, ctx), ctx };
};
const isMounted = async () => (await mountedAt(mp)) !== undefined;
const tmpfs = (extra: Record<string, unknown> = {}) => ({
  state: 'exists',
  device: 'tmpfs',
  type: 'tmpfs',
  options: { size: '1m', mode: '0750' },
  fstab,
  ...extra,
});
async function until(cond: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('mount (real tmpfs, temp fstab)', () => {
  it('noop changes nothing; apply writes the entry and mounts; then it is OK', async (t) => {
    if (skip) {
      t.skip(skip);
      return;
    }
    const { r, ctx } = make(tmpfs());
    assert.equal(await check(r, { apply: false }), false);
    assert.equal(readFileSync(fstab, 'utf8'), '# test table\nproc /proc proc defaults 0 0\n');
    assert.equal(await isMounted(), false);
    assert.deepEqual(ctx.lines, [`info: would add "tmpfs ${mp} tmpfs size=1m,mode=0750 0 0" to ${fstab}`, `info: would mount ${mp}`]);
    assert.equal(await check(r), false);
    assert.equal(readFileSync(fstab, 'utf8'), `# test table\nproc /proc proc defaults 0 0\ntmpfs\t${mp}\ttmpfs\tsize=1m,mode=0750\t0\t0\n`);
    const m = await mountedAt(mp);
    assert.equal(m?.fstype, 'tmpfs');
    assert.equal(statSync(mp).mode & 0o777, 0o750, 'the options reached the mount');
    assert.equal(await check(r), true);
  });

  it('a changed entry of a mounted file system is remounted, and so is a refresh', async (t) => {
    if (skip) {
      t.skip(skip);
      return;
    }
    assert.equal(await check(make(tmpfs()).r), false);
    const { r, ctx } = make(tmpfs({ options: { size: '2m', mode: '0750' } }));
    assert.equal(await check(r), false);
    assert.match((await mountedAt(mp))!.options + ' ' + readFileSync('/proc/self/mountinfo', 'utf8'), /size=2048k/);
    assert.ok(
      ctx.lines.some((l) => l === `info: remounted ${mp} (its entry changed)`),
      ctx.lines.join('\n'),
    );
    assert.equal(await check(r), true);
    assert.equal(await check(r, { refresh: true, apply: false }), false);
    assert.equal(await check(r, { refresh: true }), false);
    assert.equal(ctx.lines.at(-1), `info: remounted ${mp} (refresh)`);
  });

  it('unmounted keeps the entry and unmounts; defined leaves the mount alone; absent removes the entry', async (t) => {
    if (skip) {
      t.skip(skip);
      return;
    }
    assert.equal(await check(make(tmpfs()).r), false);
    const unmounted = make(tmpfs({ state: 'unmounted' })).r;
    assert.equal(await check(unmounted), false);
    assert.equal(await isMounted(), false);
    assert.match(readFileSync(fstab, 'utf8'), /^tmpfs\t/m);
    assert.equal(await check(unmounted), true);
    assert.equal(await check(make(tmpfs({ state: 'defined' })).r), true, 'defined: in the table, mounted or not');
    const absent = make({ state: 'absent', fstab }).r;
    assert.equal(await check(absent), false);
    assert.equal(readFileSync(fstab, 'utf8'), '# test table\nproc /proc proc defaults 0 0\n');
    assert.equal(await check(absent), true);
  });

  it('absent unmounts a file system that is mounted but not in the table (Puppet’s ghost)', async (t) => {
    if (skip) {
      t.skip(skip);
      return;
    }
    assert.equal(spawnSync('mount', ['-t', 'tmpfs', 'tmpfs', mp]).status, 0);
    const { r, ctx } = make({ state: 'absent', fstab });
    assert.equal(await check(r), false);
    assert.equal(await isMounted(), false);
    assert.deepEqual(ctx.lines, [`info: unmounted ${mp}`]);
  });

  it('says what is missing, and what mount(8) said', async (t) => {
    if (skip) {
      t.skip(skip);
      return;
    }
    await assert.rejects(check(make({ state: 'exists', fstab }).r), new RegExp(`${fstab} has no entry for ${mp}, and \`device\` and \`type\` must be set`));
    const missing = join(base, 'no-such-dir');
    await assert.rejects(
      check(make(tmpfs(), missing).r),
      /cannot mount .*no-such-dir: 'mount --fstab .*' exited with code \d+; stderr: .*mount point does not exist/,
    );
  });

  it('the watch reports an unmount by hand and an edit of the table', async (t) => {
    if (skip) {
      t.skip(skip);
      return;
    }
    const { r } = make(tmpfs());
    const w = await startWatch(r);
    try {
      assert.equal(await check(r), false);
      const seen = w.events();
      assert.equal(spawnSync('umount', [mp]).status, 0);
      await until(async () => w.events() > seen, 3000, 'an event after umount');
      assert.equal(await check(r), false, 'remounted');
      assert.equal(await isMounted(), true);
      const seen2 = w.events();
      writeFileSync(fstab, '# emptied by hand\n');
      await until(async () => w.events() > seen2, 3000, 'an event after the fstab edit');
    } finally {
      await w.stop();
    }
  });

  it('falls back to polling the mount table when findmnt cannot run, with one warning', async (t) => {
    if (skip) {
      t.skip(skip);
      return;
    }
    const warnings: string[] = [];
    const restore = configureMountWatch({ command: ['/nonexistent/findmnt'], pollIntervalMs: 100, warn: (m) => warnings.push(m) });
    // The entry is already right, so the only events come from the mount table.
    writeFileSync(fstab, `tmpfs\t${mp}\ttmpfs\tsize=1m,mode=0750\t0\t0\n`);
    const { r } = make(tmpfs());
    const w = await startWatch(r);
    try {
      const before = w.events();
      assert.equal(await check(r), false);
      // A poll compares whole texts: a mount and an unmount within one interval cancel out, so see the mount first.
      await until(async () => w.events() > before, 3000, 'an event from polling after the mount');
      const seen = w.events();
      await umount(mp);
      await until(async () => w.events() > seen, 3000, 'an event from polling after the unmount');
      assert.equal(warnings.length, 1);
      assert.match(warnings[0]!, /cannot run \/nonexistent\/findmnt.*polling \/proc\/self\/mountinfo every 0.1 s/);
    } finally {
      await w.stop();
      restore();
    }
  });

  it('in a running graph: an unmount by hand is repaired, and absent unmounts and removes the entry', async (t) => {
    if (skip) {
      t.skip(skip);
      return;
    }
    const graph = (state: string) =>
      `graph: g\nresources:\n  mount:\n  - name: ${mp}\n    state: ${state}\n    device: tmpfs\n    type: tmpfs\n    options: {size: 1m}\n    fstab: ${fstab}\n`;
    const running = await startGraph(graph('exists'), { prefix: join(base, `engine${n}`) });
    try {
      assert.deepEqual(await running.converged(), []);
      assert.equal(await isMounted(), true);
      const started = Date.now();
      assert.equal(spawnSync('umount', [mp]).status, 0);
      await until(isMounted, 5000, 'remounted after the unmount by hand');
      t.diagnostic(`remounted ${Date.now() - started} ms after the unmount by hand`);
      await running.engine.swap(specOf(graph('absent')));
      await until(async () => !(await isMounted()) && !readFileSync(fstab, 'utf8').includes('tmpfs'), 5000, 'unmounted and removed');
      assert.equal(readFileSync(fstab, 'utf8'), '# test table\nproc /proc proc defaults 0 0\n');
    } finally {
      await running.engine.shutdown();
    }
  });
});
