/**
 * Benchmark 5, the Puppet cross-compiler: (1) `mgmt puppet --manifest` against `puppet apply` of the same
 * manifests (1 file; 1,000 files), cold, end to end; (2) recompile-and-swap after editing the 1,000-file manifest
 * of a running `mgmt puppet`, from the save to the changed file on disk; (3) translation alone (reading the
 * catalog document and translating it, in process) of a synthetic 10,000-resource catalog.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, watch, writeFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { autoRelations } from '../../src/puppet/autorelations.js';
import { type Catalog, readCatalog } from '../../src/puppet/catalog.js';
import { typeRules } from '../../src/puppet/types/index.js';
import { fastRoot, fileName, puppetManifest, verifyFiles } from './managed-files.js';
import { type BenchContext, type BenchResult, fmtMs, median, row, type Row, start, startMgmt, type Tracked, waitExit } from './common.js';
import { syntheticCatalogText } from './synthetic-catalog.js';

const PUPPET = '/usr/bin/puppet';
const SIZES = [1, 1000] as const;
const RUNS = 3;
const EDITS = 5;
const TRANSLATE_N = 10_000;
const TRANSLATE_RUNS = 5;

/**
 * How both tools get the node's facts: `stub` (judged) gives mgmt and `puppet apply` the SAME stub facts and node
 * name, so neither runs Facter; `facter` (information) lets both gather the host's facts with Facter.
 */
type FactSource = 'stub' | 'facter';
const NODE = 'mgmt-bench.example.test';
const STUB_FACTS: Readonly<Record<string, string>> = { kernel: 'Linux', osfamily: 'Debian', mgmt_bench_stub: 'from-the-stub' };

/** A fresh `<root>/<tag>/` with the n-file manifest and the stub facts mgmt compiles with. */
async function writeSite(root: string, tag: string, n: number): Promise<{ base: string; managed: string; site: string; facts: string }> {
  const base = join(root, tag);
  const managed = join(base, 'managed');
  await mkdir(base, { recursive: true });
  const site = join(base, 'site.pp');
  const facts = join(base, 'facts.json');
  await writeFile(site, puppetManifest(managed, n));
  await writeFile(facts, JSON.stringify(STUB_FACTS));
  return { base, managed, site, facts };
}

/** `mgmt puppet --manifest M [--facts F --node N] --converged-timeout 0 --tmp-prefix`, files absent at start; wall from spawn to exit. */
async function runMgmt(root: string, n: number, tag: string, source: FactSource): Promise<number> {
  const { base, managed, site, facts } = await writeSite(root, tag, n);
  const factFlags = source === 'stub' ? ['--facts', facts, '--node', NODE] : [];
  const t0 = performance.now();
  const p = startMgmt(['puppet', '--manifest', site, ...factFlags, '--converged-timeout', '0', '--tmp-prefix'], base);
  const r = await waitExit(p, 180_000, `mgmt puppet (${n} files)`);
  const wall = r.at - t0;
  if (r.code !== 0) throw new Error(`mgmt puppet (${n} files) exited with ${r.code ?? r.signal}; output tail:\n${p.output().slice(-2000)}`);
  const bad = await verifyFiles(managed, n);
  if (bad) throw new Error(`mgmt puppet (${n} files) did not converge correctly: ${bad}`);
  return wall;
}

/**
 * `puppet apply` of the same manifest with every Puppet directory inside the temp dir (as oneshot.ts). Stub facts
 * reach it the way Puppet reads cached facts: `--facts_terminus yaml` finds `<vardir>/client_yaml/facts/<certname>.yaml`
 * (a missing file would silently give EMPTY facts, so the warm-up proves the stub was read: `probe`).
 */
