/**
 * `mgmt bucket` as a user runs it, after `mgmt run` replaced and removed files: the backups are listed (a Sensitive
 * one without its checksum), restored byte for byte to their path or elsewhere, pruned; contents are never printed.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { mgmtRun, scratchDirPerTest } from '../harness/cli.js';

const SECRET = 'old-s3cr3t-Bucket';
let dir = '';
scratchDirPerTest('mgmt-bucket-cli-', (d) => (dir = d));

async function runGraph(prefix: string): Promise<void> {
  writeFileSync(join(dir, 'app.conf'), 'old app\n');
  writeFileSync(join(dir, 'token'), SECRET);
  writeFileSync(join(dir, 'obsolete'), 'obsolete\n');
  const g = join(dir, 'g.yaml');
  writeFileSync(
    g,
    `graph: g
resources:
  file:
  - {name: app, path: "${dir}/app.conf", content: "new app\\n"}
  - {name: token, path: "${dir}/token", content: "new-token", meta: {sensitive: [content]}}
  - {name: obsolete, path: "${dir}/obsolete", state: absent}
`,
  );
  const r = await mgmtRun(['run', '--yaml', g, '--prefix', prefix, '--converged-timeout', '0']);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(!r.stderr.includes(SECRET) && !r.stdout.includes(SECRET));
}

describe('mgmt bucket', () => {
  it('lists, restores and prunes what mgmt run replaced or removed; prints no content and no Sensitive checksum', async () => {
    const prefix = join(dir, 'state');
    await runGraph(prefix);
    const list = await mgmtRun(['bucket', 'list', '--prefix', prefix]);
    assert.equal(list.code, 0, list.stderr);
    const lines = list.stdout.trim().split('\n');
    assert.equal(lines.length, 3, list.stdout);
    assert.match(list.stdout, new RegExp(`sha256:[0-9a-f]{64} +\\d+  ${dir}/app\\.conf\\n`));
    assert.match(list.stdout, new RegExp(`\\(sensitive\\) +\\d+  ${dir}/token\\n`));
    assert.ok(!list.stdout.includes(SECRET) && !list.stdout.includes('old app'));

    const back = await mgmtRun(['bucket', 'restore', `${dir}/obsolete`, '--prefix', prefix]);
    assert.equal(back.code, 0, back.stderr);
    assert.equal(readFileSync(join(dir, 'obsolete'), 'utf8'), 'obsolete\n');

    const sum = /sha256:([0-9a-f]{64}) +\d+ +\S+app\.conf/.exec(list.stdout)![1]!;
    const to = join(dir, 'restored-app');
    const copy = await mgmtRun(['bucket', 'restore', sum, '--to', to, '--prefix', prefix]);
    assert.equal(copy.code, 0, copy.stderr);
    assert.equal(readFileSync(to, 'utf8'), 'old app\n');
    assert.equal(statSync(to).mode & 0o777, 0o600);

    const secret = await mgmtRun(['bucket', 'restore', `${dir}/token`, '--prefix', prefix]);
    assert.equal(secret.code, 0, secret.stderr);
    assert.equal(readFileSync(join(dir, 'token'), 'utf8'), SECRET);
    assert.ok(!secret.stdout.includes(SECRET) && !/[0-9a-f]{64}/.test(secret.stdout), secret.stdout);

    const prune = await mgmtRun(['bucket', 'prune', '--max-size', '0', '--prefix', prefix]);
    assert.equal(prune.code, 0, prune.stderr);
    assert.match(prune.stdout, /^pruned \d+ backups/);
    assert.equal((await mgmtRun(['bucket', 'list', '--prefix', prefix])).stdout, '');
  });

  it('says what is wrong: an unknown backup, a relative --to, a hostile bucket', async () => {
    const prefix = join(dir, 'state');
    const none = await mgmtRun(['bucket', 'restore', '/etc/nothing-here', '--prefix', prefix]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /no backup of \/etc\/nothing-here in .*; see mgmt bucket list/);
    const rel = await mgmtRun(['bucket', 'restore', '/x', '--to', 'relative', '--prefix', prefix]);
    assert.equal(rel.code, 2);
    assert.match(rel.stderr, /--to "relative": give an absolute path/);
    const bad = await mgmtRun(['bucket', 'frobnicate', '--prefix', prefix]);
    assert.equal(bad.code, 2);
    const { symlinkSync, mkdirSync } = await import('node:fs');
    mkdirSync(join(dir, 'hostile'));
    symlinkSync('/etc', join(dir, 'hostile', 'bucket'));
    const hostile = await mgmtRun(['bucket', 'list', '--prefix', join(dir, 'hostile')]);
    assert.equal(hostile.code, 1);
    assert.match(hostile.stderr, /^mgmt bucket: refusing the backup bucket .*hostile\/bucket: it is not a directory/);
    assert.ok(!existsSync(join(dir, 'hostile', 'bucket', 'x')));
  });
});
