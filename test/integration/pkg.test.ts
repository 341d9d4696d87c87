// The pkg kind against the real PackageKit (apt backend) on a D-Bus system bus the harness starts (or finds), with
// two tiny Debian packages that nothing else needs: sl and sysvbanner. Both are removed before and after, also when
// a test fails. Skipped, with the reason, when PackageKit cannot run or resolve them here.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pkgKind } from '../../src/resources/pkg/kind.js';
import { Filter, PackageKitError } from '../../src/system/dbus/packagekit.js';
import { killAll, mgmt, mgmtRun, waitUntil } from '../harness/cli.js';
import { check, recordingContext } from '../harness/resource-context.js';
import { type PackageKitEnv, usePackageKit } from '../harness/system-bus.js';

const SL = 'sl';
const SECOND = 'sysvbanner';
const UNKNOWN = 'mgmt-ts-no-such-package';
const OURS = [SL, SECOND];

let env: PackageKitEnv | undefined;
let skip: string | undefined;
let dir: string;

function installed(name: string): boolean {
  try {
    return execFileSync('dpkg-query', ['-W', '-f=${db:Status-Status}', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }) === 'installed';
  } catch {
    return false;
  }
}

/**
 * Removes our test packages with dpkg (neither has dependencies that were not installed before). Waits while
 * someone else (PackageKit finishing a cancelled transaction) holds dpkg's lock.
 */
async function removeByHand(names: readonly string[]): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const present = names.filter(installed);
    if (present.length === 0) return;
    try {
      execFileSync('dpkg', ['-r', ...present], { stdio: 'pipe', timeout: 60_000 });
      return;
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

const write = (name: string, text: string) => {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
};

const run = (g: string, ...flags: string[]) => mgmtRun(['run', '--yaml', g, '--converged-timeout', '0', '--tmp-prefix', ...flags]);

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mgmt-pkg-test-'));
  env = await usePackageKit(OURS);
  skip = env.skip;
  if (skip) console.error(`# pkg integration tests skipped: ${skip}`);
  else await removeByHand(OURS);
});

after(async () => {
  killAll();
  try {
    if (!skip) await removeByHand(OURS);
  } finally {
    await env?.release();
    await rm(dir, { recursive: true, force: true });
  }
});

