/**
 * Graph input as an attacker or bad luck writes it (issue 11, items 2, 6, 9 and 10): alias bombs, deep nesting,
 * huge graphs, timers longer than Node can hold, ids out of range, a graph without a name, bytes that are not
 * UTF-8; and the founding demo and mgmt's `.inf`, which must load.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { registry } from '../../src/cli/registry.js';
import { RateLimiter } from '../../src/engine/rate-limiter.js';
import { checkSpec } from '../../src/graph/check-spec.js';
import { type Diagnostic, formatDiagnostic } from '../../src/graph/diagnostics.js';
import { DEFAULT_LIMITS, type GraphLimits } from '../../src/graph/limits.js';
import { checkGraphText, readGraphFile } from '../../src/graph/read.js';
import type { GraphSpec, ResourceSpec } from '../../src/graph/spec.js';
import { CatalogError, readCatalog } from '../../src/puppet/catalog.js';
import { translateCatalog } from '../../src/puppet/translate.js';
import { TIMER_MAX_MS, TIMER_MAX_S } from '../../src/resources/params.js';
import { wantedFile } from '../../src/resources/file/wanted.js';
import { TestBench } from '../../src/resources/test-kind.js';

const load = (text: string, limits?: GraphLimits) => checkGraphText(registry, text, 'g.yaml', limits);
const errorsOf = (ds: readonly Diagnostic[]) => ds.filter((d) => d.severity === 'error');
const errors = (text: string, limits?: GraphLimits) => errorsOf(load(text, limits).diagnostics).map(formatDiagnostic);
/** Every error has its place: file:line:col. */
const located = (ds: readonly Diagnostic[]) => errorsOf(ds).every((d) => d.pos?.file !== undefined && d.pos.line >= 1);

