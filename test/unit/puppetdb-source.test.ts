// Unit tests of PuppetDB as a source without a PuppetDB (the real one runs in test/integration/puppetdb.test.ts):
// the query API's catalog in our model, the client's refusals and its messages against local HTTP servers that stand
// in for a broken PuppetDB (one that never answers, refuses, or answers something else), the node's ssldir, and the
// fleet plan's ranking and output.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { registry } from '../../src/cli/registry.js';
import { catalogFromData, CatalogError } from '../../src/puppet/catalog.js';
import { fleetCoverage, nodeCoverage, nodeWithout } from '../../src/puppet/agent/fleet-coverage.js';
import { formatCoverage } from '../../src/puppet/agent/fleet-coverage-output.js';
import { readPuppetSsl } from '../../src/puppet/agent/puppet-ssl.js';
import { isLoopbackHost, PuppetDbClient, PuppetDbError } from '../../src/puppet/agent/puppetdb-client.js';
import { translateCatalog } from '../../src/puppet/translate.js';
import { freePort } from '../harness/etcd.js';

/** A catalog as /pdb/query/v4/catalogs/NODE answers it. */
function queryCatalog(resources: unknown[], edges: unknown[]) {
  return {
    certname: 'n1.example.test',
    version: '17',
    environment: 'production',
    producer_timestamp: '2026-12-06T15:00:00.000Z',
    transaction_uuid: null,
    catalog_uuid: 'u',
    code_id: null,
    hash: 'h',
    resources: { href: '/pdb/query/v4/catalogs/n1.example.test/resources', data: resources },
    edges: { href: '/pdb/query/v4/catalogs/n1.example.test/edges', data: edges },
  };
}

const pdbResource = (type: string, title: string, parameters: Record<string, unknown> = {}) => ({
  resource: 'x',
  type,
  title,
  tags: [type.toLowerCase()],
  exported: false,
  file: null,
  line: null,
  parameters,
});

const edge = (st: string, s: string, tt: string, t: string, relationship: string) => ({
  source_type: st,
  source_title: s,
  target_type: tt,
  target_title: t,
  relationship,
});

describe("the query API's catalog", () => {
  it('maps resources, containment and relationships into the catalog model', () => {
    const doc = queryCatalog(
      [pdbResource('Class', 'main'), pdbResource('File', '/a', { ensure: 'file' }), pdbResource('Package', 'sl', { require: 'File[/a]' })],
      [edge('Class', 'main', 'File', '/a', 'contains'), edge('Class', 'main', 'Package', 'sl', 'contains'), edge('File', '/a', 'Package', 'sl', 'required-by')],
    );
    const c = catalogFromData(doc, 'pdb');
    assert.equal(c.node, 'n1.example.test');
    assert.equal(c.environment, 'production');
    assert.deepEqual(c.edges, [
      { source: 'Class[main]', target: 'File[/a]' },
      { source: 'Class[main]', target: 'Package[sl]' },
    ]);
    const file = c.resources.find((r) => r.type === 'File');
    assert.ok(file);
    assert.deepEqual(file.parameters, { ensure: 'file', before: ['Package[sl]'] });
    assert.equal(file.file, undefined);
    // The relationship PuppetDB stores twice (the metaparam and its edge) is one edge in the graph.
    const names = translateCatalog(registry, c).spec.edges.map((e) => e.name);
    assert.deepEqual(names, ['File[/a] -> Package[sl]']);
  });

  it('refuses edges it cannot read and a catalog whose lists are only links', () => {
    const bad = queryCatalog([pdbResource('File', '/a')], [{ source_type: 'File' }]);
    assert.throws(() => catalogFromData(bad, 'pdb'), /pdb: edges\[0\] must be \{source_type, source_title, target_type, target_title, relationship\}/);
    const linked = { ...queryCatalog([], []), resources: { href: '/pdb/query/v4/catalogs/n1/resources' } };
    assert.throws(
      () => catalogFromData(linked, 'pdb'),
      (e: Error) => e instanceof CatalogError && e.message.includes('`resources` holds no `data` list (only a link)'),
    );
  });
});

