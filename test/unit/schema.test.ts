import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Ajv } from 'ajv';
import { AJV_OPTIONS, graphJsonSchema, schemaHash, validateDocument } from '../../src/graph/schema.js';

describe('graph schema', () => {
  it('the build precompiled the validator for exactly this schema', async () => {
    const spec = '../../src/graph/graph-validator.generated.js';
    const pre = (await import(spec)) as { schemaHash: string };
    assert.equal(pre.schemaHash, schemaHash(graphJsonSchema()));
  });

  it('the precompiled validator reports what a freshly compiled one reports', () => {
    const fresh = new Ajv(AJV_OPTIONS).compile(graphJsonSchema());
    const doc = { graph: 'g', resources: { file: [{ name: 'a', contnet: 'x', mode: 644 }], nope: [] }, edges: [{ from: {} }] };
    fresh(doc);
    assert.deepEqual(validateDocument(doc), fresh.errors);
    assert.ok(validateDocument(doc).length >= 4);
    assert.deepEqual(validateDocument({ graph: 'g', resources: { noop: [{ name: 'n' }] } }), []);
  });
});