/** The billion laughs: nine levels of nine aliases each, about 400 bytes, standing for 9^9 = 387,420,489 strings. */
function aliasBomb(): string {
  const lines = ['graph: bomb', 'l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i <= 9; i++) lines.push(`l${i}: &l${i} [${Array.from({ length: 9 }, () => `*l${i - 1}`).join(',')}]`);
  return lines.join('\n') + '\n';
}

describe('graph input: what a graph may cost (issue 11, item 2)', () => {
  it('refuses a YAML alias bomb while reading it, at the alias that passes the bound, without expanding it', () => {
    const bomb = aliasBomb();
    assert.ok(bomb.length < 537, `${bomb.length} bytes`);
    const t0 = performance.now();
    const loaded = load(bomb);
    const ms = performance.now() - t0;
    const errs = errorsOf(loaded.diagnostics);
    assert.equal(loaded.spec, undefined);
    assert.equal(errs.length, 1, errs.map(formatDiagnostic).join('\n'));
    // l4 stands for 66,430 nodes: the second alias of l5 (line 7) makes aliases add more than 200,000
    assert.match(formatDiagnostic(errs[0]!), /^g\.yaml:7:\d+: error: with this alias, aliases add more than 200,000 YAML nodes to the graph/);
    // Expanding it took minutes and gigabytes before (heap out of memory at depth 9); refused at once now.
    assert.ok(ms < 1000, `refused in ${ms.toFixed(0)} ms`);
  });

  it('counts aliases to scalars and collections; an alias to the node that holds it is refused, not followed forever', () => {
    assert.match(errors('graph: g\nx: &x [a, *x]\n').join('\n'), /g\.yaml:2:\d+: error: an alias here names a node that contains it/);
    assert.match(errors('graph: g\nx: &x {a: [{b: *x}]}\n').join('\n'), /g\.yaml:2:\d+: error: an alias here names a node that contains it/);
    const few: GraphLimits = { ...DEFAULT_LIMITS, maxAliases: 3 };
    const text = 'graph: g\ns: &s v\nl: [*s, *s, *s, *s]\n';
    assert.match(errors(text, few).join('\n'), /g\.yaml:3:\d+: error: more than 3 aliases \(the most a graph may use\)/);
  });

  it('counts every node, written or standing behind an alias, against the node bound', () => {
    const small: GraphLimits = { ...DEFAULT_LIMITS, maxNodes: 50 };
    const list = (n: number) => `graph: g\nl: [${Array.from({ length: n }, (_, i) => `v${i}`).join(', ')}]\n`;
    assert.deepEqual(
      errors(list(40), small).filter((e) => !e.includes('unknown top-level key')),
      [],
    );
    assert.match(errors(list(60), small).join('\n'), /g\.yaml:2:\d+: error: more than 50 YAML nodes \(the most a graph may have\)/);
    const viaAlias = `graph: g\na: &a [${Array.from({ length: 20 }, (_, i) => `v${i}`).join(', ')}]\nb: [*a, *a]\n`;
    assert.match(errors(viaAlias, small).join('\n'), /g\.yaml:3:\d+: error: this alias expands the graph past 50 YAML nodes/);
  });

  it('refuses nesting past the bound, written or through aliases, before the parser can run out of stack', () => {
    assert.match(errors(`graph: g\nx: ${'['.repeat(100)}${']'.repeat(100)}\n`).join('\n'), /g\.yaml:2:\d+: error: nested more than 64 levels deep/);
    // far past what a recursive parser survives: still one located error, no RangeError
    assert.match(errors(`graph: g\nx: ${'['.repeat(200_000)}\n`).join('\n'), /g\.yaml:2:\d+: error: nested more than 64 levels deep/);
    // each anchor 40 levels deep, each holding the previous one: 80 levels once expanded, from 100 bytes of text
    const chain = `graph: g\na: &a ${'['.repeat(40)}x${']'.repeat(40)}\nb: &b ${'['.repeat(40)}*a${']'.repeat(40)}\n`;
    assert.match(errors(chain).join('\n'), /g\.yaml:3:\d+: error: nested more than 64 levels deep once its aliases are expanded/);
  });

  it('refuses a graph larger than the byte bound, in the text and in a file (without reading the file)', async () => {
    const small: GraphLimits = { ...DEFAULT_LIMITS, maxBytes: 1000 };
    const text = `graph: g\ncomment: "${'x'.repeat(2000)}"\n`;
    const size = text.length.toLocaleString('en-US');
    assert.match(errors(text, small).join('\n'), new RegExp(`^g\\.yaml:1:1: error: the graph is ${size} bytes, more than the 1,000 a graph may have`));
    const dir = await mkdtemp(join(tmpdir(), 'graph-input-'));
    try {
      await writeFile(join(dir, 'big.yaml'), text);
      const r = await readGraphFile(registry, join(dir, 'big.yaml'), small);
      assert.equal(r.spec, undefined);
      assert.match(r.diagnostics.map(formatDiagnostic).join('\n'), new RegExp(`big\\.yaml:1:1: error: the graph is ${size} bytes, more than the 1,000`));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses more resources than the bound at the first one past it; 10,000 resources stay routine', () => {
    const graph = (n: number) => {
      const out = ['graph: many', 'resources:', '  noop:'];
      for (let i = 0; i < n; i++) out.push(`  - name: n${i}`);
      return out.join('\n') + '\n';
    };
    const routine = load(graph(10_000));
    assert.deepEqual(errorsOf(routine.diagnostics), []);
    assert.equal(routine.spec?.resources.length, 10_000);
    const few: GraphLimits = { ...DEFAULT_LIMITS, maxResources: 100 };
    const errs = errors(graph(101), few);
    assert.equal(errs.length, 1);
    assert.match(errs[0]!, /^g\.yaml:104:\d+: error: noop\[n100\]: the graph has 101 resources, more than the 100 a graph may have/);
  });

  it('a refusal of a bound is also what a Puppet catalog written in YAML gets', () => {
    const bomb = aliasBomb().replace('graph: bomb', 'format: mgmtgraph-catalog');
    assert.throws(() => readCatalog(bomb, 'site.yaml'), /site\.yaml:7:\d+: with this alias, aliases add more than 200,000 YAML nodes/);
    assert.throws(() => readCatalog('x: &x [*x]\n', 'site.yaml'), /site\.yaml:1:\d+: an alias here names a node that contains it/);
    const deep = `{"format": "mgmtgraph-catalog", "version": 1, "resources": ${'['.repeat(100)}${']'.repeat(100)}}`;
    assert.throws(() => readCatalog(deep, 'c.json'), /c\.json: resources(\[0\])+ nests more than 64 levels deep/);
  });
});

describe('graph input: timers Node cannot hold (issue 11, item 6)', () => {
  it('refuses timeout, delay and poll past 2^31-1 ms, saying the maximum, at the metaparam', () => {
    const text = `graph: g
resources:
  noop:
  - name: a
    meta:
      timeout: 3000000000
      delay: 3000000000
      poll: 3000000000
  - name: b
    meta: {timeout: ${TIMER_MAX_MS}, delay: ${TIMER_MAX_MS}, poll: ${TIMER_MAX_S}}
`;
    const errs = errors(text);
    assert.deepEqual(errs, [
      'g.yaml:6:7: error: noop[a]: metaparam `timeout`: must be <= 2147483647 (the longest a timer can wait: about 24.8 days) (got "3000000000")',
      'g.yaml:7:7: error: noop[a]: metaparam `delay`: must be <= 2147483647 (the longest a timer can wait: about 24.8 days) (got "3000000000")',
      'g.yaml:8:7: error: noop[a]: metaparam `poll`: must be <= 2147483 (the longest a timer can wait: about 24.8 days) (got "3000000000")',
    ]);
  });

  it('refuses a timer interval and mgmt’s obsolete exec timeout in seconds past the bound, where they are written', () => {
    const errs = errors(`graph: g
resources:
  timer:
  - {name: t, interval: 2147484}
  exec:
  - name: e
    cmd: /bin/true
    timeout: 3000000
`);
    assert.equal(errs.length, 2, errs.join('\n'));
    assert.match(errs[0]!, /^g\.yaml:4:\d+: error: timer\[t\]: parameter `interval`: must be <= 2147483 /);
    assert.match(errs[1]!, /^g\.yaml:8:5: error: exec\[e\]: parameter `timeout`: must be <= 2147483 /);
  });

  it('refuses the same values in a collected export (a spec that never was YAML), at the resource', () => {
    const r: ResourceSpec = { kind: 'noop', name: 'forged', params: {}, meta: { timeout: 3_000_000_000, poll: 3_000_000_000 }, origin: { ref: 'host-b' } };
    const spec: GraphSpec = { graph: 'collected', resources: [r], exports: [], edges: [], collect: [] };
    const ds = checkSpec(registry, spec);
    assert.deepEqual(
      errorsOf(ds)
        .map((d) => `${d.where}: ${d.message}`)
        .sort(),
      [
        'noop[forged]: parameter `meta.poll`: must be <= 2147483 (the longest a timer can wait: about 24.8 days)',
        'noop[forged]: parameter `meta.timeout`: must be <= 2147483647 (the longest a timer can wait: about 24.8 days)',
      ].sort(),
    );
  });

  it('normalize refuses a duration past the bound whatever the front door, so a kind never receives one', () => {
    const timer = registry.get('timer')!;
    assert.deepEqual(timer.validate?.('t', { interval: 3_000_000_000 }), [
      { param: 'interval', message: 'parameter `interval` must be <= 2147483 (got 3000000000)' },
    ]);
    assert.throws(() => timer.create('t', { interval: 3_000_000_000 }, undefined as never), /timer\[t\]: parameter `interval` must be <= 2147483/);
    const test = new TestBench().kind;
    assert.equal(test.validate?.('x', { duration: TIMER_MAX_MS + 1 })[0]?.param, 'duration');
  });

  it('a rate limit too small for a timer waits the longest a timer can, instead of spinning every 1 ms', () => {
    const limiter = new RateLimiter(0, 1);
    assert.equal(limiter.take(), 0, 'the burst token passes');
    assert.equal(limiter.take(), TIMER_MAX_MS);
    const slow = new RateLimiter(1e-12, 1);
    slow.take();
    assert.equal(slow.take(), TIMER_MAX_MS);
  });
});

describe('graph input: validate refuses what run refuses (issue 11, item 9)', () => {
  it('refuses owner and group ids out of range or negative, and an exec’s user and group, at the parameter', () => {
    const errs = errors(`graph: g
resources:
  file:
  - name: /tmp/a
    owner: "99999999999999999999"
    group: "-1"
  - name: /tmp/b
    owner: "4294967295"
    group: "4294967294"
  exec:
  - name: e
    cmd: /bin/true
    user: "-1"
    group: "99999999999999999999"
`).filter((e) => !e.includes('need the engine to run as root'));
    assert.deepEqual(errs, [
      'g.yaml:5:5: error: file[/tmp/a]: `owner` "99999999999999999999": user id out of range (ids are 0..4294967294)',
      'g.yaml:6:5: error: file[/tmp/a]: `group` "-1": group ids are not negative (ids are 0..4294967294)',
      'g.yaml:8:5: error: file[/tmp/b]: `owner` "4294967295": user id out of range (ids are 0..4294967294)',
      'g.yaml:13:5: error: exec[e]: `user` "-1": user ids are not negative (ids are 0..4294967294)',
      'g.yaml:14:5: error: exec[e]: `group` "99999999999999999999": group id out of range (ids are 0..4294967294)',
    ]);
  });

  it('a graph with no `graph:` key gets one error, with its file and line', () => {
    const { spec, diagnostics } = load('resources:\n  noop: [{name: a}]\n');
    assert.equal(spec, undefined);
    assert.deepEqual(diagnostics.map(formatDiagnostic), ['g.yaml:1:1: error: missing `graph`: a graph needs a name; add `graph: <name>` at the top']);
  });

  it('refuses a graph file whose bytes are not UTF-8, at the line of the first bad byte, instead of reading U+FFFD', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'graph-input-'));
    try {
      const file = join(dir, 'latin1.yaml');
      // "café" written in Latin-1: the é is one byte, 0xE9, which UTF-8 reads as the start of a 3-byte sequence
      const text = Buffer.concat([Buffer.from('graph: g\nresources:\n  file:\n  - name: /tmp/caf'), Buffer.from([0xe9]), Buffer.from('\n    state: exists\n')]);
      await writeFile(file, text);
      const r = await readGraphFile(registry, file);
      assert.equal(r.spec, undefined);
      assert.deepEqual(r.diagnostics.map(formatDiagnostic), [
        `${file}:4:1: error: this line is not UTF-8; a graph is UTF-8 text (convert it, e.g. with iconv)`,
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('graph input: the founding demo and mgmt’s `.inf` (issue 11, item 10)', () => {
  const dir = new URL('../../../fixtures/graphs/compat-warnings/', import.meta.url);
  const fixture = (f: string) => checkGraphText(registry, readFileSync(new URL(f, dir), 'utf8'), f);

  it('the founding talk’s first demo loads: `content` on an absent file is ignored with a warning', () => {
    const { spec, diagnostics } = fixture('seed-demo.yaml');
    assert.deepEqual(diagnostics.map(formatDiagnostic), [
      'seed-demo.yaml:25:5: warning: file[file4]: `content` is ignored: state is absent, so the file is removed; remove `content`',
    ]);
    assert.ok(spec);
    const f4 = spec.resources.find((r) => r.name === 'file4')!;
    assert.equal(f4.params.state, 'absent');
    const wanted = wantedFile({ path: '/tmp/mgmt/f4', ...f4.params } as unknown as Parameters<typeof wantedFile>[0]);
    assert.equal(wanted.content, undefined, 'the content is not used');
    assert.equal(wanted.type, undefined);
  });

  it('`.inf` reads as an unlimited rate (the limit is left unset); `-.inf` and `.nan` are refused at the value', () => {
    const { spec, diagnostics } = fixture('limit-inf.yaml');
    assert.deepEqual(errorsOf(diagnostics), []);
    assert.deepEqual(
      spec!.resources.map((r) => r.meta),
      [{ burst: 0 }, {}],
    );
    const bad = (v: string) => errors(`graph: g\nresources:\n  noop:\n  - name: a\n    meta: {limit: ${v}, burst: 1}\n`);
    // JSON (and so the schema) has no infinity: a negative one is not a number of events per second
    assert.match(bad('-.inf').join('\n'), /g\.yaml:5:12: error: noop\[a\]: metaparam `limit`: must be a number \(got "-\.inf"\)/);
    assert.match(bad('.nan').join('\n'), /g\.yaml:5:12: error: noop\[a\]: metaparam `limit`: must be a number \(got "\.nan"\)/);
  });
});

describe('graph input: every refusal above is located', () => {
  let bomb: string;
  before(() => (bomb = aliasBomb()));
  after(() => (bomb = ''));
  it('bomb, depth, bytes, count and missing name all carry file:line', () => {
    for (const text of [bomb, `graph: g\nx: ${'['.repeat(100)}\n`, 'resources: {}\n', 'x: &x [*x]\n']) {
      const ds = load(text).diagnostics;
      assert.ok(errorsOf(ds).length > 0);
      assert.ok(located(ds), ds.map(formatDiagnostic).join('\n'));
    }
  });
});

describe('graph input: what the property-based tests found (test/fuzz/)', () => {
  it('a YAML edge list holding null is an error at its line, not a crash of the loader', () => {
    const r = load('graph: g\nresources:\n  noop: [{name: a}]\nedges:\n  - null\n');
    assert.equal(r.spec, undefined);
    assert.match(r.diagnostics.map(formatDiagnostic).join('\n'), /^g\.yaml:5:\d+: error: `edges.0`: must be a map/m);
  });

  it('a spec whose parameter has the wrong type (a forged export) is refused by the schema; the kind never sees it', () => {
    const r: ResourceSpec = { kind: 'crontab:entry', name: 'forged', params: { command: {} }, meta: {}, origin: { ref: 'host-b' } };
    const ds = checkSpec(registry, { graph: 'collected', resources: [], exports: [r], edges: [], collect: [] });
    assert.deepEqual(
      errorsOf(ds).map((d) => `${d.where}: ${d.message}`),
      ['crontab:entry[forged]: parameter `command`: must be a string'],
    );
  });

  it('a catalog value whose toString is no function is text like any other, not a crash of the translator', () => {
    const c = readCatalog(
      JSON.stringify({
        format: 'mgmtgraph-catalog',
        version: 1,
        resources: [{ type: 'File', title: '/tmp/x', exported: true, parameters: { ensure: 'file', tag: [{ toString: 1 }], content: { toString: 1 } } }],
      }),
      'site.json',
    );
    const t = translateCatalog(registry, c);
    assert.equal(t.spec.exports.length, 1);
  });

  it('a relationship to nothing, from a resource the catalog gives no manifest for, names the catalog', () => {
    const c = readCatalog(
      JSON.stringify({
        format: 'mgmtgraph-catalog',
        version: 1,
        resources: [{ type: 'Anchor', title: 'a', line: 3, parameters: { before: 'File[/nowhere]' } }],
      }),
      'site.json',
    );
    assert.throws(
      () => translateCatalog(registry, c),
      (e: unknown) => e instanceof CatalogError && e.message.startsWith('site.json (line 3): Anchor[a]: `before` names File[/nowhere]'),
    );
  });
});