describe('the PuppetDB client', () => {
  const servers: Server[] = [];
  after(() => servers.forEach((s) => s.close()));
  /** A local HTTP server standing in for a broken PuppetDB; resolves with its URL. */
  const serve = (handler: Parameters<typeof createServer>[1]): Promise<string> =>
    new Promise((resolve) => {
      const s = createServer(handler);
      servers.push(s);
      s.listen(0, '127.0.0.1', () => {
        const a = s.address();
        resolve(`http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`);
      });
    });

  it('uses plain http on loopback only, and https only with a certificate', () => {
    assert.ok(isLoopbackHost('127.0.0.1') && isLoopbackHost('localhost') && isLoopbackHost('[::1]') && isLoopbackHost('127.1.2.3'));
    assert.ok(!isLoopbackHost('10.0.0.1') && !isLoopbackHost('puppetdb') && !isLoopbackHost('128.0.0.1'));
    assert.throws(
      () => new PuppetDbClient({ url: 'http://puppetdb.example.com:8080' }),
      /plain http is only used on loopback .* use PuppetDB's https port \(https:\/\/puppetdb.example.com:8081\) with --ssldir/,
    );
    assert.throws(() => new PuppetDbClient({ url: 'https://puppetdb.example.com:8081' }), /https needs this node's Puppet certificate: give --ssldir/);
    assert.throws(() => new PuppetDbClient({ url: 'http://u:p@127.0.0.1:8080' }), /authenticates by certificate, not by a password/);
    assert.throws(() => new PuppetDbClient({ url: 'ftp://127.0.0.1' }), /must start with https:\/\//);
    assert.throws(() => new PuppetDbClient({ url: 'puppetdb:8080' }), PuppetDbError);
  });

  it('says so when nothing listens', async () => {
    const port = await freePort();
    const c = new PuppetDbClient({ url: `http://127.0.0.1:${port}` });
    await assert.rejects(
      c.activeNodes(),
      new RegExp(`GET http://127.0.0.1:${port}/pdb/query/v4/nodes: connection refused: is PuppetDB running and listening on 127.0.0.1:${port}\\?`),
    );
    c.close();
  });

  it('gives up at its deadline on a server that never answers', async () => {
    const url = await serve(() => {
      /* never answers */
    });
    const c = new PuppetDbClient({ url, timeoutMs: 200 });
    await assert.rejects(c.catalog('n1'), new RegExp(`GET ${url}/pdb/query/v4/catalogs/n1: no complete answer within 0.2 s`));
    c.close();
  });

  it("names PuppetDB's refusals and what to do", async () => {
    const url = await serve((req, res) => {
      const status = req.url?.includes('forbidden') ? 403 : req.url?.includes('busy') ? 503 : req.url?.includes('html') ? 200 : 500;
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(status === 200 ? '<html>' : 'no');
    });
    const c = new PuppetDbClient({ url });
    await assert.rejects(
      c.get('/forbidden'),
      /GET http:\/\/127.0.0.1:\d+\/forbidden: PuppetDB refused a request without a client certificate \(HTTP 403\): no: add it to PuppetDB's certificate-allowlist/,
    );
    await assert.rejects(c.get('/busy'), /HTTP 503\): no: it may be starting or in maintenance mode/);
    await assert.rejects(c.get('/html'), /the answer is not JSON .*: is http:\/\/127.0.0.1:\d+ a PuppetDB\?/);
    await assert.rejects(c.get('/other'), (e: Error) => e instanceof PuppetDbError && e.status === 500);
    c.close();
  });

  it('reads lists a page at a time and refuses more than its bound', async () => {
    const items = Array.from({ length: 25 }, (_, i) => ({ certname: `n${String(i).padStart(2, '0')}`, deactivated: null, expired: null }));
    const seen: string[] = [];
    const url = await serve((req, res) => {
      const q = new URL(req.url ?? '/', 'http://x').searchParams;
      seen.push(`${q.get('offset')}+${q.get('limit')}`);
      const off = Number(q.get('offset'));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(items.slice(off, off + Number(q.get('limit')))));
    });
    const c = new PuppetDbClient({ url, pageSize: 10 });
    assert.equal((await c.activeNodes()).length, 25);
    assert.deepEqual(seen, ['0+10', '10+10', '20+10']);
    const small = new PuppetDbClient({ url, pageSize: 10, maxItems: 15 });
    await assert.rejects(small.activeNodes(), /nodes: more than 15 results: narrow the query/);
    c.close();
    small.close();
  });
});

