// `mgmt puppet diff` on git refs of a fixture control repository (test/harness/control-repo.ts) built as a real
// git repository: the git-ref path itself (temporary checkouts, the worker pool, facts, exit codes, a compile
// error on one node only), and the differential test against octocatalog-diff 2.1.0: for every one of the 20
// commit pairs, both tools compile both refs and report the same set of (change, Type[title], parameter path,
// old value, new value), and the same exit code. octocatalog-diff takes ~13 s a run here (more under load), so
// its pairs run two at a time (the machine has two cores), while ours compiles each commit once through the
// worker pool and diffs the pairs in process (the CLI's own path is the first describe's).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { diffCommand } from '../../src/cli/puppet-diff.js';
import { registry } from '../../src/cli/registry.js';
import type { Catalog } from '../../src/puppet/catalog.js';
import { checkout } from '../../src/puppet/diff/checkout.js';
import { CompilePool } from '../../src/puppet/diff/compile-pool.js';
import { readFactsFile } from '../../src/puppet/diff/facts.js';
import { withFileText } from '../../src/puppet/diff/file-source.js';
import { diffNode } from '../../src/puppet/diff/node-diff.js';
import { exitCode } from '../../src/puppet/diff/result.js';
import { run } from '../../src/system/proc/launcher.js';
import { buildControlRepo, CHANGES, type ControlRepo, diffArgs, FACTS_YAML, NODE } from '../harness/control-repo.js';
import { canonicalJson } from '../../src/world/keys.js';
import type { DiffEntry } from '../../src/puppet/diff/entry.js';

/** The keys of an octocatalog-diff JSON entry the tests compare. */
type Entry = Pick<DiffEntry, 'diff_type' | 'type' | 'title' | 'structure' | 'old_value' | 'new_value'>;

/** (change, Type[title], path, old, new); `~` and `!` display the same; a whole resource is keyed by its ref. */
function key(e: Entry): string {
  const value = (v: unknown) => (e.structure.length === 0 ? '' : canonicalJson(v));
  return [e.diff_type === '!' ? '~' : e.diff_type, `${e.type}[${e.title}]`, e.structure.join('::'), value(e.old_value), value(e.new_value)].join('  ');
}

let repo: ControlRepo;
let scratch: string;
before(() => {
  repo = buildControlRepo();
  scratch = mkdtempSync(join(tmpdir(), 'mgmt-diff-git-'));
});
after(() => {
  repo.remove();
  rmSync(scratch, { recursive: true, force: true });
});

async function ours(
  args: string[],
): Promise<{ code: number; doc: { diff: Entry[]; nodes: { node: string; error: { message: string; file?: string; line?: number } | null }[] } }> {
  const out = join(scratch, `ours-${Math.random().toString(36).slice(2)}.json`);
  const code = await diffCommand(['--output-format', 'json', '-o', out, '--basedir', repo.dir, '--parallel', '2', ...args]);
  return { code, doc: JSON.parse(readFileSync(out, 'utf8')) as never };
}

async function octocatalogDiff(from: string, to: string): Promise<{ code: number | null; diff: Entry[] }> {
  const r = await run({
    // --output-format first: after the other flags octocatalog-diff 2.1.0 ignores it.
    command: {
      argv: ['octocatalog-diff', '--output-format', 'json', ...diffArgs(repo, from, to), '--puppet-binary', '/usr/bin/puppet'],
    },
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: scratch },
    captureStdout: true,
    captureStderr: true,
  });
  assert.ok(r.code === 0 || r.code === 2, `octocatalog-diff ${from}..${to} failed (${r.code}): ${r.stderr?.toString('utf8').slice(-800)}`);
  return { code: r.code, diff: (JSON.parse(r.stdout!.toString('utf8')) as { diff: Entry[] }).diff };
}

