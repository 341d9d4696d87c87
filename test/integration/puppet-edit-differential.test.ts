// Differential tests of the `line` and `ini` kinds against the REAL Puppet types they replace: stdlib's
// file_line and puppetlabs-inifile's ini_setting (Debian's /usr/share/puppet/modules), applied by our Puppet
// worker. Every case starts two copies of one file; Puppet applies the resource to one (when the results differ,
// up to twice more while it still changes something: inifile needs a second run to remove the second of two
// adjacent copies of a key, where we remove both at once), and the translation (translateCatalog → our kind) to
// the other. The bytes must be equal, a failure
// in one must be a failure in the other, and our second check must find the file in sync.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CatalogResource } from '../../src/puppet/catalog.js';
import { translateCatalog } from '../../src/puppet/translate.js';
import { getPuppetWorker } from '../../src/puppet/runtime/worker.js';
import { setUpPuppet, type PuppetEnv } from '../harness/puppet-env.js';
import { check, recordingContext } from '../harness/resource-context.js';
import { registry } from '../../src/cli/registry.js';

let env: PuppetEnv;
before(async () => {
  env = await setUpPuppet();
  getPuppetWorker().acquire(); // one worker for every case (without a holder it stops after each request)
});
after(async () => {
  await getPuppetWorker().release();
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- undefined when before() failed before assigning it, whatever the type says
  await env?.teardown();
});

function catalogResource(type: string, title: string, parameters: Record<string, unknown>): CatalogResource {
  return { type, title, tags: [], exported: false, virtual: false, parameters, sensitive: [] };
}

type Outcome = { failed: true; text: string } | { failed: false; text: string };

/** Puppet applies the resource once (`runs` > 1: again while it changes something, up to that many runs). */
async function viaPuppet(type: string, title: string, parameters: Record<string, unknown>, path: string, text: string | undefined, runs = 1): Promise<Outcome> {
  if (text !== undefined) writeFileSync(path, text);
  for (let run = 1; ; run++) {
    const reply = await getPuppetWorker().request('apply', { resource: { type, title, parameters, sensitive: [] } });
    // An error reply (a parameter Puppet refuses) fails the resource too.
    if (reply.failed === true || reply.error) return { failed: true, text: readFileSync(path, 'latin1') };
    if (reply.changed !== true || run >= runs) return { failed: false, text: readFileSync(path, 'latin1') };
  }
}

/** undefined: the translation sent it to the fallback. */
async function viaUs(type: string, title: string, parameters: Record<string, unknown>, path: string, text: string): Promise<Outcome | undefined> {
  writeFileSync(path, text);
  const { spec } = translateCatalog(registry, {
    node: 'n',
    resources: [catalogResource(type, title, parameters)],
    edges: [],
    collectors: [],
    source: 'differential',
  });
  const r = spec.resources[0]!;
  if (r.kind === 'puppet') return undefined;
  const kind = registry.get(r.kind)!;
  assert.deepEqual(kind.validate?.(r.name, r.params) ?? [], [], `translated params do not validate: ${JSON.stringify(r.params)}`);
  const res = kind.create(r.name, r.params, recordingContext());
  try {
    await check(res);
  } catch {
    return { failed: true, text: readFileSync(path, 'latin1') };
  }
  assert.equal(await check(res), true, `second check not in sync: ${JSON.stringify({ parameters, text })}`);
  return { failed: false, text: readFileSync(path, 'latin1') };
}

interface Case {
  readonly text: string;
  readonly params: Record<string, unknown>;
}

async function compare(type: string, cases: readonly Case[], expectFallback: (p: Record<string, unknown>) => boolean): Promise<void> {
  const diffs: string[] = [];
  let n = 0;
  for (const c of cases) {
    n++;
    const params = { ...c.params, path: join(env.dir, `${n}-puppet`) };
    let puppet = await viaPuppet(type, `t${n}`, params, params.path, c.text);
    const oursPath = join(env.dir, `${n}-ours`);
    const ours = await viaUs(type, `t${n}`, { ...c.params, path: oursPath }, oursPath, c.text);
    const what = `${JSON.stringify(c.params)} on ${JSON.stringify(c.text)}`;
    if (ours === undefined) {
      if (!expectFallback(c.params)) diffs.push(`${what}: translated to the fallback`);
      continue;
    }
    if (expectFallback(c.params)) diffs.push(`${what}: expected the fallback, got a native translation`);
    // Where one Puppet run is not enough to converge, compare with where Puppet ends up.
    if (!puppet.failed && !ours.failed && puppet.text !== ours.text) puppet = await viaPuppet(type, `t${n}`, params, params.path, undefined, 2);
    if (puppet.failed !== ours.failed) diffs.push(`${what}: puppet ${puppet.failed ? 'failed' : 'succeeded'}, ours ${ours.failed ? 'failed' : 'succeeded'}`);
    else if (!puppet.failed && puppet.text !== ours.text)
      diffs.push(`${what}:\n    puppet: ${JSON.stringify(puppet.text)}\n    ours:   ${JSON.stringify(ours.text)}`);
  }
  assert.deepEqual(diffs, [], `${diffs.length} of ${cases.length} cases differ:\n${diffs.join('\n')}`);
}

