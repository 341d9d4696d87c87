// The golden pairs of `mgmt puppet diff` (fixtures/puppet/diff/) against octocatalog-diff 2.1.0 itself: for every
// pair, both tools report the same set of (change, Type[title], parameter path, old value, new value) with the same
// flags, and the same exit code. Two differences are by design and checked as such: Sensitive values, which
// octocatalog-diff shows as an MD5 sum of the secret and we never show at all, and the EquivalentArrayNoDatatypes
// filter, which 2.1.0 does not have yet (its pair is compared without the filter on its side, and our extra
// suppressions must all be equivalent lists).
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { diffCommand } from '../../src/cli/puppet-diff.js';
import { run } from '../../src/system/proc/launcher.js';
import { canonicalJson } from '../../src/world/keys.js';
import type { DiffEntry } from '../../src/puppet/diff/entry.js';

const root = new URL('../../../fixtures/puppet/diff/', import.meta.url);
const scratch = mkdtempSync(join(tmpdir(), 'mgmt-diff-octo-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** The keys of an octocatalog-diff JSON entry the tests compare. */
type Entry = Pick<DiffEntry, 'diff_type' | 'type' | 'title' | 'structure' | 'old_value' | 'new_value'>;

/** Flags that are ours only (octocatalog-diff would refuse them). */
const OURS_ONLY = new Set(['--fail-on', '--no-graph']);

function octoArgs(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (OURS_ONLY.has(args[i]!)) {
      i++;
      continue;
    }
    if (args[i] === '--filters' && args[i + 1] === 'EquivalentArrayNoDatatypes') {
      i++;
      continue;
    }
    out.push(args[i]!);
  }
  return out;
}

/** `~` and `!` display the same (octocatalog-diff's docs); a whole added or removed resource is keyed by its ref. */
function key(e: Entry): string {
  const sensitive = (v: unknown) => typeof v === 'string' && v.startsWith('Sensitive [');
  const value = (v: unknown) => (e.structure.length === 0 ? '' : sensitive(v) ? 'Sensitive' : canonicalJson(v));
  return [e.diff_type === '!' ? '~' : e.diff_type, e.type, e.title, e.structure.join('::'), value(e.old_value), value(e.new_value)].join('\u0001');
}

async function octocatalogDiff(dir: string, args: string[]): Promise<{ code: number | null; diff: Entry[] }> {
  const r = await run({
    // --output-format first: after the other flags octocatalog-diff 2.1.0 ignores it.
    command: {
      argv: [
        'octocatalog-diff',
        '--output-format',
        'json',
        '--from-catalog',
        `${dir}/from.json`,
        '--to-catalog',
        `${dir}/to.json`,
        '-n',
        'node1.example.com',
        ...args,
      ],
    },
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: scratch },
    captureStdout: true,
    captureStderr: true,
  });
  assert.ok(r.code === 0 || r.code === 2, `octocatalog-diff failed on ${dir}: ${r.stderr?.toString('utf8').slice(-500)}`);
  return { code: r.code, diff: (JSON.parse(r.stdout!.toString('utf8')) as { diff: Entry[] }).diff };
}

describe('puppet diff agrees with octocatalog-diff on the golden pairs', () => {
  for (const c of readdirSync(root).sort()) {
    it(c, async () => {
      const dir = new URL(c, root).pathname;
      const args = JSON.parse(readFileSync(join(dir, 'args.json'), 'utf8')) as string[];
      const out = join(scratch, `${c}.json`);
      const ours = await diffCommand([
        '--from-catalog',
        join(dir, 'from.json'),
        '--to-catalog',
        join(dir, 'to.json'),
        '--output-format',
        'json',
        '-o',
        out,
        '--no-graph',
        ...args.filter((a, i) => a !== '--fail-on' && args[i - 1] !== '--fail-on'),
      ]);
      const mine = (JSON.parse(readFileSync(out, 'utf8')) as { diff: Entry[] }).diff;
      const theirs = await octocatalogDiff(dir, octoArgs(args));
      assert.equal(ours, theirs.code, `${c}: exit code`);
      const a = new Set(mine.map(key));
      const b = new Set(theirs.diff.map(key));
      const onlyOurs = [...a].filter((k) => !b.has(k));
      const onlyTheirs = [...b].filter((k) => !a.has(k));
      if (args.includes('EquivalentArrayNoDatatypes')) {
        assert.deepEqual(onlyOurs, [], `${c}: we report what octocatalog-diff does not`);
        for (const k of onlyTheirs)
          assert.ok(
            theirs.diff.some((e) => key(e) === k && Array.isArray(e.old_value) && Array.isArray(e.new_value)),
            `${c}: ${k}`,
          );
        assert.ok(onlyTheirs.length > 0, `${c}: the filter hid nothing`);
      } else {
        assert.deepEqual({ onlyOurs, onlyTheirs }, { onlyOurs: [], onlyTheirs: [] }, `${c}: the two tools disagree`);
      }
    });
  }
});
