// Golden fixture pairs of `mgmt puppet diff` (fixtures/puppet/diff/<case>/: from.json, to.json, args.json), one per
// kind of difference, default noise rule, filter and ignore form: the JSON and the text output are compared
// exactly with expected.json and expected.txt (UPDATE_GOLDEN=1 rewrites them), and the exit code with
// expected-exit. Sensitive values must not appear in any output. test/integration/puppet-diff-octocatalog.test.ts
// checks the same pairs against octocatalog-diff itself.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { diffCommand } from '../../src/cli/puppet-diff.js';
import { registry } from '../../src/cli/registry.js';
import { readCatalog } from '../../src/puppet/catalog.js';
import { formatJson } from '../../src/puppet/diff/format-json.js';
import { formatMarkdown } from '../../src/puppet/diff/format-markdown.js';
import { diffNode } from '../../src/puppet/diff/node-diff.js';
import { exitCode, type NodeDiff } from '../../src/puppet/diff/result.js';

const UPDATE = process.env.UPDATE_GOLDEN === '1';

function golden(path: URL, actual: string): void {
  if (UPDATE || !existsSync(path)) {
    writeFileSync(path, actual);
    if (!UPDATE) assert.fail(`golden file ${path.pathname} was missing; written now: check it and rerun`);
    return;
  }
  assert.equal(actual, readFileSync(path, 'utf8'), `${path.pathname} differs (UPDATE_GOLDEN=1 rewrites it)`);
}

const root = new URL('../../../fixtures/puppet/diff/', import.meta.url);
const scratch = mkdtempSync(join(tmpdir(), 'mgmt-diff-golden-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** Every Sensitive value of a catalog file, in clear. */
function secrets(path: string): string[] {
  const doc = JSON.parse(readFileSync(path, 'utf8')) as { resources: { parameters?: Record<string, unknown>; sensitive_parameters?: string[] }[] };
  return doc.resources.flatMap((r) => (r.sensitive_parameters ?? []).map((s) => String(r.parameters?.[s])));
}

async function run(dir: string, args: string[], format: 'json' | 'text' | 'markdown'): Promise<{ code: number; out: string }> {
  const out = join(scratch, `${dir.replace(/\W/g, '_')}.${format}`);
  const code = await diffCommand([
    '--from-catalog',
    new URL(`${dir}/from.json`, root).pathname,
    '--to-catalog',
    new URL(`${dir}/to.json`, root).pathname,
    '--output-format',
    format,
    '--no-color',
    '-o',
    out,
    ...args,
  ]);
  // Paths of this checkout would make the goldens machine-specific.
  return { code, out: readFileSync(out, 'utf8').split(root.pathname).join('<fixtures>/') };
}

describe('puppet diff golden pairs', () => {
  const cases = readdirSync(root).sort();
  it('has a pair for every kind of difference and every filter', () => {
    for (const c of [
      'added-removed',
      'changed',
      'defaults',
      'include-tags',
      'ignore-tags',
      'absent-file-default',
      'filter-absent-file',
      'filter-json',
      'filter-yaml',
      'filter-single-item-array',
      'filter-equivalent-array',
      'ignore-rules',
      'ignore-value-match',
      'sensitive',
      'graph-edges',
      'graph-cycle',
      'translation-regression',
    ]) {
      assert.ok(cases.includes(c), c);
    }
  });
  for (const c of cases) {
    it(c, async () => {
      const args = JSON.parse(readFileSync(new URL(`${c}/args.json`, root), 'utf8')) as string[];
      const json = await run(c, args, 'json');
      const text = await run(c, args, 'text');
      const md = await run(c, args, 'markdown');
      assert.equal(json.code, text.code);
      assert.equal(json.code, md.code);
      golden(new URL(`${c}/expected.md`, root), md.out);
      golden(new URL(`${c}/expected.json`, root), json.out);
      golden(new URL(`${c}/expected.txt`, root), text.out);
      golden(new URL(`${c}/expected-exit`, root), `${json.code}\n`);
      for (const s of [...secrets(new URL(`${c}/from.json`, root).pathname), ...secrets(new URL(`${c}/to.json`, root).pathname)]) {
        assert.ok(!json.out.includes(s) && !text.out.includes(s) && !md.out.includes(s), `${c}: a Sensitive value (${s.length} characters) was printed`);
      }
    });
  }
});

describe('puppet diff over several nodes', () => {
  const read = (c: string, side: string) => readCatalog(readFileSync(new URL(`${c}/${side}.json`, root), 'utf8'), `${c}/${side}.json`);
  const nodes: NodeDiff[] = [
    diffNode('web1', read('changed', 'from'), read('changed', 'to'), registry),
    diffNode('web2', read('changed', 'from'), read('changed', 'to'), registry),
    diffNode('db1', read('added-removed', 'from'), read('added-removed', 'to'), registry),
    diffNode('cache1', read('no-change', 'from'), read('no-change', 'to'), registry),
    { node: 'broken1', entries: [], error: { side: 'to', message: "Evaluation Error: Unknown variable: '$x'", file: '/srv/site.pp', line: 4 } },
  ];

  it('groups identical diffs in Markdown, lists failures first, and counts nodes', () => {
    const md = formatMarkdown(nodes);
    assert.match(md, /\| Failed \| 1 \|\n\| Changed \| 3 \|\n\| Unchanged \| 1 \|/);
    assert.match(md, /<summary>Changed on 2 nodes: 0 to add, 3 to change, 0 to remove<\/summary>/);
    assert.match(md, /Nodes: `web1`, `web2`/);
    assert.match(md, /<summary>Changed on <code>db1<\/code>/);
    assert.ok(md.indexOf('broken1') < md.indexOf('web1'), 'failures come first');
    assert.match(md, /Unknown variable/);
    assert.match(md, /Unchanged: `cache1`/);
  });

  it('JSON names the node of each entry, and the exit code is 1 when any node failed', () => {
    const doc = JSON.parse(formatJson(nodes)) as { diff: { node: string }[]; nodes: { node: string; error: unknown }[]; mgmt_diff_version: number };
    assert.equal(doc.mgmt_diff_version, 1);
    assert.deepEqual([...new Set(doc.diff.map((e) => e.node))].sort(), ['db1', 'web1', 'web2']);
    assert.deepEqual(
      doc.nodes.map((n) => [n.node, n.error !== null]),
      [
        ['web1', false],
        ['web2', false],
        ['db1', false],
        ['cache1', false],
        ['broken1', true],
      ],
    );
    assert.equal(exitCode(nodes), 1);
    assert.equal(exitCode(nodes.slice(0, 4)), 2);
    assert.equal(exitCode(nodes.slice(3, 4)), 0);
  });
});
