/**
 * `mgmt puppet` against `puppet apply` end to end on one example, with the same facts and node, both under noop
 * (the corpus's examples manage the machine's packages and services, which a benchmark must not change): cold
 * starts, wall time from spawn to exit, median of three after one warm-up run each. Used by `npm run corpus --
 * --bench` (the largest corpus example that validates) and by the `puppet-e2e` row of `npm run bench`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { puppetApplyHome, timed } from './corpus-puppet-apply.js';

const RUNS = 3;
const MGMT = resolve(fileURLToPath(import.meta.url), '..', '..', '..', 'bin', 'mgmt.js');

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export interface EndToEnd {
  /** Medians, ms. */
  readonly mgmtMs: number;
  readonly puppetMs: number;
  /** Every timed run, ms. */
  readonly mgmtRuns: readonly number[];
  readonly puppetRuns: readonly number[];
  readonly runs: number;
}

export async function benchLargest(
  manifest: string,
  modulepath: string,
  factsFile: string,
  node: string,
  say: (line: string) => void,
  runs = RUNS,
): Promise<EndToEnd> {
  const base = mkdtempSync(join(tmpdir(), 'mgmt-corpus-bench-'));
  try {
    const home = puppetApplyHome(join(base, 'puppet'), factsFile, node);
    const puppet = home.argv(manifest, modulepath);
    const mgmt = [process.execPath, MGMT, 'puppet', '--manifest', manifest, '--modulepath', modulepath, '--facts', factsFile, '--node', node];
    mgmt.push('--noop', '--converged-timeout', '0', '--tmp-prefix');
    const times = { mgmt: [] as number[], puppet: [] as number[] };
    for (let i = 0; i <= runs; i++) {
      for (const [tool, argv] of [
        ['puppet', puppet],
        ['mgmt', mgmt],
      ] as const) {
        const r = await timed(argv, home.env);
        // mgmt exits 1 when a resource fails under noop (what this machine cannot run); Puppet 2 or 4/6 likewise.
        if (r.code === null || (tool === 'puppet' && ![0, 2, 4, 6].includes(r.code)) || (tool === 'mgmt' && r.code > 1))
          throw new Error(`${tool} exited with ${r.code}: ${r.output.slice(-1500)}`);
        if (i > 0) times[tool].push(r.ms);
      }
    }
    const result = { mgmtMs: median(times.mgmt), puppetMs: median(times.puppet), mgmtRuns: times.mgmt, puppetRuns: times.puppet, runs };
    say(
      `bench ${manifest}: mgmt puppet --noop ${(result.mgmtMs / 1000).toFixed(2)} s, puppet apply --noop ${(result.puppetMs / 1000).toFixed(2)} s ` +
        `(median of ${runs}, same facts and node; runs: mgmt ${times.mgmt.map((t) => (t / 1000).toFixed(2)).join(', ')}; ` +
        `puppet ${times.puppet.map((t) => (t / 1000).toFixed(2)).join(', ')})`,
    );
    return result;
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}
