/**
 * Benchmark 2, drift repair: how fast does a long-running `mgmt run` put a managed file back after someone
 * deletes or overwrites it?
 *
 * The CLI runs a one-file graph without --converged-timeout. The benchmark process alternately deletes and
 * overwrites the file 200 times. Latency is measured from just before the unlink/write (performance.now) to the
 * moment the file is back with the right content, seen through fs.watch on the parent directory (the rename of the
 * engine's atomic write) and confirmed by reading the content in the event handler. There is no polling.
 */
import { type FSWatcher, readFileSync, unlinkSync, watch, writeFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type BenchContext, type BenchResult, fmtMs, percentile, q, row, type Row, sleep, startMgmt, type Tracked, waitExit } from './common.js';

const TRIALS = 200;
/** Overwrite trials of the second file, whose resource keeps no backup. */
const PLAIN_TRIALS = 100;
const SETTLE_MS = 20;
const TRIAL_TIMEOUT_MS = 2000;
const WANT = 'managed by mgmt-ts\n';
const OTHER = 'drifted: edited by hand\n';

/** Resolves with the performance.now() at which `path` was first seen holding WANT after arm(). */
class ContentWatch {
  private waiter: ((t: number) => void) | undefined;
  private readonly watcher: FSWatcher;
  /** performance.now() of the first event for the file after arm(): the bench's own change, seen by fs.watch. */
  firstEvent = NaN;

  constructor(
    dir: string,
    private readonly base: string,
    private readonly path: string,
  ) {
    this.watcher = watch(dir, (_ev, name) => {
      if (name !== null && name !== this.base) return;
      if (this.waiter && Number.isNaN(this.firstEvent)) this.firstEvent = performance.now();
      this.check();
    });
  }

  isRight(): boolean {
    try {
      return readFileSync(this.path, 'utf8') === WANT;
    } catch {
      return false;
    }
  }

  check(): void {
    if (!this.waiter) return;
    if (!this.isRight()) return;
    const t = performance.now();
    const w = this.waiter;
    this.waiter = undefined;
    w(t);
  }

  /** Arms the watch; the promise gives the time the content was right, or NaN after `timeoutMs`. */
  arm(timeoutMs: number): Promise<number> {
    this.firstEvent = NaN;
    return new Promise<number>((res) => {
      const timer = setTimeout(() => {
        if (this.waiter !== done) return;
        this.waiter = undefined;
        res(NaN);
      }, timeoutMs);
      const done = (t: number) => {
        clearTimeout(timer);
        res(t);
      };
      this.waiter = done;
    });
  }

  close(): void {
    this.watcher.close();
  }
}

