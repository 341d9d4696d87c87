/**
 * Benchmark: service drift repair. A long-running `mgmt run` manages one unit (`state: running`, session: true) in a
 * real systemd user manager (test/harness/user-systemd.ts). The benchmark stops the unit by hand 50 times (StopUnit
 * over D-Bus, mode replace, as `systemctl --user stop` does) and times how long until the unit is active again.
 *
 * Latency runs from just before the StopUnit call (performance.now) to the unit's PropertiesChanged signal that
 * says ActiveState=active with a new main process, received by the benchmark's own D-Bus connection: no polling.
 * It includes the stop job itself (SIGTERM to the service's process, reaping it), the signal to mgmt, mgmt's check
 * (LoadUnit, GetAll, GetUnitFileState), the start job and its fork/exec, and the signal to the benchmark.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { Systemd } from '../../src/system/dbus/systemd.js';
import { startUserSystemd, unavailableReason, writeUnit } from '../harness/user-systemd.js';
import { type BenchContext, type BenchResult, fmtMs, percentile, q, row, type Row, startMgmt, type Tracked, waitExit } from './common.js';

const TRIALS = 50;
const SETTLE_MS = 50;
const TRIAL_TIMEOUT_MS = 5000;
const UNIT = 'bench-drift.service';

export async function svc(ctx: BenchContext): Promise<BenchResult> {
  const title = 'drift repair of a service stopped by hand (systemd user manager)';
  const reason = unavailableReason();
  if (reason) return { name: 'svc', title, rows: [row('skipped', reason)], notes: ['The systemd user manager harness cannot run on this machine.'] };

  const rows: Row[] = [];
  const t0 = performance.now();
  const sd = await startUserSystemd();
  rows.push(row('user manager ready (harness start)', fmtMs(performance.now() - t0)));
  let p: Tracked | undefined;
  let client: Systemd | undefined;
  const stopSignals: (() => Promise<void>)[] = [];
  try {
    writeUnit(sd, UNIT, '[Unit]\nDescription=mgmt-ts svc benchmark\n[Service]\nExecStart=/bin/sleep 100000\n');
    const graph = join(ctx.dir, 'graph.yaml');
    await writeFile(graph, ['graph: bench-svc', 'resources:', '  svc:', `  - name: ${q(UNIT)}`, '    state: running', '    session: true', ''].join('\n'));

    // The benchmark's own client of the manager, on the harness's bus.
    const saved = process.env.DBUS_SESSION_BUS_ADDRESS;
    process.env.DBUS_SESSION_BUS_ADDRESS = sd.busAddress;
    try {
      client = await Systemd.connect(true);
    } finally {
      if (saved === undefined) delete process.env.DBUS_SESSION_BUS_ADDRESS;
      else process.env.DBUS_SESSION_BUS_ADDRESS = saved;
    }
    const c = client;
    const unitPath = await c.loadUnit(UNIT);
    await c.subscribe();
    const mainPid = async () => Number(await c.unitProperty(unitPath, 'org.freedesktop.systemd1.Service', 'MainPID'));

    // ActiveState changes of the unit, stamped on arrival.
    let onState: ((state: string, at: number) => void) | undefined;
    stopSignals.push(
      await c.conn.subscribe({ path: unitPath, interface: 'org.freedesktop.DBus.Properties', member: 'PropertiesChanged' }, (s) => {
        const at = performance.now();
        if (s.body[0] !== 'org.freedesktop.systemd1.Unit') return;
        const changed = s.body[1] as Record<string, { value: unknown }>;
        const st = changed.ActiveState?.value;
        if (typeof st === 'string') onState?.(st, at);
      }),
    );

    const firstActive = new Promise<number>((resolve) => (onState = (st, at) => st === 'active' && resolve(at)));
    const tStart = performance.now();
    p = startMgmt(['run', '--yaml', graph, '--tmp-prefix'], ctx.dir, { env: sd.env });
    const first = await Promise.race([firstActive, delay(15_000).then(() => NaN)]);
    if (Number.isNaN(first)) throw new Error(`the unit was not started within 15 s; mgmt output:\n${p.output().slice(-2000)}`);
    rows.push(row('CLI start to unit active', fmtMs(first - tStart)));
    await delay(200);

    const lat: number[] = [];
    const stopSeen: number[] = [];
    let missed = 0;
    for (let i = 0; i < TRIALS; i++) {
      const before = await mainPid();
      let inactiveAt = NaN;
      const done = new Promise<number>((resolve) => {
        onState = (st, at) => {
          if ((st === 'inactive' || st === 'failed' || st === 'deactivating') && Number.isNaN(inactiveAt)) inactiveAt = at;
          if (st === 'active') {
            // Confirm it is a new process (so an 'active' from before the stop never counts).
            void mainPid().then((pid) => {
              if (pid > 0 && pid !== before) resolve(at);
            });
          }
        };
      });
      const start = performance.now();
      void c.conn
        .call({
          destination: 'org.freedesktop.systemd1',
          path: '/org/freedesktop/systemd1',
          interface: 'org.freedesktop.systemd1.Manager',
          member: 'StopUnit',
          signature: 'ss',
          body: [UNIT, 'replace'],
        })
        .catch(() => {});
      const at = await Promise.race([done, delay(TRIAL_TIMEOUT_MS).then(() => NaN)]);
      onState = undefined;
      if (Number.isNaN(at)) {
        missed++;
        lat.push(TRIAL_TIMEOUT_MS);
      } else {
        lat.push(at - start);
        if (!Number.isNaN(inactiveAt)) stopSeen.push(inactiveAt - start);
      }
      await delay(SETTLE_MS);
    }
    const p50 = percentile(lat, 50);
    const p99 = percentile(lat, 99);
    rows.push(row(`stop by hand to active again, p50 (${TRIALS} trials)`, fmtMs(p50)));
    rows.push(row(`stop by hand to active again, p99 (${TRIALS} trials)`, fmtMs(p99), '<= 1 s', p99 <= 1000));
    rows.push(row('stop by hand to active again, max', fmtMs(Math.max(...lat))));
    rows.push(row(`repairs missed (not active again within ${TRIAL_TIMEOUT_MS / 1000} s)`, String(missed), '0', missed === 0));
    if (stopSeen.length) rows.push(row('floor: StopUnit call to the unit seen stopping, p50', fmtMs(percentile(stopSeen, 50))));

    const tk = performance.now();
    process.kill(p.pid, 'SIGTERM');
    const exit = await waitExit(p, 5000, 'mgmt run after SIGTERM');
    rows.push(row('SIGTERM to exit', fmtMs(exit.at - tk), '<= 1 s', exit.at - tk <= 1000 && exit.code === 0));
  } finally {
    for (const s of stopSignals) await s().catch(() => {});
    client?.release();
    if (p?.child.exitCode === null && p.child.signalCode === null) await waitExit(p, 1, 'mgmt').catch(() => {});
    await sd.stop();
  }

  return {
    name: 'svc',
    title,
    rows,
    notes: [
      `A real \`systemd --user\` (test harness: private mount namespace with /run/systemd/system, its own session bus) runs a unit \`ExecStart=/bin/sleep\`; \`mgmt run\` (no converged timeout) manages it with \`state: running, session: true\`.`,
      `${TRIALS} trials: StopUnit(replace) over D-Bus by the benchmark, then wait for ActiveState=active with a new MainPID; ${SETTLE_MS} ms between trials.`,
      'Latency runs from just before the StopUnit call to the PropertiesChanged signal (ActiveState=active) received by the benchmark; it includes the stop job, mgmt noticing it, checking and starting the unit, and the signal back. The floor row is the benchmark seeing its own stop take effect.',
      `A trial with no repair within ${TRIAL_TIMEOUT_MS / 1000} s counts ${TRIAL_TIMEOUT_MS / 1000} s. At the end the CLI gets SIGTERM by PID and must exit (0) within 1 s.`,
    ],
  };
}
