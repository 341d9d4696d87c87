// The change record (src/engine/check-record.ts): what each check/apply found and did, as reports read it. Real
// files in a temp directory for the file kind; the `test` kind for a kind that records nothing.
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { createHash } from 'node:crypto';
import { registry as mgmtRegistry } from '../../src/cli/registry.js';
import type { CheckRecord } from '../../src/engine/check-record.js';
import { redactChange } from '../../src/engine/check-record.js';
import { Redactor } from '../../src/observe/redact.js';
import { execKind } from '../../src/resources/exec.js';
import { fileKind } from '../../src/resources/file/kind.js';
import { hostKind } from '../../src/resources/host.js';
import { lineKind } from '../../src/resources/line.js';
import type { Change } from '../../src/resources/resource.js';
import { TestBench } from '../../src/resources/test-kind.js';
import { startGraph } from '../harness/engine-run.js';
import { check, validResource } from '../harness/resource-context.js';

const bench = new TestBench();
const registry = mgmtRegistry.with(bench.kind);

let dir: string;
beforeEach(async () => {
  bench.reset();
  dir = await mkdtemp(join(tmpdir(), 'mgmt-record-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const sha256 = (s: string) => `{sha256}${createHash('sha256').update(s).digest('hex')}`;

/** Runs `yaml` to convergence and returns the records; `then` may act on the running graph and wait again. */
async function records(yaml: string, opts: { noop?: boolean; then?: (converged: () => Promise<unknown>) => Promise<void> } = {}): Promise<CheckRecord[]> {
  const out: CheckRecord[] = [];
  const r = await startGraph(yaml, { registry, onCheck: (c) => out.push(c), convergedTimeout: 0.05, ...(opts.noop ? { noop: true } : {}) });
  try {
    await r.converged();
    await opts.then?.(() => r.converged());
  } finally {
    await r.engine.shutdown();
  }
  return out;
}

describe('change record', () => {
  it('a created file: state absent -> file, not corrective; then drift: content with sha256 digests, corrective', async () => {
    const f = join(dir, 'motd');
    const got = await records(`graph: g\nresources:\n  file:\n  - {name: ${f}, state: exists, content: "hello\\n", mode: "0644"}\n`, {
      then: async (converged) => {
        writeFileSync(f, 'tampered\n');
        await converged();
      },
    });
    assert.equal(got.length, 2, JSON.stringify(got));
    const [created, repaired] = got as [CheckRecord, CheckRecord];
    assert.equal(created.id, `file[${f}]`);
    assert.equal(created.outcome, 'changed');
    assert.equal(created.corrective, false);
    assert.deepEqual(
      created.changes.map((c) => [c.property, c.previous, c.desired]),
      [['state', 'absent', 'file']],
    );
    assert.equal(repaired.outcome, 'changed');
    assert.equal(repaired.corrective, true, 'drift repaired');
    assert.deepEqual(repaired.changes, [{ property: 'content', previous: sha256('tampered\n'), desired: sha256('hello\n'), message: 'content changed' }]);
    assert.equal(readFileSync(f, 'utf8'), 'hello\n');
    assert.ok(repaired.at > 0 && repaired.ms >= 0);
  });

  it('noop: mode and content as would-change records, nothing touched', async () => {
    const f = join(dir, 'conf');
    writeFileSync(f, 'old\n');
    chmodSync(f, 0o600);
    const got = await records(`graph: g\nresources:\n  file:\n  - {name: ${f}, state: exists, content: "new\\n", mode: "0644"}\n`, { noop: true });
    assert.equal(got.length, 1);
    assert.equal(got[0]!.outcome, 'noop');
    assert.deepEqual(
      got[0]!.changes.map((c) => [c.property, c.previous, c.desired, c.message]),
      [
        ['content', sha256('old\n'), sha256('new\n'), 'would change content'],
        ['mode', '0600', '0644', 'would change mode 0600 -> 0644'],
      ],
    );
    assert.equal(readFileSync(f, 'utf8'), 'old\n');
  });

  it('Sensitive content: values replaced by the marker and flagged redacted', async () => {
    const f = join(dir, 'secret');
    writeFileSync(f, 'old\n');
    const got = await records(`graph: g\nresources:\n  file:\n  - {name: ${f}, state: exists, content: "s3cret-value\\n", meta: {sensitive: [content]}}\n`);
    assert.equal(got.length, 1);
    const c = got[0]!.changes[0]!;
    assert.deepEqual(c, { property: 'content', previous: '[redacted]', desired: '[redacted]', message: 'content changed', redacted: true });
    assert.ok(!JSON.stringify(got).includes('s3cret-value'));
  });

  it('a kind that records nothing yields one generic change; a failure yields a failed record with its error', async () => {
    const got = await records('graph: g\nresources:\n  test:\n  - {name: a, drifted: true}\n  - {name: b, fail: 1}\n');
    const a = got.find((r) => r.id === 'test[a]');
    assert.deepEqual(a?.changes, [{ property: 'state', message: 'changed' }]);
    const b = got.find((r) => r.id === 'test[b]');
    assert.ok(b);
    assert.equal(b.outcome, 'failed');
    assert.match(b.error ?? '', /fail/);
  });

  it('no listener: no record is built, and the kind sees no change callback', async () => {
    const f = join(dir, 'x');
    const { r } = validResource(fileKind, f, { state: 'exists', content: 'x' });
    assert.equal(await check(r), false, 'created, without a change callback');
    const seen: Change[] = [];
    writeFileSync(f, 'y');
    assert.equal(await check(r, { change: (c) => seen.push(c) }), false);
    assert.deepEqual(
      seen.map((c) => c.property),
      ['content'],
    );
  });

  it('redactChange: secrets inside other values and messages are replaced too', () => {
    const redactor = new Redactor(['hunter2']);
    const c = redactChange(
      { property: 'returns', previous: 'notrun', desired: ['echo hunter2'], message: 'ran echo hunter2' },
      { sensitive: new Set(['cmd']), redactor },
    );
    assert.deepEqual(c, { property: 'returns', previous: 'notrun', desired: ['echo [redacted]'], message: 'ran echo [redacted]', redacted: true });
    const plain: Change = { property: 'mode', previous: '0600', desired: '0644', message: 'mode 0600 -> 0644' };
    assert.equal(redactChange(plain, { sensitive: new Set(['content']), redactor }), plain);
  });

  it('kinds record their own properties: exec returns, line presence, host entries; noop says would', async () => {
    const recorded = async (kind: typeof fileKind, name: string, params: Record<string, unknown>, apply = true): Promise<Change[]> => {
      const seen: Change[] = [];
      const { r } = validResource(kind, name, params);
      await check(r, { apply, change: (c) => seen.push(c) });
      return seen;
    };
    const marker = join(dir, 'marker');
    assert.deepEqual(await recorded(execKind, `touch ${marker}`, { creates: marker }, false), [
      { property: 'returns', previous: 'notrun', desired: ['0'], message: `would run: touch ${marker}` },
    ]);
    assert.deepEqual(await recorded(execKind, `touch ${marker}`, { creates: marker }), [
      { property: 'returns', previous: 'notrun', desired: ['0'], message: 'executed successfully' },
    ]);
    assert.deepEqual(await recorded(execKind, `touch ${marker}`, { creates: marker }), [], 'creates exists: nothing ran, nothing recorded');
    const f = join(dir, 'conf');
    writeFileSync(f, 'a=1\n');
    const line = await recorded(lineKind, 'l', { path: f, line: 'b=2' });
    assert.deepEqual(
      line.map((c) => [c.property, c.previous, c.desired]),
      [['state', 'absent', 'present']],
    );
    assert.match(line[0]!.message, /^edited /);
    const hosts = join(dir, 'hosts');
    writeFileSync(hosts, '127.0.0.1 localhost\n');
    const host = await recorded(hostKind, 'web', { ip: '10.0.0.5', target: hosts });
    assert.ok(host.length > 0 && host.every((c) => c.property === 'state' && c.message.length > 0), JSON.stringify(host));
  });
});