async function runPuppet(root: string, n: number, tag: string, source: FactSource, probe = false): Promise<number | string> {
  const base = join(root, tag);
  const managed = join(base, 'managed');
  const pdir = join(base, 'puppet-state');
  for (const d of ['var/state', 'var/client_yaml/facts', 'conf', 'code', 'log', 'run', 'public', 'ssl', 'ca', 'home'])
    await mkdir(join(pdir, d), { recursive: true });
  const site = join(base, 'site.pp');
  await writeFile(site, puppetManifest(managed, n) + (probe ? 'notify { "stub facts: ${facts[\'mgmt_bench_stub\']}": }\n' : ''));
  const dirFlags = ['vardir:var', 'confdir:conf', 'codedir:code', 'logdir:log', 'rundir:run', 'publicdir:public', 'ssldir:ssl', 'cadir:ca'].flatMap((x) => {
    const [flag, sub] = x.split(':') as [string, string];
    return [`--${flag}`, join(pdir, sub)];
  });
  let factFlags: string[] = [];
  if (source === 'stub') {
    const values = Object.entries(STUB_FACTS)
      .map(([k, v]) => `  ${k}: ${JSON.stringify(v)}\n`)
      .join('');
    await writeFile(join(pdir, 'var/client_yaml/facts', `${NODE}.yaml`), `--- !ruby/object:Puppet::Node::Facts\nname: ${NODE}\nvalues:\n${values}`);
    factFlags = ['--facts_terminus', 'yaml', '--certname', NODE];
  }
  const args = ['apply', '--color=false', '--log_level', probe ? 'notice' : 'warning', ...dirFlags, ...factFlags, site];
  const env = { ...process.env, HOME: join(pdir, 'home'), TMPDIR: base };
  const t0 = performance.now();
  const p = start(PUPPET, args, { env });
  const r = await waitExit(p, 300_000, `puppet apply (${n} files)`);
  const wall = r.at - t0;
  if (r.code !== 0) return `puppet apply exited with ${r.code ?? r.signal}: ${p.output().slice(-500)}`;
  if (probe && source === 'stub' && !p.output().includes(`stub facts: ${STUB_FACTS.mgmt_bench_stub}`))
    return `puppet apply did not read the stub facts (--facts_terminus yaml): ${p.output().slice(-500)}`;
  const bad = await verifyFiles(managed, n);
  if (bad) return `puppet apply did not produce the files: ${bad}`;
  return wall;
}

/** Resolves with performance.now() when `re` appears in the child's output (stdout or stderr), at most `ms`. */
function onLog(t: Tracked, re: RegExp, ms: number, what: string): Promise<number> {
  return new Promise<number>((res, rej) => {
    let buf = '';
    const listener = (b: Buffer) => {
      const at = performance.now();
      // Test before trimming: one chunk can hold the line followed by more than the kept tail (the log is
      // written once per event-loop turn).
      const text = buf + b.toString();
      buf = text.slice(-8192);
      if (re.test(text)) {
        done();
        res(at);
      }
    };
    const timer = setTimeout(() => {
      done();
      rej(new Error(`${what}: no ${re} within ${ms / 1000} s; output tail:\n${t.output().slice(-2000)}`));
    }, ms);
    const done = () => {
      clearTimeout(timer);
      t.child.stdout?.off('data', listener);
      t.child.stderr?.off('data', listener);
    };
    t.child.stdout?.on('data', listener);
    t.child.stderr?.on('data', listener);
  });
}

/** Resolves with performance.now() at the first fs.watch event on `dir` after which `file` reads `want` (at most `ms`). */
function whenContent(dir: string, file: string, want: string, ms: number, what: string): { ready: Promise<number>; close: () => void } {
  let w: ReturnType<typeof watch> | undefined;
  let timer: NodeJS.Timeout | undefined;
  const close = () => {
    clearTimeout(timer);
    w?.close();
  };
  const ready = new Promise<number>((res, rej) => {
    let checking = false;
    let again = false;
    const check = () => {
      if (checking) {
        again = true;
        return;
      }
      checking = true;
      const at = performance.now();
      let got: string | undefined;
      try {
        got = readFileSync(file, 'utf8');
      } catch {
        /* between unlink and rename */
      }
      checking = false;
      if (got === want) {
        close();
        res(at);
      } else if (again) {
        again = false;
        check();
      }
    };
    w = watch(dir, check);
    timer = setTimeout(() => {
      close();
      rej(new Error(`${what}: ${file} did not get the new content within ${ms / 1000} s`));
    }, ms);
  });
  return { ready, close };
}

/**
 * A synthetic catalog where nearly every resource has automatic relationships: per class a directory and 8 files
 * in it (owner and group of 50 users and groups) and an exec running one of them in the directory as a user; the
 * users have groups; one mount above everything (its autobefore names every file).
 */
