// The crash test of issue 11: `kill -9` of `mgmt run` at random moments during a large apply (many small files
// with inline content, a few 20 MB files copied from a source). After each kill every managed file is absent, its
// old content or its new content, never truncated or partial; the next run converges and leaves no temp file
// (the stale temp files the kill left are removed: item 7). Trials and seed: MGMT_CRASH_TRIALS (default 20) and
// MGMT_CRASH_SEED; the figures are printed as test diagnostics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isOurTempName } from '../../src/system/fs/stale-temps.js';
import { mgmt } from '../harness/cli.js';

const TRIALS = Number(process.env.MGMT_CRASH_TRIALS ?? 20);
const SEED = Number(process.env.MGMT_CRASH_SEED ?? 11);
const SMALL = 400;
const BIG = 8;
const BIG_BYTES = 20 * 1024 * 1024;

/** A small deterministic PRNG (mulberry32), so that a failing trial can be replayed with its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const smallOld = (i: number) => `old ${i}\n`;
const smallNew = (i: number) => `new content of file ${i}\n`.repeat(4);

test(`crash: kill -9 at random moments during a large apply, ${TRIALS} trials`, { timeout: 900_000 }, async (t) => {
  const base = existsSync('/dev/shm') ? mkdtempSync('/dev/shm/mgmt-crash-') : mkdtempSync(join(tmpdir(), 'mgmt-crash-'));
  try {
    const src = join(base, 'src');
    const small = join(base, 'tree', 'small');
    const big = join(base, 'tree', 'big');
    for (const d of [src, small, big]) mkdirSync(d, { recursive: true });
    const bigOld: Buffer[] = [];
    const bigNew: Buffer[] = [];
    for (let i = 0; i < BIG; i++) {
      bigOld.push(Buffer.alloc(BIG_BYTES, `old big ${i} `));
      bigNew.push(Buffer.alloc(BIG_BYTES, `NEW BIG ${i} `));
      writeFileSync(join(src, `old-${i}`), bigOld[i]!);
      writeFileSync(join(src, `new-${i}`), bigNew[i]!);
    }
    const yaml = ['graph: crash', 'resources:', '  file:'];
    for (let i = 0; i < BIG; i++) {
      yaml.push(`  - name: ${JSON.stringify(join(big, `big-${i}`))}`, '    state: exists', `    source: ${JSON.stringify(join(src, `new-${i}`))}`);
    }
    for (let i = 0; i < SMALL; i++) {
      yaml.push(`  - name: ${JSON.stringify(join(small, `f-${i}`))}`, '    state: exists', `    content: ${JSON.stringify(smallNew(i))}`);
    }
    const graph = join(base, 'graph.yaml');
    writeFileSync(graph, yaml.join('\n') + '\n');

    const rand = prng(SEED);
    const reset = () => {
      for (let i = 0; i < SMALL; i++) {
        const p = join(small, `f-${i}`);
        if (rand() < 0.3) rmSync(p, { force: true });
        else writeFileSync(p, smallOld(i));
      }
      for (let i = 0; i < BIG; i++) {
        const p = join(big, `big-${i}`);
        if (rand() < 0.3) rmSync(p, { force: true });
        else copyFileSync(join(src, `old-${i}`), p);
      }
    };
    const temps = () => [...readdirSync(small), ...readdirSync(big)].filter(isOurTempName);
    const apply = async () => {
      const cli = mgmt(['run', '--yaml', graph, '--converged-timeout', '0', '--prefix', join(base, 'state')]);
      const code = await cli.exited;
      assert.equal(code, 0, cli.stderr());
    };
    const allNew = () => {
      for (let i = 0; i < SMALL; i++) assert.equal(readFileSync(join(small, `f-${i}`), 'utf8'), smallNew(i));
      for (let i = 0; i < BIG; i++) assert.ok(readFileSync(join(big, `big-${i}`)).equals(bigNew[i]!), `big-${i} is new`);
    };

    // Calibration: how long one whole apply takes from the reset state; kills land anywhere in it.
    reset();
    const t0 = performance.now();
    await apply();
    const fullMs = performance.now() - t0;
    allNew();

    let killedMidway = 0;
    let leftTemps = 0;
    const states = { absent: 0, old: 0, new: 0 };
    for (let trial = 1; trial <= TRIALS; trial++) {
      reset();
      assert.deepEqual(temps(), [], 'no temp file before the trial');
      const delay = Math.round(rand() * fullMs);
      const cli = mgmt(['run', '--yaml', graph, '--converged-timeout', '0', '--prefix', join(base, 'state')]);
      const timer = setTimeout(() => cli.child.kill('SIGKILL'), delay);
      const code = await cli.exited;
      clearTimeout(timer);
      if (code === 128 + 9) killedMidway++;

      // Every managed file: absent, old or new, never anything in between.
      for (let i = 0; i < SMALL; i++) {
        const p = join(small, `f-${i}`);
        if (!existsSync(p)) states.absent++;
        else {
          const text = readFileSync(p, 'utf8');
          assert.ok(text === smallOld(i) || text === smallNew(i), `trial ${trial} (kill after ${delay} ms): f-${i} holds ${JSON.stringify(text)}`);
          if (text === smallOld(i)) states.old++;
          else states.new++;
        }
      }
      for (let i = 0; i < BIG; i++) {
        const p = join(big, `big-${i}`);
        if (!existsSync(p)) {
          states.absent++;
          continue;
        }
        const data = readFileSync(p);
        const isOld = data.equals(bigOld[i]!);
        const isNew = data.equals(bigNew[i]!);
        assert.ok(isOld || isNew, `trial ${trial} (kill after ${delay} ms): big-${i} is partial (${statSync(p).size} bytes)`);
        if (isOld) states.old++;
        else states.new++;
      }
      leftTemps += temps().length;

      // The next run converges and removes the temp files the kill left.
      await apply();
      allNew();
      assert.deepEqual(temps(), [], `trial ${trial}: no temp file after the next run`);
    }
    const figures = `${TRIALS} trials (seed ${SEED}; ${SMALL} small files and ${BIG} x 20 MB; a whole apply took ${Math.round(fullMs)} ms): ${killedMidway} killed before they finished; files after the kills: ${states.new} new, ${states.old} old, ${states.absent} absent, none partial; ${leftTemps} temp files left by the kills, all removed by the next run`;
    t.diagnostic(figures);
    assert.ok(killedMidway >= TRIALS / 2, `most kills land during the apply (${killedMidway} of ${TRIALS})`);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});
