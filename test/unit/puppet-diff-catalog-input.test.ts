// The catalog sides of `mgmt puppet diff` that hold many nodes, built here in PuppetDB's documented shapes (the
// integration test puppet-diff-puppetdb.test.ts reads the real ones a PuppetDB 7.12 hands out): a JSON array of
// catalogs (a PQL answer) and a gzipped tar laid out as `puppet db export` writes it. The node is picked by -n, or
// is the only one; a member whose certname is not the node's is refused; an oversized member is refused unread.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { readCatalogInput, readCatalogPairs } from '../../src/puppet/diff/catalog-input.js';
import { CatalogError } from '../../src/puppet/catalog.js';

const scratch = mkdtempSync(join(tmpdir(), 'mgmt-diff-catin-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const wire = (certname: string, content: string) => ({
  certname,
  version: '1',
  environment: 'production',
  transaction_uuid: '00000000-0000-0000-0000-000000000000',
  producer_timestamp: '2026-01-01T00:00:00.000Z',
  resources: [{ type: 'File', title: '/etc/motd', exported: false, tags: ['file'], file: '/etc/puppet/code/site.pp', line: 3, parameters: { content } }],
  edges: [],
});

function archive(name: string, members: Record<string, unknown>): string {
  const dir = join(scratch, `${name}.d`);
  for (const [m, doc] of Object.entries(members)) {
    mkdirSync(join(dir, 'puppetdb-bak', 'catalogs'), { recursive: true });
    writeFileSync(join(dir, 'puppetdb-bak', 'catalogs', m), typeof doc === 'string' ? doc : JSON.stringify(doc));
  }
  mkdirSync(join(dir, 'puppetdb-bak', 'facts'), { recursive: true });
  writeFileSync(join(dir, 'puppetdb-bak', 'facts', 'web1.json'), '{}');
  const out = join(scratch, `${name}.tar.gz`);
  const r = spawnSync('tar', ['-czf', out, '-C', dir, 'puppetdb-bak']);
  assert.equal(r.status, 0, r.stderr.toString());
  return out;
}

const SHA = 'a'.repeat(40);

describe('catalog sides holding many nodes', () => {
  it('a PQL answer: the -n node, or the only one; else an error listing the nodes', async () => {
    const many = join(scratch, 'pql.json');
    writeFileSync(many, JSON.stringify([wire('web1', 'a\n'), wire('db1', 'b\n')]));
    const c = await readCatalogInput(many, 'db1');
    assert.equal(c.node, 'db1');
    assert.equal(c.resources[0]!.parameters.content, 'b\n');
    await assert.rejects(
      readCatalogInput(many, undefined),
      (e: Error) => e instanceof CatalogError && e.message.includes('holds the catalogs of 2 nodes; name one with -n NODE (it has web1, db1)'),
    );
    await assert.rejects(readCatalogInput(many, 'nope'), /has no catalog for nope \(it has web1, db1\)/);
    const one = join(scratch, 'pql1.json');
    writeFileSync(one, JSON.stringify([wire('web1', 'a\n')]));
    assert.equal((await readCatalogInput(one, undefined)).node, 'web1');
  });

  it('an export archive: <certname>-<sha1>.json and <certname>.json members, the certname checked', async () => {
    const a = archive('export', { [`web1-${SHA}.json`]: wire('web1', 'a\n'), 'db1.json': wire('db1', 'b\n') });
    assert.equal((await readCatalogInput(a, 'web1')).resources[0]!.parameters.content, 'a\n');
    assert.equal((await readCatalogInput(a, 'db1')).resources[0]!.parameters.content, 'b\n');
    await assert.rejects(readCatalogInput(a, undefined), /export archive holds the catalogs of 2 nodes/);
    const lying = archive('lying', { [`web1-${SHA}.json`]: wire('db1', 'a\n') });
    await assert.rejects(readCatalogInput(lying, 'web1'), /is the catalog of db1, not of web1/);
  });

  it('both sides per node, for several nodes', async () => {
    const before = archive('before', { [`web1-${SHA}.json`]: wire('web1', 'a\n'), [`db1-${SHA}.json`]: wire('db1', 'b\n') });
    const pql = join(scratch, 'after.json');
    writeFileSync(pql, JSON.stringify([wire('web1', 'A\n'), wire('db1', 'b\n')]));
    const pairs = await readCatalogPairs(before, pql, ['web1', 'db1']);
    assert.deepEqual(
      pairs.map((p) => [p.node, p.from.resources[0]!.parameters.content, p.to.resources[0]!.parameters.content]),
      [
        ['web1', 'a\n', 'A\n'],
        ['db1', 'b\n', 'b\n'],
      ],
    );
  });

  it('a member larger than a catalog may be is refused before it is read', async () => {
    const big = join(scratch, 'big-member.json');
    writeFileSync(big, '');
    truncateSync(big, 33 * 1024 * 1024);
    const a = archive('big', { [`web1-${SHA}.json`]: '' });
    // replace the member with the sparse 33 MB file, then pack again
    spawnSync('cp', [big, join(scratch, 'big.d', 'puppetdb-bak', 'catalogs', `web1-${SHA}.json`)]);
    spawnSync('tar', ['-czf', a, '-C', join(scratch, 'big.d'), 'puppetdb-bak']);
    await assert.rejects(readCatalogInput(a, 'web1'), /is 34,603,008 bytes, more than the 33,554,432 a graph may have/);
  });
});
