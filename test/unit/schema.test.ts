import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Ajv } from 'ajv';
import { AJV_OPTIONS, graphJsonSchema, schemaHash, validateDocument } from '../../src/graph/schema.js';
import { registry } from '../../src/cli/registry.js';

describe('graph schema', () => {
  it('the build precompiled the validator for exactly this schema', async () => {
    const spec = '../../src/graph/graph-validator.generated.js';
    const pre = (await import(spec)) as { schemaHash: string };
    assert.equal(pre.schemaHash, schemaHash(graphJsonSchema(registry)));
  });

  it('the precompiled validator reports what a freshly compiled one reports', () => {
    const fresh = new Ajv(AJV_OPTIONS).compile(graphJsonSchema(registry));
    const doc = { graph: 'g', resources: { file: [{ name: 'a', contnet: 'x', mode: 644 }], nope: [] }, edges: [{ from: {} }] };
    fresh(doc);
    assert.deepEqual(validateDocument(registry, doc), fresh.errors);
    assert.ok(validateDocument(registry, doc).length >= 4);
    assert.deepEqual(validateDocument(registry, { graph: 'g', resources: { noop: [{ name: 'n' }] } }), []);
  });
});
