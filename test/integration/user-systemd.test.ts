// The systemd user manager harness itself: it starts a real manager that runs units, and stop() leaves no process,
// no temp dir and nothing on the host's /run/systemd behind.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { hostRunSystemdTouched, startUserSystemd, unavailableReason, writeUnit } from '../harness/user-systemd.js';

describe('user systemd harness', () => {
  it('runs a unit, and stop() leaves no process, temp dir or mount behind', async (t) => {
    const reason = unavailableReason();
    if (reason) {
      t.skip(reason);
      return;
    }
    const before = hostRunSystemdTouched();
    const t0 = performance.now();
    const sd = await startUserSystemd();
    t.diagnostic(`manager ready in ${(performance.now() - t0).toFixed(0)} ms`);
    let mainPid = 0;
    try {
      writeUnit(sd, 'harness-demo.service', '[Service]\nExecStart=/bin/sleep 1000\n');
      const r = sd.systemctl('start', 'harness-demo.service');
      assert.equal(r.code, 0, r.stderr);
      assert.equal(await sd.unitProperty('harness-demo.service', 'ActiveState'), 'active');
      mainPid = Number(await sd.unitProperty('harness-demo.service', 'MainPID', 'org.freedesktop.systemd1.Service'));
      assert.ok(mainPid > 0);
      // The manager's mount namespace is its own: the host sees no marker.
      assert.equal(hostRunSystemdTouched(), before);
    } finally {
      await sd.stop();
    }
    assert.equal(existsSync(`/proc/${mainPid}`), false, 'the unit’s process is gone');
    assert.equal(existsSync(`/proc/${sd.pid}`), false, 'the manager is gone');
    assert.equal(existsSync(sd.home), false);
    assert.equal(existsSync(sd.env.XDG_RUNTIME_DIR!), false);
    assert.equal(hostRunSystemdTouched(), before, 'nothing left on the host’s /run/systemd');
    assert.ok(sd.cgroups.length > 0);
    for (const d of sd.cgroups) assert.equal(existsSync(d), false, `cgroup ${d} removed`);
    await sd.stop(); // idempotent
  });

  it('two managers are isolated: stopping one leaves the other’s bus and units running', async (t) => {
    const reason = unavailableReason();
    if (reason) {
      t.skip(reason);
      return;
    }
    const [a, b] = await Promise.all([startUserSystemd(), startUserSystemd()]);
    try {
      for (const s of [a, b]) {
        writeUnit(s, 'twin.service', '[Service]\nExecStart=/bin/sleep 1000\n');
        assert.equal(s.systemctl('start', 'twin.service').code, 0);
      }
      const unitPid = Number(await b.unitProperty('twin.service', 'MainPID', 'org.freedesktop.systemd1.Service'));
      const busPid = Number(await b.unitProperty('dbus.service', 'MainPID', 'org.freedesktop.systemd1.Service'));
      await a.stop();
      assert.ok(existsSync(`/proc/${unitPid}`), 'the other manager’s unit still runs');
      assert.equal(
        Number(await b.unitProperty('dbus.service', 'MainPID', 'org.freedesktop.systemd1.Service')),
        busPid,
        'the other manager’s bus was not restarted',
      );
      assert.equal(await b.unitProperty('twin.service', 'ActiveState'), 'active');
    } finally {
      await a.stop();
      await b.stop();
    }
  });
});
