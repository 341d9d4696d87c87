// src/system/dbus/systemd.ts and the svc resource in-process, against a real systemd user manager: job results, the job
// deadline, the watch's events for changes made by hand, and the empty-string parameters of specs not from YAML.
// This test file runs in its own process, so pointing DBUS_SESSION_BUS_ADDRESS at the harness's bus is local to it.
import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import { svcKind } from '../../src/resources/svc.js';
import { Systemd, SystemdJobError } from '../../src/system/dbus/systemd.js';
import { check, recordingContext, startWatch } from '../harness/resource-context.js';
import { startUserSystemd, unavailableReason, type UserSystemd, writeUnit } from '../harness/user-systemd.js';

let sd: UserSystemd | undefined;
let client: Systemd | undefined;
const skipReason = unavailableReason();

before(async () => {
  if (skipReason) return;
  sd = await startUserSystemd();
  Object.assign(process.env, sd.env);
  client = await Systemd.connect(true);
});
after(async () => {
  client?.release();
  await sd?.stop();
});

function ready(t: TestContext): { s: UserSystemd; c: Systemd } | undefined {
  if (!sd || !client) {
    t.skip(skipReason ?? 'no systemd user manager');
    return undefined;
  }
  return { s: sd, c: client };
}

describe('systemd client against a real user manager', () => {
  it('reads unit states with LoadUnit, also for a garbage-collected or missing unit', async (t) => {
    const r = ready(t);
    if (!r) return;
    writeUnit(r.s, 'c1.service', '[Service]\nExecStart=/bin/sleep 1000\n');
    const st = await r.c.unitState('c1.service');
    assert.deepEqual([st.loadState, st.activeState, st.subState, st.unitFileState], ['loaded', 'inactive', 'dead', 'static']);
    assert.equal(st.fragmentPath, `${r.s.unitDir}/c1.service`);
    assert.equal(st.path, '/org/freedesktop/systemd1/unit/c1_2eservice');
    const missing = await r.c.unitState('c-missing.service');
    assert.equal(missing.loadState, 'not-found');
  });

  it('runs jobs and waits for their results', async (t) => {
    const r = ready(t);
    if (!r) return;
    writeUnit(r.s, 'c2.service', '[Service]\nExecStart=/bin/sleep 1000\n');
    assert.equal(await r.c.job('StartUnit', 'c2.service'), 'done');
    assert.equal((await r.c.unitState('c2.service')).activeState, 'active');
    assert.equal(await r.c.job('ReloadOrTryRestartUnit', 'c2.service', { mode: 'fail' }), 'done');
    assert.equal(await r.c.job('StopUnit', 'c2.service'), 'done');
    assert.equal((await r.c.unitState('c2.service')).activeState, 'inactive');
    // Concurrent jobs on one client each get their own result.
    writeUnit(r.s, 'c3.service', '[Service]\nExecStart=/bin/sleep 1000\n');
    assert.deepEqual(await Promise.all([r.c.job('StartUnit', 'c2.service'), r.c.job('StartUnit', 'c3.service')]), ['done', 'done']);
    await Promise.all([r.c.job('StopUnit', 'c2.service'), r.c.job('StopUnit', 'c3.service')]);
  });

  it('a job that does not finish in time is an error naming the unit and its state', async (t) => {
    const r = ready(t);
    if (!r) return;
    // Type=notify with a process that never notifies: the start job stays running (until systemd's 90 s).
    writeUnit(r.s, 'c4.service', '[Service]\nType=notify\nExecStart=/bin/sleep 1000\n');
    await assert.rejects(r.c.job('StartUnit', 'c4.service', { timeoutMs: 300 }), (e: unknown) => {
      assert.ok(e instanceof SystemdJobError);
      assert.equal(e.result, 'deadline');
      assert.match(e.message, /the start job of c4\.service did not finish within 300 ms \(the unit is activating\/start\)/);
      return true;
    });
    await r.c.job('StopUnit', 'c4.service');
  });

  it('a job systemd refuses to queue says why', async (t) => {
    const r = ready(t);
    if (!r) return;
    writeUnit(r.s, 'c6.service', '[Unit]\nRefuseManualStart=yes\n[Service]\nExecStart=/bin/sleep 1000\n');
    await assert.rejects(r.c.job('StartUnit', 'c6.service'), (e: unknown) => {
      assert.ok(e instanceof SystemdJobError);
      assert.equal(e.result, 'refused');
      assert.match(e.message, /^cannot start c6\.service \(it is inactive\/dead\): systemd says Operation refused/);
      return true;
    });
  });

  it('a failed job names the result and the state after it', async (t) => {
    const r = ready(t);
    if (!r) return;
    writeUnit(r.s, 'c5.service', '[Service]\nType=oneshot\nExecStart=/bin/false\n');
    await assert.rejects(
      r.c.job('StartUnit', 'c5.service'),
      /start of c5\.service failed \(job result 'failed', service result 'exit-code'\); the unit is now failed\/failed/,
    );
  });
});

