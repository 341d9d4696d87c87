import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { resourcesMarkdown, schemaJson } from '../../scripts/gen-docs.js';

const root = new URL('../../../', import.meta.url);

describe('generated references', () => {
  it('docs/resources.md matches the parameter tables (run `npm run docs`)', () => {
    assert.equal(readFileSync(new URL('docs/resources.md', root), 'utf8'), resourcesMarkdown());
  });
  it('docs/graph.schema.json matches the schema the loader uses (run `npm run docs`)', () => {
    assert.equal(readFileSync(new URL('docs/graph.schema.json', root), 'utf8'), schemaJson());
  });
});