describe('mgmt puppet diff on git refs', () => {
  it('compiles two refs of a temporary repository and reports the change', async () => {
    const { code, doc } = await ours(['-f', repo.commits[3]!, '-t', repo.commits[4]!, '-n', NODE, '--fact-file', repo.factFile]);
    assert.equal(code, 2);
    // Change 4: the define's port, in its parameter and in the EPP template's text.
    assert.deepEqual(
      doc.diff.map((e) => `${e.diff_type} ${e.type}[${e.title}] ${e.structure.join('::')}`),
      ['~ File[/etc/nginx/sites/www.conf] parameters::content', '~ Profile::Vhost[www] parameters::port'],
    );
  });

  it('exits 0 when nothing differs, and reads facts per node and typed overrides', async () => {
    const facts = join(scratch, 'facts');
    mkdirSync(facts, { recursive: true });
    writeFileSync(join(facts, `${NODE}.yaml`), FACTS_YAML);
    const same = await ours(['-f', repo.commits[0]!, '-t', repo.commits[0]!, '-n', NODE, '--facts-dir', facts]);
    assert.equal(same.code, 0);
    assert.deepEqual(same.doc.diff, []);
    // The template prints the fqdn fact: an override on one side only is not possible, so override both and
    // compare two refs whose motd differs only through the template.
    const r = await ours([
      '-f',
      repo.commits[0]!,
      '-t',
      repo.commits[1]!,
      '-n',
      NODE,
      '--fact-file',
      repo.factFile,
      '--fact-override',
      'networking=(json){"fqdn":"other.example.com","ip":"10.0.0.9"}',
    ]);
    assert.equal(r.code, 2);
    const motd = r.doc.diff.find((e) => e.title === '/etc/motd');
    assert.ok(motd && typeof motd.new_value === 'string' && motd.new_value.startsWith('Welcome to other.example.com'), JSON.stringify(motd));
  });

  it('fails only the node whose compile fails, with Puppet message and file:line, and exits 1', async () => {
    // A second node whose facts make the manifest fail: the first node is still diffed.
    const facts = join(scratch, 'facts2');
    mkdirSync(facts, { recursive: true });
    writeFileSync(join(facts, `${NODE}.yaml`), FACTS_YAML);
    writeFileSync(join(facts, 'broken.example.com.yaml'), FACTS_YAML.replace(/networking:\n(.*\n){2}/, 'networking: {}\n'));
    const { code, doc } = await ours(['-f', repo.commits[0]!, '-t', repo.commits[1]!, '-n', `${NODE},broken.example.com`, '--facts-dir', facts]);
    assert.equal(code, 1);
    const good = doc.nodes.find((n) => n.node === NODE)!;
    const bad = doc.nodes.find((n) => n.node === 'broken.example.com')!;
    assert.equal(good.error, null);
    assert.ok(doc.diff.some((e) => e.title === '/etc/motd'));
    assert.ok(bad.error, 'the broken node has an error');
    assert.match(bad.error.message, /networking|fqdn|Undef|undef/);
    assert.match(`${bad.error.file ?? ''}:${bad.error.line ?? ''}`, /(site\.pp|motd\.erb|base\.pp):\d+/);
  });
});

/** Our catalog of every commit, compiled once each (a checkout and a one-worker pool per commit, as the CLI does per ref). */
async function compileAll(facts: Record<string, unknown>): Promise<Catalog[]> {
  const out: Catalog[] = [];
  for (const commit of repo.commits) {
    const co = await checkout(repo.dir, commit);
    const pool = new CompilePool([{ id: commit, envDir: co.dir, manifest: join(co.dir, 'manifests'), modulepath: [join(co.dir, 'modules')] }], 1);
    try {
      const r = await pool.compile(commit, NODE, facts);
      assert.ok(r.ok, `compiling ${commit}: ${r.ok ? '' : r.message}`);
      out.push(withFileText(r.catalog));
    } finally {
      await pool.close();
      await co.remove();
    }
  }
  return out;
}

describe('mgmt puppet diff agrees with octocatalog-diff on 20 commit pairs', () => {
  const theirs = new Map<number, Promise<{ code: number | null; diff: Entry[] }>>();
  let ourCatalogs: Promise<Catalog[]>;
  let lanes: Promise<unknown>;
  before(() => {
    // octocatalog-diff two pairs at a time; ours compiles each commit once meanwhile.
    let next = 0;
    lanes = Promise.all(
      Array.from({ length: 2 }, async () => {
        while (next < CHANGES.length) {
          const i = next++;
          const p = octocatalogDiff(repo.commits[i]!, repo.commits[i + 1]!);
          theirs.set(i, p);
          await p.catch(() => undefined);
        }
      }),
    );
    ourCatalogs = compileAll(readFactsFile(repo.factFile));
    ourCatalogs.catch(() => undefined);
  });
  after(async () => {
    await lanes;
  });
  CHANGES.forEach(([what], i) => {
    it(`pair ${i + 1}: ${what}`, async () => {
      const catalogs = await ourCatalogs;
      const mine = diffNode(NODE, catalogs[i]!, catalogs[i + 1]!, registry, { graph: false });
      while (!theirs.has(i)) await new Promise((r) => setImmediate(r));
      const r = await theirs.get(i)!;
      const a = new Set(mine.entries.map((e) => key(e as unknown as Entry)));
      const b = new Set(r.diff.map(key));
      assert.deepEqual({ onlyOurs: [...a].filter((k) => !b.has(k)), onlyTheirs: [...b].filter((k) => !a.has(k)) }, { onlyOurs: [], onlyTheirs: [] });
      assert.equal(exitCode([mine]), r.code);
    });
  });
});