describe('pkg through PackageKit', () => {
  it('installs packages in one grouped transaction, then checks without changing anything (noop)', async (t) => {
    if (skip) {
      t.skip(skip);
      return;
    }
    const g = write('install.yaml', `graph: g\nresources:\n  pkg:\n  - name: ${SL}\n    state: newest\n  - name: ${SECOND}\n`);
    const r = await run(g);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(installed(SL) && installed(SECOND), r.stderr);
    assert.match(r.stderr, new RegExp(`autogroup: pkg\\[${SL}\\] runs 2 pkg resources together: ${SL}, ${SECOND}`));
    assert.match(r.stderr, new RegExp(`pkg\\[${SL}\\]: one PackageKit transaction for 2 packages: install ${SL} \\S+, install ${SECOND} \\S+`));
    assert.match(r.stderr, new RegExp(`pkg\\[${SL}\\]: installed ${SECOND} \\S+ \\(`));

    const again = await run(g, '--noop');
    assert.equal(again.code, 0, again.stderr);
    assert.doesNotMatch(again.stderr, /would|installed /);

    const version = execFileSync('dpkg-query', ['-W', '-f=${Version}', SL], { encoding: 'utf8' });
    const noop = write(
      'noop.yaml',
      `graph: g\nresources:\n  pkg:\n  - name: ${SL}\n    state: "${version}"\n  - name: ${SECOND}\n    state: uninstalled\n  - name: ${UNKNOWN}\n    state: "0.1-1"\n`,
    );
    const n = await run(noop, '--noop');
    assert.equal(n.code, 1, n.stderr);
    assert.match(n.stderr, new RegExp(`pkg\\[${SECOND}\\]: would remove ${SECOND}`));
    // sl and the unknown name install the same way, so they are one vertex, named after sl.
    assert.match(
      n.stderr,
      new RegExp(`pkg\\[${SL}\\]: error: check/apply failed \\(1st time\\): 1 of 2 packages failed: ${UNKNOWN}: no such package in the package lists`),
    );
    assert.doesNotMatch(n.stderr, new RegExp(`would \\w+ ${SL}`));
    assert.ok(installed(SL) && installed(SECOND), 'noop changed nothing');
  });

  it('repairs drift: a package removed by hand with dpkg -r is reinstalled', async (t) => {
    if (skip) {
      t.skip(skip);
      return;
    }
    const g = write('drift.yaml', `graph: g\nresources:\n  pkg:\n  - name: ${SL}\n`);
    const c = mgmt(['run', '--yaml', g, '--tmp-prefix', '-v']);
    await c.waitForLog(new RegExp(`pkg\\[${SL}\\]: .*check/apply: (ok|changed)`), 60_000);
    assert.ok(installed(SL));
    const t0 = performance.now();
    execFileSync('dpkg', ['-r', SL], { stdio: 'ignore', timeout: 60_000 });
    assert.ok(!installed(SL));
    await waitUntil(() => installed(SL), 60_000, `${SL} to be reinstalled`);
    t.diagnostic(`reinstalled ${((performance.now() - t0) / 1000).toFixed(1)} s after dpkg -r`);
    await c.waitForLog(new RegExp(`pkg\\[${SL}\\]: installed ${SL}`), 10_000);
    c.child.kill('SIGTERM');
    assert.equal(await c.exited, 0, c.stderr());
  });

  it('removes packages (uninstalled); a second run changes nothing', async (t) => {
    if (skip) {
      t.skip(skip);
      return;
    }
    const g = write('remove.yaml', `graph: g\nresources:\n  pkg:\n  - name: ${SL}\n    state: uninstalled\n  - name: ${SECOND}\n    state: uninstalled\n`);
    const r = await run(g);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!installed(SL) && !installed(SECOND), r.stderr);
    const again = await run(g);
    assert.equal(again.code, 0, again.stderr);
    assert.doesNotMatch(again.stderr, /removed/);
  });

  it("an unknown package fails with a clear error; its group's other package and the rest of the graph converge", async (t) => {
    if (skip) {
      t.skip(skip);
      return;
    }
    const g = write(
      'unknown.yaml',
      `graph: g\nresources:\n  pkg:\n  - name: ${UNKNOWN}\n  - name: ${SECOND}\n  file:\n  - name: ${dir}/after\n    state: exists\n  msg:\n  - name: still here\n`,
    );
    const r = await run(g);
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(
        `pkg\\[${UNKNOWN}\\]: error: check/apply failed \\(1st time\\): 1 of 2 packages failed: ${UNKNOWN}: no such package in the package lists \\(check the name, or refresh the lists with apt-get update\\)`,
      ),
    );
    assert.match(r.stderr, /1 resource\(s\) failed: pkg\[mgmt-ts-no-such-package\]/);
    assert.ok(installed(SECOND), 'the known package of the group was installed');
    assert.ok(existsSync(`${dir}/after`));
    assert.match(r.stderr, /msg\[still here\]: still here/);
  });

  it('a group (made directly) applies its known packages, fails for the unknown one, and removes in one transaction', async (t) => {
    if (skip) {
      t.skip(skip);
      return;
    }
    await removeByHand([SL]);
    const ctx = recordingContext(`pkg[${SL}]`);
    const group = pkgKind.autogroup!.create(
      [
        { name: SL, params: {} },
        { name: SECOND, params: { state: 'newest' } },
        { name: UNKNOWN, params: {} },
      ],
      ctx,
    );
    await assert.rejects(check(group), new RegExp(`^Error: 1 of 3 packages failed: ${UNKNOWN}: no such package`));
    assert.ok(installed(SL) && installed(SECOND));
    assert.ok(
      ctx.lines.some((l) => l.startsWith(`info: installed ${SL} `)),
      ctx.lines.join('\n'),
    );

    const rctx = recordingContext();
    const removal = pkgKind.autogroup!.create(
      OURS.map((name) => ({ name, params: { state: 'uninstalled' } })),
      rctx,
    );
    assert.equal(await check(removal), false);
    assert.ok(
      rctx.lines.some((l) => l.startsWith(`info: one PackageKit transaction for 2 packages: remove ${SL} `)),
      rctx.lines.join('\n'),
    );
    assert.ok(!installed(SL) && !installed(SECOND));
    assert.equal(await check(removal), true);
  });

  it('a transaction past its deadline or aborted is cancelled and fails at once', async (t) => {
    if (skip) {
      t.skip(skip);
      return;
    }
    const pk = env!.pk!;
    await assert.rejects(pk.resolve([SL], Filter.NONE, { timeoutMs: 30 }), (e: unknown) => {
      assert.ok(e instanceof PackageKitError);
      assert.equal(e.reason, 'timeout');
      assert.match(e.message, /^PackageKit Resolve: no result within 30 ms/);
      return true;
    });
    await removeByHand([SL]);
    const ac = new AbortController();
    const r = pkgKind.create(SL, {}, recordingContext());
    const t0 = performance.now();
    setTimeout(() => ac.abort(new Error('test abort')), 300);
    await assert.rejects(check(r, { signal: ac.signal }), /cancelled/);
    assert.ok(performance.now() - t0 < 8000, 'the cancelled check ended within a few seconds');
    await removeByHand([SL]);
  });
});

describe('pkg without PackageKit', () => {
  it('says PackageKit is not reachable and names the bus address', async () => {
    const saved = process.env.DBUS_SYSTEM_BUS_ADDRESS;
    process.env.DBUS_SYSTEM_BUS_ADDRESS = 'unix:path=/nonexistent/mgmt-ts-test-bus';
    try {
      const r = pkgKind.create(UNKNOWN, {}, recordingContext());
      await assert.rejects(check(r), /PackageKit is not reachable on the D-Bus system bus at unix:path=\/nonexistent\/mgmt-ts-test-bus: /);
    } finally {
      if (saved === undefined) delete process.env.DBUS_SYSTEM_BUS_ADDRESS;
      else process.env.DBUS_SYSTEM_BUS_ADDRESS = saved;
    }
  });
});
