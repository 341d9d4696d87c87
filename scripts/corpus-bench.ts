/**
 * `npm run corpus -- --bench`: `mgmt puppet` against `puppet apply` end to end on the largest corpus example that
 * validates, with the same facts and node, both under noop (the example manages the machine's packages and
 * services, which a benchmark must not change): cold starts, wall time from spawn to exit, median of three after
 * one warm-up run each. Puppet's stub facts reach `puppet apply` as its cached facts (`--facts_terminus yaml`).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { load } from 'js-yaml';

const RUNS = 3;
const MGMT = resolve(fileURLToPath(import.meta.url), '..', '..', '..', 'bin', 'mgmt.js');

interface Exit {
  readonly code: number | null;
  readonly ms: number;
  readonly output: string;
}

function timed(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<Exit> {
  return new Promise((res, rej) => {
    const t0 = performance.now();
    const child = spawn(argv[0]!, argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (b: Buffer) => (output = (output + b.toString('utf8')).slice(-4000));
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', rej);
    child.on('close', (code) => res({ code, ms: performance.now() - t0, output }));
  });
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function benchLargest(
  manifest: string,
  modulepath: string,
  factsFile: string,
  node: string,
  say: (line: string) => void,
): Promise<{ mgmtMs: number; puppetMs: number }> {
  const base = mkdtempSync(join(tmpdir(), 'mgmt-corpus-bench-'));
  try {
    // puppet apply in a home of its own, reading the stub facts as the node's cached facts.
    const pdir = join(base, 'puppet');
    for (const d of ['var/client_yaml/facts', 'conf', 'code', 'log', 'run', 'public', 'ssl', 'ca', 'home']) mkdirSync(join(pdir, d), { recursive: true });
    const facts = load(readFileSync(factsFile, 'utf8')) as Record<string, unknown>;
    writeFileSync(
      join(pdir, 'var/client_yaml/facts', `${node}.yaml`),
      `--- !ruby/object:Puppet::Node::Facts\nname: ${node}\nvalues: ${JSON.stringify(facts)}\n`,
    );
    const dirs = ['vardir:var', 'confdir:conf', 'codedir:code', 'logdir:log', 'rundir:run', 'publicdir:public', 'ssldir:ssl', 'cadir:ca'].flatMap((x) => {
      const [flag, sub] = x.split(':') as [string, string];
      return [`--${flag}`, join(pdir, sub)];
    });
    const puppet = ['puppet', 'apply', '--noop', '--color=false', '--log_level', 'warning', ...dirs, '--facts_terminus', 'yaml', '--certname', node];
    puppet.push('--modulepath', `${modulepath}:/usr/share/puppet/modules`, manifest);
    const mgmt = [process.execPath, MGMT, 'puppet', '--manifest', manifest, '--modulepath', modulepath, '--facts', factsFile, '--node', node];
    mgmt.push('--noop', '--converged-timeout', '0', '--tmp-prefix');
    const env = { ...process.env, HOME: join(pdir, 'home'), TMPDIR: base };
    const times = { mgmt: [] as number[], puppet: [] as number[] };
    for (let i = 0; i <= RUNS; i++) {
      for (const [tool, argv] of [
        ['puppet', puppet],
        ['mgmt', mgmt],
      ] as const) {
        const r = await timed(argv, env);
        // mgmt exits 1 when a resource fails under noop (what this machine cannot run); Puppet 2 or 4/6 likewise.
        if (r.code === null || (tool === 'puppet' && ![0, 2, 4, 6].includes(r.code)) || (tool === 'mgmt' && r.code > 1))
          throw new Error(`${tool} exited with ${r.code}: ${r.output.slice(-1500)}`);
        if (i > 0) times[tool].push(r.ms);
      }
    }
    const result = { mgmtMs: median(times.mgmt), puppetMs: median(times.puppet) };
    say(
      `bench ${manifest}: mgmt puppet --noop ${(result.mgmtMs / 1000).toFixed(2)} s, puppet apply --noop ${(result.puppetMs / 1000).toFixed(2)} s ` +
        `(median of ${RUNS}, same facts and node; runs: mgmt ${times.mgmt.map((t) => (t / 1000).toFixed(2)).join(', ')}; ` +
        `puppet ${times.puppet.map((t) => (t / 1000).toFixed(2)).join(', ')})`,
    );
    return result;
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}