const cross = (texts: readonly string[], params: readonly Record<string, unknown>[]): Case[] =>
  params.flatMap((p) => texts.map((text) => ({ text, params: p })));

describe('line kind vs stdlib file_line', () => {
  const texts = ['', 'a', 'x\n', 'a\nx\nb\n', 'a\nk=1\nb', 'k=1\nk=2\n', 'k=1\r\nz\r\n', 'b\nb\n', 's\nk=0\ns\n', 'x\r\n', 'k=1\nx\nk=3\n'];
  const params: Record<string, unknown>[] = [
    { line: 'x' },
    { line: 'x', ensure: 'absent' },
    { line: '', ensure: 'present' },
    { line: 'k=2', match: '^k=' },
    { line: 'k=2', match: '^k=', multiple: true },
    { line: 'k=2', match: '^k=', replace: false },
    { line: 'k=2', match: '^k=', append_on_no_match: false },
    { line: 'k=2', match: '^k=', replace_all_matches_not_matching_line: true, multiple: true },
    { line: 'x', match: '^k=', replace_all_matches_not_matching_line: true },
    { line: 'x', after: '^b' },
    { line: 'x', after: '^b', multiple: true },
    { line: 'k=2', match: '^k=', after: '^s' },
    { ensure: 'absent', match: '^k=', match_for_absence: true },
    { ensure: 'absent', match: '^k=', match_for_absence: true, multiple: 'true' },
    { ensure: 'absent', line: 'x', match: '^k=' },
    { line: 'k=2', match: '^k=1$' },
    { line: 'k=9', match: '\\Ak\\s*=\\s*\\d\\Z' },
    { line: 'x', match: '^[[:space:]]*x$' },
    { line: 'k=2', match: 'k={,1}[13]' },
    { line: 'x', replace: false },
    { line: 'x', match: '(?i)^X' },
  ];
  const fallback = (p: Record<string, unknown>) => (p.replace === false && p.match === undefined) || p.match === '(?i)^X';
  it(`${texts.length * params.length} cases leave the same bytes`, { timeout: 300_000 }, () => compare('File_line', cross(texts, params), fallback));
});

describe('ini kind vs inifile ini_setting', () => {
  const texts = [
    '',
    '[main]\nk = 1\n',
    '[main]\n  k=1\n\n[o]\nq = 2\n',
    'k = top\n[main]\n',
    '# c\n[main]\n# k = old\na = 1\n',
    '[main]\nk = v\n',
    '[a]\nx=1',
    '[main]\r\nk = 1\r\n',
    '[main]\nk = 1 \nk = 2\n',
    '\n[main]\n\n',
    '[o]\nz=1\n[main]\nk=1\n',
    '[main]\n    a = 1\n  b = 2\n\n\n',
    'x = 1\n\n[main]\n;k=0\n',
  ];
  const params: Record<string, unknown>[] = [
    { section: 'main', setting: 'k', value: 'v' },
    { section: '', setting: 'k', value: 'v' },
    { section: 'main', setting: 'k', ensure: 'absent' },
    { section: 'new', setting: 'k', value: 'v' },
    { section: 'main', setting: 'k', value: 'v', key_val_separator: '=' },
    { section: 'main', setting: 'k', value: 'v', key_val_separator: ': ' },
    { section: 'main', setting: 'n', value: 'v', indent_width: 2, indent_char: '\t' },
    { section: 'new', setting: 'k', value: 'v', force_new_section_creation: false },
    { section: 'main', setting: ' n ', value: '  spaced  ' },
    { section: 'main', setting: 'k', value: 5 },
    { section: 'main', setting: 'k', value: true },
    { section: '', setting: 'k', ensure: 'absent' },
    { section: 'main', setting: 'a', ensure: 'absent' },
    { section: 'main', setting: 'z' },
    { section: 'main', setting: 'k', value: 'a\nb' },
  ];
  const fallback = (p: Record<string, unknown>) => p.value === 'a\nb' || p.setting === ' n ';
  it(`${texts.length * params.length} cases leave the same bytes`, { timeout: 300_000 }, () => compare('Ini_setting', cross(texts, params), fallback));
});
