// svc end to end: the real `mgmt run` CLI against a real systemd user manager (test/harness/user-systemd.ts), with
// the manager's environment (XDG_RUNTIME_DIR, DBUS_SESSION_BUS_ADDRESS, HOME) given to the child. Units run
// /bin/sleep; everything is checked through the manager itself (D-Bus properties, systemctl --user).
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it, type TestContext } from 'node:test';
import { killAll, mgmt, mgmtRun } from '../harness/cli.js';
import { startUserSystemd, unavailableReason, type UserSystemd, writeUnit } from '../harness/user-systemd.js';

const SLEEP_UNIT = (arg = '1000') => `[Unit]\nDescription=mgmt test\n[Service]\nExecStart=/bin/sleep ${arg}\n[Install]\nWantedBy=default.target\n`;

let sd: UserSystemd | undefined;
let dir: string;
const skipReason = unavailableReason();

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mgmt-svc-test-'));
  if (!skipReason) sd = await startUserSystemd();
});
afterEach(() => killAll());
after(async () => {
  killAll();
  await sd?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** The manager, or a skip with the reason printed. */
function manager(t: TestContext): UserSystemd | undefined {
  if (!sd) t.skip(skipReason ?? 'no systemd user manager');
  return sd;
}

function graph(name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `graph: ${name.replace(/\W/g, '-')}\n${body}`);
  return path;
}

const run = (s: UserSystemd, g: string, ...flags: string[]) =>
  mgmtRun(['run', '--yaml', g, '--converged-timeout', '0', '--tmp-prefix', ...flags], { env: s.env });
const prop = (s: UserSystemd, unit: string, p: string) => s.unitProperty(unit, p);
const mainPid = async (s: UserSystemd, unit: string) => Number(await s.unitProperty(unit, 'MainPID', 'org.freedesktop.systemd1.Service'));
const enabled = (s: UserSystemd, unit: string) => s.systemctl('is-enabled', unit).stdout.trim();

/** Polls an async condition every 10 ms until it holds (bounded). */
async function eventually(pred: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    if (await pred()) return;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('svc through mgmt run, against a real systemd user manager', () => {
  it('starts and enables a unit; a second run changes nothing', async (t) => {
    const s = manager(t);
    if (!s) return;
    writeUnit(s, 'start1.service', SLEEP_UNIT());
    const g = graph('start1.yaml', 'resources:\n  svc:\n  - {name: start1, state: running, startup: enabled, session: true}\n');
    const r = await run(s, g);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /svc\[start1\]: enabled start1\.service \(was disabled\)/);
    assert.match(r.stderr, /svc\[start1\]: started start1\.service \(was inactive\/dead\)/);
    assert.equal(await prop(s, 'start1.service', 'ActiveState'), 'active');
    assert.equal(enabled(s, 'start1.service'), 'enabled');
    assert.ok(existsSync(join(s.unitDir, 'default.target.wants', 'start1.service')));
    const pid = await mainPid(s, 'start1.service');

    const again = await run(s, g);
    assert.equal(again.code, 0, again.stderr);
    assert.doesNotMatch(again.stderr, /svc\[start1\]: (enabled|started|daemon-reload)/);
    assert.equal(await mainPid(s, 'start1.service'), pid, 'not restarted');
  });

  it('stops and disables a unit', async (t) => {
    const s = manager(t);
    if (!s) return;
    writeUnit(s, 'stop1.service', SLEEP_UNIT());
    assert.equal(s.systemctl('enable', '--now', 'stop1.service').code, 0);
    assert.equal(await prop(s, 'stop1.service', 'ActiveState'), 'active');
    const g = graph('stop1.yaml', 'resources:\n  svc:\n  - {name: stop1.service, state: stopped, startup: disabled, session: true}\n');
    const r = await run(s, g);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /disabled stop1\.service \(was enabled\)/);
    assert.match(r.stderr, /stopped stop1\.service \(was active\/running\)/);
    assert.equal(await prop(s, 'stop1.service', 'ActiveState'), 'inactive');
    assert.equal(enabled(s, 'stop1.service'), 'disabled');
  });

  it('noop reports what it would do and changes nothing', async (t) => {
    const s = manager(t);
    if (!s) return;
    writeUnit(s, 'noop1.service', SLEEP_UNIT());
    const g = graph('noop1.yaml', 'resources:\n  svc:\n  - {name: noop1, state: running, startup: enabled, session: true}\n');
    const r = await run(s, g, '--noop');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /svc\[noop1\]: would enable and start noop1\.service \(now inactive\/dead, disabled\)/);
    assert.equal(await prop(s, 'noop1.service', 'ActiveState'), 'inactive');
    assert.equal(enabled(s, 'noop1.service'), 'disabled');
  });

  it('repairs drift while running: a unit stopped or disabled by hand is put back', async (t) => {
    const s = manager(t);
    if (!s) return;
    writeUnit(s, 'drift1.service', SLEEP_UNIT());
    const g = graph('drift1.yaml', 'resources:\n  svc:\n  - {name: drift1, state: running, startup: enabled, session: true}\n');
    const c = mgmt(['run', '--yaml', g, '--tmp-prefix'], { env: s.env });
    await eventually(async () => (await prop(s, 'drift1.service', 'ActiveState')) === 'active', 10_000, 'the first start');
    const pid1 = await mainPid(s, 'drift1.service');

    // Stopped by hand over D-Bus.
    const t0 = performance.now();
    await s.managerCall('StopUnit', 'ss', ['drift1.service', 'replace']);
    await eventually(
      async () => (await mainPid(s, 'drift1.service')) > 0 && (await mainPid(s, 'drift1.service')) !== pid1,
      5000,
      'the restart after a stop by hand',
    );
    t.diagnostic(`stop by hand → active again: ${(performance.now() - t0).toFixed(0)} ms`);
    assert.equal(await prop(s, 'drift1.service', 'ActiveState'), 'active');

    // Stopped and disabled by hand with systemctl.
    const pid2 = await mainPid(s, 'drift1.service');
    assert.equal(s.systemctl('disable', '--now', 'drift1.service').code, 0);
    await eventually(
      async () =>
        enabled(s, 'drift1.service') === 'enabled' &&
        (await mainPid(s, 'drift1.service')) !== pid2 &&
        (await prop(s, 'drift1.service', 'ActiveState')) === 'active',
      5000,
      'enabled and running again',
    );

    c.child.kill('SIGTERM');
    assert.equal(await c.exited, 0, c.stderr());
    assert.equal(await prop(s, 'drift1.service', 'ActiveState'), 'active', 'mgmt leaves the unit running when it exits');
  });

  it('a change to the managed unit file (notify edge) reloads the daemon and restarts the unit', async (t) => {
    const s = manager(t);
    if (!s) return;
    const unitPath = join(s.unitDir, 'refresh1.service');
    const yaml = (arg: string, edge: boolean) =>
      `resources:
  file:
  - {name: unit, path: ${JSON.stringify(unitPath)}, state: exists, content: ${JSON.stringify(SLEEP_UNIT(arg))}}
  svc:
  - {name: refresh1, state: running, session: true}
${edge ? 'edges:\n- {name: e1, from: {kind: file, name: unit}, to: {kind: svc, name: refresh1}, notify: true}\n' : ''}`;
    const cmdline = async () =>
      readFileSync(`/proc/${await mainPid(s, 'refresh1.service')}/cmdline`, 'utf8')
        .split('\0')
        .join(' ')
        .trim();

    // First run: the file is created before the svc starts (the refresh is consumed by the start).
    const r1 = await run(s, graph('refresh1a.yaml', yaml('1000', true)));
    assert.equal(r1.code, 0, r1.stderr);
    assert.match(r1.stderr, /started refresh1\.service/);
    assert.ok(r1.stderr.indexOf('file[unit]') < r1.stderr.indexOf('svc[refresh1]'), r1.stderr);
    assert.equal(await cmdline(), '/bin/sleep 1000');
    const pid1 = await mainPid(s, 'refresh1.service');
    const start1 = await s.unitProperty('refresh1.service', 'ExecMainStartTimestamp', 'org.freedesktop.systemd1.Service');

    // Explicit notify edge: new content → daemon-reload → restart with the new ExecStart.
    const r2 = await run(s, graph('refresh1b.yaml', yaml('1001', true)));
    assert.equal(r2.code, 0, r2.stderr);
    assert.match(r2.stderr, /svc\[refresh1\]: daemon-reload \(refresh1\.service changed on disk\)/);
    assert.match(r2.stderr, /svc\[refresh1\]: refresh: reloaded or restarted refresh1\.service/);
    assert.notEqual(await mainPid(s, 'refresh1.service'), pid1);
    assert.notEqual(await s.unitProperty('refresh1.service', 'ExecMainStartTimestamp', 'org.freedesktop.systemd1.Service'), start1);
    assert.equal(await cmdline(), '/bin/sleep 1001');
    assert.equal(await s.unitProperty('refresh1.service', 'NeedDaemonReload'), false);

    // The automatic edge does the same without an explicit one.
    const pid2 = await mainPid(s, 'refresh1.service');
    const r3 = await run(s, graph('refresh1c.yaml', yaml('1002', false)));
    assert.equal(r3.code, 0, r3.stderr);
    assert.match(r3.stderr, /refresh: reloaded or restarted refresh1\.service/);
    assert.notEqual(await mainPid(s, 'refresh1.service'), pid2);
    assert.equal(await cmdline(), '/bin/sleep 1002');

    // Unchanged file: no refresh, no restart.
    const pid3 = await mainPid(s, 'refresh1.service');
    const r4 = await run(s, graph('refresh1d.yaml', yaml('1002', false)));
    assert.equal(r4.code, 0, r4.stderr);
    assert.doesNotMatch(r4.stderr, /svc\[refresh1\]/);
    assert.equal(await mainPid(s, 'refresh1.service'), pid3);
  });

  it('a unit that does not exist: an error naming the unit and where unit files go', async (t) => {
    const s = manager(t);
    if (!s) return;
    const r = await run(s, graph('nosuch.yaml', 'resources:\n  svc:\n  - {name: nosuch, state: running, session: true}\n'));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /svc\[nosuch\]: .*unit nosuch\.service not found \(LoadState not-found\) in the user's systemd manager \(session\)/);
    assert.ok(r.stderr.includes(`write its unit file to ${join(s.unitDir, 'nosuch.service')}`), r.stderr);
  });

  it('a unit whose start fails: the job result and the unit state in the error', async (t) => {
    const s = manager(t);
    if (!s) return;
    writeUnit(s, 'fails1.service', '[Service]\nType=oneshot\nExecStart=/bin/false\n');
    const r = await run(s, graph('fails1.yaml', 'resources:\n  svc:\n  - {name: fails1, state: running, session: true}\n'));
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /start of fails1\.service failed \(job result 'failed', service result 'exit-code'\); the unit is now failed\/failed: see `systemctl --user status fails1\.service`/,
    );
  });
});

describe('svc with the system manager on a machine without systemd as PID 1', () => {
  it('fails with a clear error, not a hang', async (t) => {
    if (existsSync('/run/systemd/system')) {
      t.skip('this machine runs systemd as PID 1');
      return;
    }
    const t0 = performance.now();
    const r = await mgmtRun([
      'run',
      '--yaml',
      graph('system.yaml', 'resources:\n  svc:\n  - {name: demo, state: running}\n'),
      '--converged-timeout',
      '0',
      '--tmp-prefix',
    ]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /svc\[demo\]: .*systemd is not the init system on this machine \(PID 1 is '.+' and \/run\/systemd\/system does not exist\)/);
    assert.ok(performance.now() - t0 < 10_000);
  });
});
