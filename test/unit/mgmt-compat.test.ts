import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { formatDiagnostic } from '../../src/graph/diagnostics.js';
import { checkGraphText } from '../../src/graph/read.js';
import { registry } from '../../src/cli/registry.js';

const dir = new URL('../../../fixtures/graphs/mgmt-compat/', import.meta.url);

describe('graphs in the shapes of mgmt’s published examples', () => {
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
  it('has fixtures', () => assert.ok(files.length >= 10));
  for (const f of files) {
    it(`${f} loads without errors`, () => {
      const { spec, diagnostics } = checkGraphText(registry, readFileSync(new URL(f, dir), 'utf8'), f);
      const errors = diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic);
      assert.deepEqual(errors, []);
      assert.ok(spec);
      assert.equal(spec.graph, 'compat');
    });
  }

  it('keeps the meaning: obsolete exec timeout becomes meta.timeout, exports stay out of the local graph', () => {
    const load = (f: string) => checkGraphText(registry, readFileSync(new URL(f, dir), 'utf8'), f).spec!;
    const ex = load('exports-collect.yaml');
    assert.deepEqual(
      ex.resources.map((r) => r.name),
      ['local'],
    );
    assert.deepEqual(
      ex.exports.map((r) => r.name),
      ['shared'],
    );
    const legacy = load('exec-legacy-block.yaml');
    assert.deepEqual(
      legacy.resources.map((r) => r.params),
      [{ cmd: 'sleep 0.1s' }, { cmd: 'echo second', ifcmd: 'true' }],
    );
    assert.deepEqual(load('meta-variants.yaml').resources.find((r) => r.name === 'locked')!.meta, { sema: ['mylock:1', 'otherlock:42'] });
  });
});