describe("a node's ssldir", () => {
  const dir = mkdtempSync(join(tmpdir(), 'mgmt-ssldir-test-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const ssldir = join(dir, 'ssl');
  mkdirSync(join(ssldir, 'certs'), { recursive: true });
  mkdirSync(join(ssldir, 'private_keys'));
  writeFileSync(join(ssldir, 'certs', 'ca.pem'), 'CA');
  writeFileSync(join(ssldir, 'certs', 'n1.example.test.pem'), 'CERT');
  writeFileSync(join(ssldir, 'private_keys', 'n1.example.test.pem'), 'KEY');

  it('takes the only node certificate there, or the one named', () => {
    assert.deepEqual(readPuppetSsl(ssldir), { certname: 'n1.example.test', ca: 'CA', cert: 'CERT', key: 'KEY', ssldir });
    assert.equal(readPuppetSsl(ssldir, 'n1.example.test').cert, 'CERT');
  });

  it('says what is missing and what to do', () => {
    assert.throws(
      () => readPuppetSsl(ssldir, 'n2.example.test'),
      /cannot read the node certificate .*n2.example.test.pem: .*is .* the agent's ssldir \(puppet config print ssldir\)/,
    );
    assert.throws(() => readPuppetSsl(ssldir, '../etc/x'), /is not a Puppet certname/);
    assert.throws(() => readPuppetSsl(join(dir, 'none')), /cannot list .*none\/certs: .*give the agent's ssldir/);
    writeFileSync(join(ssldir, 'certs', 'n2.example.test.pem'), 'CERT2');
    assert.throws(() => readPuppetSsl(ssldir), /holds 2 node certificates \(n1.example.test, n2.example.test\): say which with --certname/);
  });
});

describe('the fleet plan', () => {
  const cov = (node: string, resources: { type: string; title: string; params?: Record<string, unknown> }[]) => {
    const catalog = catalogFromData(
      {
        certname: node,
        resources: resources.map((r) => ({ type: r.type, title: r.title, exported: false, tags: [], parameters: r.params ?? {} })),
        edges: [],
      },
      node,
    );
    return nodeCoverage(translateCatalog(registry, catalog).report, 'production');
  };
  const nodes = [
    cov('c.test', [
      { type: 'Tidy', title: '/x' },
      { type: 'Sshkey', title: 'k' },
      { type: 'File', title: '/c' },
    ]),
    cov('a.test', [{ type: 'File', title: '/a' }]),
    cov('b.test', [
      { type: 'Tidy', title: '/y' },
      { type: 'Tidy', title: '/z' },
      { type: 'File', title: '/b' },
    ]),
    nodeWithout('d.test', null, 'failed', 'pdb: edges[0]: File[/q] is not in the catalog'),
  ];
  const plan = fleetCoverage('PuppetDB http://127.0.0.1:8080', nodes);

  it('orders nodes by blockers and ranks blockers by the nodes they hold back', () => {
    assert.deepEqual(
      plan.nodes.map((n) => [n.node, n.nativePct, n.blockers.length]),
      [
        ['a.test', 100, 0],
        ['b.test', 33.3, 1],
        ['c.test', 33.3, 2],
        ['d.test', 0, 0],
      ],
    );
    assert.deepEqual(
      plan.blockers.map((b) => [b.label, b.nodes, b.only, b.resources, b.nodeNames]),
      [
        ['Tidy: no native translation yet (fallback)', 2, 1, 3, ['b.test', 'c.test']],
        ['Sshkey: no native translation yet (fallback)', 1, 0, 1, ['c.test']],
      ],
    );
    assert.deepEqual(plan.totals, { nodes: 4, translated: 3, ready: 1, noCatalog: 0, failed: 1, resources: 7, native: 3, nativePct: 42.9 });
  });

  it('prints text, Markdown (pipes escaped) and JSON', () => {
    const text = formatCoverage(plan, 'text');
    assert.match(
      text,
      /^PuppetDB http:\/\/127.0.0.1:8080: 4 active nodes, 3 translated, 1 fully native, 1 failed to translate; 7 resources, 3 native \(42.9%\)\n/,
    );
    assert.match(text, /\n {2}b.test +3 +33.3% +0% +66.7% +2x Tidy: no native translation yet \(fallback\)\n/);
    assert.match(text, /\n {2}d.test +0 +- +- +- +translation failed: pdb: edges\[0\]: File\[\/q\] is not in the catalog\n/);
    const md = formatCoverage(fleetCoverage('s', [nodeWithout('p|q', null, 'failed', 'a | b')]), 'markdown');
    assert.match(md, /\| p\\\|q \| 0 \| - \| - \| - \| translation failed: a \\\| b \|/);
    assert.match(md, /None: every translated node is 100% native./);
    assert.deepEqual(JSON.parse(formatCoverage(plan, 'json')), JSON.parse(JSON.stringify(plan)));
  });
});