function autorelationCatalogText(n: number): string {
  const r = (type: string, title: string, parameters: Record<string, unknown> = {}) => ({ type, title, tags: [], exported: false, parameters });
  const resources = [r('Stage', 'main'), r('Class', 'main'), r('Mount', '/srv/bench', { ensure: 'mounted', device: 'tmpfs', fstype: 'tmpfs' })];
  const edges = [{ source: 'Stage[main]', target: 'Class[main]' }];
  for (let u = 0; u < 50; u++)
    resources.push(r('Group', `g${u}`, { gid: 5000 + u }), r('User', `u${u}`, { ensure: 'present', gid: 5000 + u, groups: [`g${(u + 1) % 50}`] }));
  for (let c = 0; resources.length < n; c++) {
    const dir = `/srv/bench/d${c}`;
    const own = { owner: `u${c % 50}`, group: `g${c % 50}` };
    resources.push(r('File', dir, { ensure: 'directory', ...own }));
    for (let i = 0; i < 8; i++) resources.push(r('File', `${dir}/f${i}`, { ensure: 'file', content: `${i}\n`, ...own }));
    resources.push(r('Exec', `e${c}`, { command: `${dir}/f0 --run`, cwd: dir, user: `u${c % 50}` }));
  }
  return JSON.stringify({ format: 'mgmtgraph-catalog', version: 1, node: 'bench', resources, edges, collectors: [] });
}

export async function puppet(ctx: BenchContext): Promise<BenchResult> {
  const fast = fastRoot(ctx.dir);
  try {
    return await puppetIn(fast.dir, fast.onTmpfs);
  } finally {
    fast.cleanup();
  }
}

