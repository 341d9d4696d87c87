// `mgmt puppet diff --from-catalog/--to-catalog` on what a real PuppetDB 7.12 hands out (test/harness/puppetdb.ts,
// started once for this file; the catalogs compiled by the real Puppet and stored by the real PuppetDB terminus):
// its export archive (the gzipped tar `puppet db export` saves, served by /pdb/admin/v1/archive), and its answer to
// a PQL catalogs query (a JSON array of catalogs), each taken before and after the node's manifest changed.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { killAll, mgmtRun } from '../harness/cli.js';
import { startTestPuppetDb, type TestPuppetDb } from '../harness/puppetdb.js';
import type { DiffEntry } from '../../src/puppet/diff/entry.js';

const WEB = 'web1.diff.test';
const DB = 'db1.diff.test';

const BEFORE = `
file { '/srv/mgmt-diff-pdb/app.conf': ensure => file, content => "port=80\\n", mode => '0644' }
package { 'sl': ensure => installed }
`;
const AFTER = `
file { '/srv/mgmt-diff-pdb/app.conf': ensure => file, content => "port=8080\\n", mode => '0644' }
file { '/srv/mgmt-diff-pdb/extra': ensure => directory }
`;
const DB_MANIFEST = `file { '/srv/mgmt-diff-pdb/db.conf': ensure => file, content => "x\\n" }\n`;

let pdb: TestPuppetDb | undefined;
let tmp: string;
const files: Record<'archiveBefore' | 'archiveAfter' | 'pqlBefore' | 'pqlAfter', string> = {
  archiveBefore: '',
  archiveAfter: '',
  pqlBefore: '',
  pqlAfter: '',
};

async function download(url: string, to: string): Promise<void> {
  const r = await fetch(url);
  assert.equal(r.status, 200, `${url}: ${r.status}`);
  writeFileSync(to, Buffer.from(await r.arrayBuffer()));
}

async function snapshot(db: TestPuppetDb, tag: 'Before' | 'After'): Promise<void> {
  files[`archive${tag}`] = join(tmp, `export-${tag}.tar.gz`);
  await download(`${db.url}/pdb/admin/v1/archive`, files[`archive${tag}`]);
  files[`pql${tag}`] = join(tmp, `pql-${tag}.json`);
  await download(`${db.url}/pdb/query/v4?query=${encodeURIComponent('catalogs {}')}`, files[`pql${tag}`]);
}

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'mgmt-diff-pdb-'));
  const db = (pdb = await startTestPuppetDb());
  await db.compileInto({ node: WEB, manifest: BEFORE });
  await db.compileInto({ node: DB, manifest: DB_MANIFEST });
  await snapshot(db, 'Before');
  await db.compileInto({ node: WEB, manifest: AFTER });
  await snapshot(db, 'After');
});

after(async () => {
  killAll();
  await pdb?.cleanup();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** The keys of an octocatalog-diff JSON entry the tests compare. */
type Entry = Pick<DiffEntry, 'diff_type' | 'type' | 'title' | 'structure' | 'old_value' | 'new_value'>;

const EXPECTED = [
  '+ File[/srv/mgmt-diff-pdb/extra] ',
  '- Package[sl] ',
  '~ File[/srv/mgmt-diff-pdb/app.conf] parameters::content "port=80\\n" -> "port=8080\\n"',
];

function summary(es: Entry[]): string[] {
  return es
    .map(
      (e) =>
        `${e.diff_type} ${e.type}[${e.title}] ${e.structure.join('::')}${e.diff_type === '~' ? ` ${JSON.stringify(e.old_value)} -> ${JSON.stringify(e.new_value)}` : ''}`,
    )
    .sort();
}

async function diff(from: string, to: string, ...flags: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return mgmtRun(['puppet', 'diff', '--from-catalog', from, '--to-catalog', to, '--no-color', ...flags]);
}

describe('mgmt puppet diff on PuppetDB exports', () => {
  it("reads the node's catalog from two export archives (puppet db export)", async () => {
    const r = await diff(files.archiveBefore, files.archiveAfter, '-n', WEB, '--output-format', 'json');
    assert.equal(r.code, 2, r.stderr);
    const doc = JSON.parse(r.stdout) as { diff: Entry[]; nodes: { node: string }[] };
    assert.deepEqual(summary(doc.diff), EXPECTED);
    assert.deepEqual(
      doc.nodes.map((n) => n.node),
      [WEB],
    );
    // The other node did not change between the exports.
    const same = await diff(files.archiveBefore, files.archiveAfter, '-n', DB);
    assert.equal(same.code, 0, same.stderr + same.stdout);
  });

  it('reads it from two answers to a PQL catalogs query, with the same result', async () => {
    const r = await diff(files.pqlBefore, files.pqlAfter, '-n', WEB, '--output-format', 'json');
    assert.equal(r.code, 2, r.stderr);
    assert.deepEqual(summary((JSON.parse(r.stdout) as { diff: Entry[] }).diff), EXPECTED);
    // An archive on one side and a query answer on the other are the same catalogs.
    const mixed = await diff(files.archiveBefore, files.pqlAfter, '-n', WEB, '--output-format', 'json');
    assert.deepEqual(summary((JSON.parse(mixed.stdout) as { diff: Entry[] }).diff), EXPECTED);
  });

  it('several nodes at once: one section per node; without -n a many-node input is an error naming its nodes', async () => {
    const both = await diff(files.archiveBefore, files.archiveAfter, '-n', `${WEB},${DB}`);
    assert.equal(both.code, 2, both.stderr);
    assert.match(both.stdout, new RegExp(`^${DB.replaceAll('.', '\\.')}:\\n  no differences`, 'm'));
    assert.match(both.stdout, /Diff: 1 to add, 1 to change, 1 to remove; 1 of 2 nodes changed, 0 failed\./);
    const none = await diff(files.archiveBefore, files.archiveAfter);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /the export archive holds the catalogs of 2 nodes; name one with -n NODE \(it has .*web1\.diff\.test/);
    const missing = await diff(files.pqlBefore, files.pqlAfter, '-n', 'nope.diff.test');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /the query answer has no catalog for nope\.diff\.test/);
  });
});