describe('svc resource in-process against a real user manager', () => {
  it('watch: an event when the unit is stopped, started or disabled by hand, and on daemon-reload', async (t) => {
    const r = ready(t);
    if (!r) return;
    writeUnit(r.s, 'w1.service', '[Service]\nExecStart=/bin/sleep 1000\n[Install]\nWantedBy=default.target\n');
    const res = svcKind.create('w1', { state: 'running', session: true }, recordingContext('svc[w1]'));
    const w = await startWatch(res);
    try {
      const byHand = async (what: string, f: () => unknown) => {
        const n = w.events();
        const next = w.next(5000);
        await f();
        await next.catch((e: unknown) => assert.fail(`${what}: ${e instanceof Error ? e.message : String(e)}`));
        assert.ok(w.events() > n);
      };
      await byHand('start', () => r.s.systemctl('start', 'w1.service'));
      await byHand('stop', () => r.c.job('StopUnit', 'w1.service'));
      await byHand('enable', () => r.s.systemctl('enable', 'w1.service'));
      await byHand('disable', () => r.s.systemctl('disable', 'w1.service'));
      await byHand('daemon-reload', () => r.s.systemctl('daemon-reload'));
    } finally {
      await w.stop();
      await res.cleanup?.();
    }
  });

  it('checkApply: empty state/startup mean unset; a refresh of a stopped unit changes nothing', async (t) => {
    const r = ready(t);
    if (!r) return;
    writeUnit(r.s, 'e1.service', '[Service]\nExecStart=/bin/sleep 1000\n');
    const ctx = recordingContext('svc[e1]');
    const res = svcKind.create('e1', { state: '', startup: '', session: true }, ctx);
    try {
      assert.equal(await check(res), true);
      assert.equal(await check(res, { refresh: true }), true);
      assert.match(ctx.lines.join('\n'), /refresh: e1\.service is not running \(inactive\/dead\); nothing to reload or restart/);
      assert.equal((await r.c.unitState('e1.service')).activeState, 'inactive');
      // Running by hand: a refresh restarts it and counts as a change; under noop it only says so.
      await r.c.job('StartUnit', 'e1.service');
      assert.equal(await check(res, { refresh: true, apply: false }), false);
      assert.match(ctx.lines.at(-1)!, /would reload or restart \(refresh\) e1\.service/);
      const pid = await r.s.unitProperty('e1.service', 'MainPID', 'org.freedesktop.systemd1.Service');
      assert.equal(await check(res, { refresh: true }), false);
      assert.notEqual(await r.s.unitProperty('e1.service', 'MainPID', 'org.freedesktop.systemd1.Service'), pid);
      await r.c.job('StopUnit', 'e1.service');
    } finally {
      await res.cleanup?.();
    }
  });

  it('a missing unit is an error only when it must run or be enabled; its file appearing later is seen', async (t) => {
    const r = ready(t);
    if (!r) return;
    const ctx = recordingContext('svc[late1]');
    const stopped = svcKind.create('late1', { state: 'stopped', startup: 'disabled', session: true }, ctx);
    const running = svcKind.create('late1', { state: 'running', session: true }, recordingContext('svc[late1]'));
    try {
      assert.equal(await check(stopped), true);
      assert.equal(await check(stopped, { refresh: true }), true);
      await assert.rejects(check(running), /unit late1\.service not found \(LoadState not-found\)/);
      // The manager has a not-found unit cached; writing the file is enough (no daemon-reload by hand).
      writeUnit(r.s, 'late1.service', '[Service]\nExecStart=/bin/sleep 1000\n');
      assert.equal(await check(running), false);
      assert.equal((await r.c.unitState('late1.service')).activeState, 'active');
      assert.equal(await check(stopped), false);
    } finally {
      await stopped.cleanup?.();
      await running.cleanup?.();
    }
  });

  it('startup enabled accepts what systemctl is-enabled accepts (a static unit has nothing to enable)', async (t) => {
    const r = ready(t);
    if (!r) return;
    writeUnit(r.s, 's1.service', '[Service]\nExecStart=/bin/sleep 1000\n');
    const res = svcKind.create('s1', { startup: 'enabled', session: true }, recordingContext('svc[s1]'));
    try {
      assert.equal(await check(res), true);
    } finally {
      await res.cleanup?.();
    }
  });
});