async function puppetIn(root: string, onTmpfs: boolean): Promise<BenchResult> {
  const rows: Row[] = [];
  const notes: string[] = [];
  const where = onTmpfs ? 'tmpfs' : 'disk';
  if (!existsSync(PUPPET))
    throw new Error('puppet is not installed (/usr/bin/puppet missing; `node scripts/system-deps.mjs --bench` installs it as root); mgmt puppet needs it too');
  const v = spawnSync(PUPPET, ['--version'], { encoding: 'utf8', timeout: 60_000 });
  const version = v.status === 0 ? v.stdout.trim() : 'unknown';

  // (1) Cold end to end, per fact source. One discarded warm-up run each (1,000 files), then per size RUNS runs
  // of each, interleaved (mgmt, puppet, mgmt, ...) so that a drift of the VM's speed hits both alike.
  for (const source of ['stub', 'facter'] as const) {
    const judged = source === 'stub';
    const facts = judged ? 'same stub facts' : 'both run Facter';
    await runMgmt(root, 1000, `warmup-mgmt-${source}`, source);
    const warm = await runPuppet(root, 1000, `warmup-puppet-${source}`, source, true);
    if (typeof warm === 'string') notes.push(`Puppet warm-up (${facts}) failed: ${warm}`);
    for (const n of SIZES) {
      const label = `${n === 1 ? '1 file' : '1,000 files'}, ${facts}`;
      const m: number[] = [];
      const p: number[] = [];
      let skipped = typeof warm === 'string' ? warm : undefined;
      for (let k = 1; k <= RUNS; k++) {
        m.push(await runMgmt(root, n, `mgmt-${source}-${n}-${k}`, source));
        if (!skipped) {
          const r = await runPuppet(root, n, `puppet-${source}-${n}-${k}`, source);
          if (typeof r === 'string') skipped = r;
          else p.push(r);
        }
      }
      const mMed = median(m);
      rows.push(row(`mgmt puppet, ${label} (${where}): wall (median of ${RUNS})`, fmtMs(mMed)));
      rows.push(row(`mgmt puppet, ${label}: the walls`, m.map(fmtMs).join(', ')));
      const ratioLabel = `speed-up vs puppet apply, ${label} (median puppet wall / median mgmt wall)`;
      if (skipped || p.length === 0) {
        rows.push(row(`puppet apply, ${label}`, 'skipped'));
        rows.push(judged ? row(ratioLabel, 'n/a (puppet apply failed)', '>= 2x', false) : row(ratioLabel, 'n/a (puppet apply failed)'));
        notes.push(`puppet apply (${label}) failed: ${skipped ?? 'no run'}`);
        continue;
      }
      const pMed = median(p);
      const ratio = pMed / mMed;
      rows.push(row(`puppet ${version} apply, ${label} (${where}): wall (median of ${RUNS})`, fmtMs(pMed)));
      rows.push(row(`puppet apply, ${label}: the walls`, p.map(fmtMs).join(', ')));
      rows.push(judged ? row(ratioLabel, `${ratio.toFixed(2)}x`, '>= 2x', ratio >= 2) : row(ratioLabel, `${ratio.toFixed(2)}x`));
    }
  }

  // (2) Recompile-and-swap on the running CLI.
  {
    const n = 1000;
    const { base, managed, site, facts } = await writeSite(root, 'swap', n);
    const t0 = performance.now();
    const c = startMgmt(['puppet', '--manifest', site, '--facts', facts, '--node', NODE, '--tmp-prefix'], base);
    try {
      await onLog(c, /graph \S+: \d+ resources/, 180_000, 'mgmt puppet (running)');
      // Applied: every file present with its content. Checked on fs.watch events of the directory, then once
      // more after the watcher is up (the files may all be there already).
      await new Promise<void>((res, rej) => {
        let busy = false;
        let pending = false;
        const w = watch(managed, () => void check());
        const timer = setTimeout(() => {
          w.close();
          rej(new Error('mgmt puppet (running): the 1,000 files were not all applied within 60 s'));
        }, 60_000);
        const check = async () => {
          if (busy) {
            pending = true;
            return;
          }
          busy = true;
          const bad = await verifyFiles(managed, n);
          busy = false;
          if (!bad) {
            clearTimeout(timer);
            w.close();
            res();
          } else if (pending) {
            pending = false;
            void check();
          }
        };
        void check();
      });
      rows.push(row('recompile-and-swap: first compile and apply of 1,000 files (spawn to applied)', fmtMs(performance.now() - t0)));

      const target = 500;
      const targetPath = join(managed, fileName(target));
      const total: number[] = [];
      const toTranslated: number[] = [];
      const toSwapped: number[] = [];
      for (let k = 1; k <= EDITS; k++) {
        const text = `changed ${k}\n`;
        const next = puppetManifest(managed, n, { i: target, text });
        const translated = onLog(c, /translated \d+ resources/, 30_000, `edit ${k}`);
        const swapped = onLog(c, /swapped in \(/, 30_000, `edit ${k}`);
        const landed = whenContent(managed, targetPath, text, 30_000, `edit ${k}`);
        const ts = performance.now();
        writeFileSync(site, next);
        try {
          const tf = await landed.ready;
          const [tt, tw] = await Promise.all([translated, swapped]);
          total.push(tf - ts);
          toTranslated.push(tt - ts);
          toSwapped.push(tw - ts);
        } finally {
          landed.close();
        }
      }
      const med = median(total);
      const max = Math.max(...total);
      rows.push(row(`recompile-and-swap, one file changed (${where}): save to file on disk, median of ${EDITS}`, fmtMs(med), '<= 1.000 s', med <= 1000));
      rows.push(row('recompile-and-swap: max', fmtMs(max), '<= 1.000 s', max <= 1000));
      rows.push(row('recompile-and-swap: the walls', total.map(fmtMs).join(', ')));
      rows.push(row('  of which save to `translated` logged (watch debounce + compile + translate), median', fmtMs(median(toTranslated))));
      rows.push(row('  of which save to `swapped in` logged (+ check + swap), median', fmtMs(median(toSwapped))));
    } finally {
      c.child.kill('SIGTERM');
      const r = await waitExit(c, 30_000, 'mgmt puppet after SIGTERM');
      if (r.code !== 0) notes.push(`mgmt puppet exited with ${r.code ?? r.signal} after SIGTERM (expected 0)`);
    }
  }

  // (3) Translation alone, in a fresh process (translate-run.ts): as in `mgmt puppet`, whose heap holds only that,
  // not the bench process's, which has run every benchmark before this one.
  {
    const r = spawnSync(process.execPath, [join(import.meta.dirname, 'translate-run.js'), String(TRANSLATE_N), String(TRANSLATE_RUNS)], {
      encoding: 'utf8',
      timeout: 300_000,
    });
    if (r.status !== 0) throw new Error(`translate-run failed (${r.status ?? r.signal}): ${r.stderr}`);
    const runs = JSON.parse(r.stdout) as { read: number; translate: number; resources: number; edges: number; catalog: number }[];
    const both = median(runs.map((x) => x.read + x.translate));
    const last = runs[runs.length - 1]!;
    rows.push(
      row(
        `translation, ${TRANSLATE_N.toLocaleString('en-US')}-resource catalog (${last.catalog.toLocaleString('en-US')} with stage and classes): read + translate, median of ${TRANSLATE_RUNS}`,
        fmtMs(both),
        '<= 0.500 s',
        both <= 500,
      ),
    );
    rows.push(
      row(
        'translation: read (JSON.parse + shape) / translateCatalog, medians',
        `${fmtMs(median(runs.map((r) => r.read)))} / ${fmtMs(median(runs.map((r) => r.translate)))}`,
      ),
    );
    rows.push(row('translation: output resources / edges', `${last.resources.toLocaleString('en-US')} / ${last.edges.toLocaleString('en-US')}`));

    // (4) The autorelations step alone (autorelations.ts: naming and resolving Puppet's automatic relationships),
    // on the catalog above and on one where nearly every resource has some.
    const step = (cat: Catalog) => {
      const t0 = performance.now();
      const autos = autoRelations(
        cat,
        (type) => typeRules.get(type),
        (x) => !(x.exported && x.virtual),
      );
      return { ms: performance.now() - t0, autos: autos.length };
    };
    for (const [label, catText] of [
      ['the catalog above', syntheticCatalogText(TRANSLATE_N)],
      ['a catalog of dirs, owned files, execs, users, groups and a mount', autorelationCatalogText(TRANSLATE_N)],
    ] as const) {
      const cat = readCatalog(catText, 'bench.json');
      step(cat); // warm-up
      const steps = Array.from({ length: TRANSLATE_RUNS }, () => step(cat));
      const ms = median(steps.map((s) => s.ms));
      rows.push(
        row(
          `autorelations step, ${cat.resources.length.toLocaleString('en-US')}-resource catalog (${label}; ${steps[0]!.autos.toLocaleString('en-US')} relations): median of ${TRANSLATE_RUNS}`,
          fmtMs(ms),
          '<= 0.300 s',
          ms <= 300,
        ),
      );
    }
  }

  notes.push(
    `Cold end to end: \`node bin/mgmt.js puppet --manifest site.pp --converged-timeout 0 --tmp-prefix\` against \`puppet apply --color=false --log_level warning site.pp\` (vardir, confdir, codedir, logdir, rundir, publicdir, ssldir, cadir and HOME in the temp dir, var/state pre-created), both writing to ${onTmpfs ? 'a tmpfs (/dev/shm)' : 'the disk (no writable /dev/shm)'}. The manifest is one managed directory (mode 0755) plus N files (ensure => file, short content, mode '0644'). Wall runs from spawn to exit; every run uses a new directory (files absent) and is checked for every file's content afterwards.`,
    `Facts, the same for both tools in each comparison. Judged: the same stub facts and node name (${Object.keys(STUB_FACTS).length} facts): mgmt gets \`--facts facts.json --node ${NODE}\`, puppet apply \`--facts_terminus yaml --certname ${NODE}\` with the facts in <vardir>/client_yaml/facts/${NODE}.yaml (Puppet's cached-facts format; its warm-up run proves they were read). Information: neither gets stub facts, so both run Facter, which with Debian's stdlib on the module path loads and resolves every custom fact (stdlib's package_provider and service_provider facts load Puppet's package and service types with all their providers, ~1 s).`,
    `One discarded warm-up run each (1,000 files) per fact source, then ${RUNS} runs per size and tool, interleaved mgmt / puppet; the ratio is median puppet wall / median mgmt wall. mgmt's wall includes starting Node, starting its long-lived Puppet worker (Ruby) and compiling in it, translating, the apply and stopping the worker.`,
    `Recompile-and-swap: \`mgmt puppet --manifest site.pp --facts facts.json --node ${NODE} --tmp-prefix\` (no converged timeout) on the 1,000-file manifest; once every file is applied, the manifest is rewritten in place ${EDITS} times with ONE file's content changed. Measured from just before the write to the fs.watch event on the managed directory after which that file reads the new content (no polling); the break-down rows are when the CLI's \`translated N resources\` and \`swapped in\` log lines reach the bench. The CLI is stopped with SIGTERM.`,
    `Translation: in a fresh Node process (test/bench/translate-run.ts, so the bench process's heap does not weigh on it), a synthetic ${TRANSLATE_N.toLocaleString('en-US')}-resource catalog in the face's document format (classes of 9 files and 1 exec, each class requiring the previous, with containment edges), as JSON text; readCatalog + translateCatalog timed together, one warm-up then the median of ${TRANSLATE_RUNS}.`,
  );
  return { name: 'puppet', title: 'the Puppet cross-compiler: mgmt puppet vs puppet apply, recompile-and-swap, translation', rows, notes };
}