export async function drift(ctx: BenchContext): Promise<BenchResult> {
  const rows: Row[] = [];
  const watched = join(ctx.dir, 'watched');
  await mkdir(watched);
  const path = join(watched, 'motd');
  // the same file with `backup: false`: its repairs keep no copy of what they replace, as before the backup bucket
  const plain = join(watched, 'motd-plain');
  const graph = join(ctx.dir, 'graph.yaml');
  const file = (p: string, more: string[] = []) => [`  - name: ${q(p)}`, '    state: exists', `    content: ${q(WANT)}`, '    mode: "0644"', ...more];
  await writeFile(graph, ['graph: bench-drift', 'resources:', '  file:', ...file(path), ...file(plain, ['    backup: false']), ''].join('\n'));

  const cw = new ContentWatch(watched, 'motd', path);
  const pw = new ContentWatch(watched, 'motd-plain', plain);
  let p: Tracked | undefined;
  try {
    const first = cw.arm(15_000);
    const t0 = performance.now();
    p = startMgmt(['run', '--yaml', graph, '--tmp-prefix'], ctx.dir);
    const created = await first;
    if (Number.isNaN(created)) throw new Error(`the managed file was not created within 15 s; output tail:\n${p.output().slice(-2000)}`);
    rows.push(row('CLI start to file created', fmtMs(created - t0)));
    await sleep(200); // let the first apply's own events pass

    const lat: number[] = [];
    const del: number[] = [];
    const ovr: number[] = [];
    const floor: number[] = [];
    let missed = 0;
    for (let i = 0; i < TRIALS; i++) {
      // Bounded wait for the file to be right before the next trial (it always should be after a repair).
      for (let k = 0; k < 100 && !cw.isRight(); k++) await sleep(5);
      const deleting = i % 2 === 0;
      const done = cw.arm(TRIAL_TIMEOUT_MS);
      const start = performance.now();
      if (deleting) unlinkSync(path);
      else writeFileSync(path, OTHER);
      const at = await done;
      if (Number.isNaN(at)) {
        missed++;
        lat.push(TRIAL_TIMEOUT_MS);
      } else {
        lat.push(at - start);
        (deleting ? del : ovr).push(at - start);
        if (!Number.isNaN(cw.firstEvent)) floor.push(cw.firstEvent - start);
      }
      await sleep(SETTLE_MS);
    }
    const p50 = percentile(lat, 50);
    const p99 = percentile(lat, 99);
    rows.push(row(`repair latency p50 (${TRIALS} trials)`, fmtMs(p50), '<= 5 ms', p50 <= 5));
    rows.push(row(`repair latency p99 (${TRIALS} trials)`, fmtMs(p99), '<= 50 ms', p99 <= 50));
    rows.push(row('repair latency max', fmtMs(Math.max(...lat))));
    rows.push(row('repairs missed (no repair within 2 s)', String(missed), '0', missed === 0));
    if (floor.length) {
      const f50 = percentile(floor, 50);
      rows.push(row("floor: fs.watch event of the bench's own change, p50", fmtMs(f50)));
      rows.push(row('repair p50 / floor p50', `${(p50 / f50).toFixed(1)}x`));
    }
    if (del.length) rows.push(row('delete trials: p50 / p99', `${fmtMs(percentile(del, 50))} / ${fmtMs(percentile(del, 99))}`));
    if (ovr.length) rows.push(row('overwrite trials: p50 / p99', `${fmtMs(percentile(ovr, 50))} / ${fmtMs(percentile(ovr, 99))}`));

    // The overwrite repair without the backup of the replaced content (`backup: false`).
    const plainLat: number[] = [];
    let plainMissed = 0;
    for (let i = 0; i < PLAIN_TRIALS; i++) {
      for (let k = 0; k < 100 && !pw.isRight(); k++) await sleep(5);
      const done = pw.arm(TRIAL_TIMEOUT_MS);
      const start = performance.now();
      writeFileSync(plain, OTHER);
      const at = await done;
      if (Number.isNaN(at)) plainMissed++;
      plainLat.push(Number.isNaN(at) ? TRIAL_TIMEOUT_MS : at - start);
      await sleep(SETTLE_MS);
    }
    rows.push(
      row(
        `overwrite trials with \`backup: false\` (${PLAIN_TRIALS}, second file): p50 / p99`,
        `${fmtMs(percentile(plainLat, 50))} / ${fmtMs(percentile(plainLat, 99))}`,
      ),
    );
    rows.push(row('  of which missed (no repair within 2 s)', String(plainMissed), '0', plainMissed === 0));

    // Shutdown: SIGTERM by PID, must exit within 1 s.
    const tk = performance.now();
    process.kill(p.pid, 'SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const quick = await Promise.race([p.exited, new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), 1000)))]);
    clearTimeout(timer);
    if (quick) {
      const code = quick.code ?? quick.signal;
      rows.push(row('SIGTERM to exit', fmtMs(quick.at - tk), '<= 1 s', true));
      rows.push(row('exit status after SIGTERM', String(code), '0', quick.code === 0));
    } else {
      rows.push(row('SIGTERM to exit', 'still running after 1 s', '<= 1 s', false));
      const late = await waitExit(p, 5000, 'mgmt run after SIGTERM').catch(() => undefined);
      rows.push(row('exit after SIGTERM (late)', late ? fmtMs(late.at - tk) : 'killed after 6 s'));
    }
  } finally {
    cw.close();
    pw.close();
  }

  return {
    name: 'drift',
    title: 'drift repair of one managed file by a long-running `mgmt run`',
    rows,
    notes: [
      `${TRIALS} trials alternate unlink and overwrite (writeFileSync) of the managed file, ${SETTLE_MS} ms apart so that the previous repair's own events settle.`,
      'Latency runs from just before the unlink/write to the fs.watch event (on the parent directory) after which a read returns the managed content; it includes the event delivery to the benchmark process and one read.',
      'The floor is the same process seeing the first fs.watch event of its own unlink/write (event delivery only): the repair cannot be observed faster than that.',
      'A trial with no repair within 2 s counts 2 s. At the end the CLI gets SIGTERM by PID and must exit within 1 s.',
      `An overwrite repair first keeps the replaced content in the backup bucket (\`backup\`, default \`bucket\`, as Puppet's clientbucket): one more read, a checksum and a few small writes. The graph has a second file with \`backup: false\`; ${PLAIN_TRIALS} overwrite trials of it, after the ${TRIALS} above, give the repair without that copy.`,
    ],
  };
}
