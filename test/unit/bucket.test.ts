// The backup bucket (src/system/fs/bucket.ts) and the file kind's `backup`: what a file resource replaces or removes
// is kept, byte for byte, and restored; the bucket is bounded, private, safe against a hostile directory, and
// shared by concurrent writers. Real files in temporary directories, the real engine.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { Bucket, UnsafeBucketError } from '../../src/system/fs/bucket.js';
import { keepPrevious } from '../../src/resources/keep-previous.js';
import { startGraph } from '../harness/engine-run.js';

let dir: string;
let prefix: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mgmt-bucket-'));
  prefix = join(dir, 'prefix');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const of = (path: string) => ({ path, mode: 0o644, uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0, sensitive: false });
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Runs a graph on the engine with `prefix` as its state directory until it converges; returns the failed ids. */
async function converge(yaml: string): Promise<string[]> {
  const r = await startGraph(yaml, { prefix });
  const failed = (await r.converged()).map((v) => v.id);
  await r.engine.shutdown();
  return failed;
}

describe('the file kind keeps what it replaces or removes', () => {
  it('overwrite, then restore: byte-identical, with the recorded mode', async () => {
    const f = join(dir, 'app.conf');
    const old = Buffer.concat([randomBytes(3000), Buffer.from([0, 255, 10, 13])]);
    writeFileSync(f, old);
    chmodSync(f, 0o640);
    assert.deepEqual(await converge(`graph: g\nresources:\n  file:\n    - {name: f, path: "${f}", content: "new\\n"}\n`), []);
    assert.equal(readFileSync(f, 'utf8'), 'new\n');
    const bucket = new Bucket(join(prefix, 'bucket'));
    const e = bucket.find(f);
    assert.ok(e, 'the old content is in the bucket');
    assert.equal(e.checksum, sha(old));
    assert.equal(e.mode, 0o640);
    const kept = bucket.restore(e, f);
    assert.ok(readFileSync(f).equals(old), 'restored byte for byte');
    assert.equal(statSync(f).mode & 0o777, 0o640);
    assert.equal(kept, sha(Buffer.from('new\n')), 'what the restore replaced is kept too');
    // --to: another path, private
    const to = join(dir, 'copy');
    bucket.restore(e, to, { mode: 0o600 });
    assert.ok(readFileSync(to).equals(old));
    assert.equal(statSync(to).mode & 0o777, 0o600);
    bucket.close();
  });

  it('purge and state: absent, then restore', async () => {
    const d = join(dir, 'd');
    mkdirSync(join(d, 'sub'), { recursive: true });
    writeFileSync(join(d, 'stray'), 'stray content');
    writeFileSync(join(d, 'sub', 'deep'), 'deep content');
    const gone = join(dir, 'gone');
    writeFileSync(gone, 'gone content');
    const yaml = `graph: g\nresources:\n  file:\n    - {name: d, path: "${d}/", recurse: true, purge: true, force: true}\n    - {name: gone, path: "${gone}", state: absent}\n`;
    assert.deepEqual(await converge(yaml), []);
    assert.deepEqual(readdirSync(d), []);
    assert.equal(existsSync(gone), false);
    const bucket = new Bucket(join(prefix, 'bucket'));
    assert.deepEqual(
      bucket
        .list()
        .map((e) => e.path)
        .sort(),
      [gone, join(d, 'stray'), join(d, 'sub', 'deep')].sort(),
    );
    for (const p of [join(d, 'sub', 'deep'), gone]) {
      const e = bucket.find(p)!;
      mkdirSync(join(p, '..'), { recursive: true });
      bucket.restore(e, p);
    }
    assert.equal(readFileSync(join(d, 'sub', 'deep'), 'utf8'), 'deep content');
    assert.equal(readFileSync(gone, 'utf8'), 'gone content');
    bucket.close();
  });

  it('a line edit keeps the file as it was before', async () => {
    const f = join(dir, 'hosts.allow');
    writeFileSync(f, 'first\n');
    assert.deepEqual(await converge(`graph: g\nresources:\n  line:\n    - {name: l, path: "${f}", line: "added"}\n`), []);
    assert.equal(readFileSync(f, 'utf8'), 'first\nadded\n');
    const bucket = new Bucket(join(prefix, 'bucket'));
    assert.equal(bucket.content(bucket.find(f)!.checksum).toString(), 'first\n');
    bucket.close();
  });

  it('backup: false keeps nothing; a suffix keeps a copy beside the file', async () => {
    const a = join(dir, 'a');
    const b = join(dir, 'b');
    writeFileSync(a, 'old a');
    writeFileSync(b, 'old b');
    chmodSync(b, 0o600);
    const yaml = `graph: g\nresources:\n  file:\n    - {name: a, path: "${a}", content: "x", backup: "false"}\n    - {name: b, path: "${b}", content: "y", backup: .orig}\n`;
    assert.deepEqual(await converge(yaml), []);
    assert.equal(existsSync(join(prefix, 'bucket')), false, 'no bucket was needed');
    assert.equal(readFileSync(`${b}.orig`, 'utf8'), 'old b');
    assert.equal(statSync(`${b}.orig`).mode & 0o777, 0o600);
    assert.equal(existsSync(`${a}.orig`), false);
  });

  it('Sensitive content: neither the content nor its checksum is logged, and the entry is marked', async () => {
    const f = join(dir, 'secret');
    writeFileSync(f, 'old-secret-value');
    const lines: string[] = [];
    const orig = process.stderr.write.bind(process.stderr);
    process.stderr.write = (chunk: string | Uint8Array, ...rest: unknown[]) => {
      lines.push(String(chunk));
      return (orig as (c: string | Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest);
    };
    try {
      assert.deepEqual(
        await converge(`graph: g\nresources:\n  file:\n    - {name: s, path: "${f}", content: "new-secret-value", meta: {sensitive: [content]}}\n`),
        [],
      );
    } finally {
      process.stderr.write = orig;
    }
    const log = lines.join('');
    const e = new Bucket(join(prefix, 'bucket')).find(f)!;
    assert.equal(e.sensitive, true);
    assert.ok(log.includes('Sensitive: no checksum shown'), log);
    for (const secret of ['old-secret-value', 'new-secret-value', e.checksum]) assert.ok(!log.includes(secret), `${secret} leaked:\n${log}`);
  });
});

describe('the bucket', () => {
  it('keeps one copy per distinct content, and each backup of it', () => {
    const b = new Bucket(join(prefix, 'bucket'));
    const s1 = b.store(Buffer.from('same'), of('/x/one'));
    const s2 = b.store(Buffer.from('same'), of('/x/two'));
    b.store(Buffer.from('other'), of('/x/one'));
    assert.equal(s1, s2);
    assert.equal(readdirSync(join(prefix, 'bucket')).filter((n) => !n.endsWith('.paths')).length, 2);
    assert.deepEqual(
      b
        .list()
        .map((e) => e.path)
        .sort(),
      ['/x/one', '/x/one', '/x/two'],
    );
    assert.equal(b.find('/x/one')?.checksum, sha(Buffer.from('other')), 'a path finds its latest backup');
    assert.equal(b.find(`sha256:${s1!}`)?.path, '/x/two', 'a checksum finds its latest backup');
    b.close();
  });

  it('is private: directory 0700, files 0600, whatever the umask; a looser directory of ours is tightened', () => {
    const old = process.umask(0);
    try {
      mkdirSync(join(prefix, 'bucket'), { recursive: true, mode: 0o777 });
      chmodSync(join(prefix, 'bucket'), 0o755);
      const b = new Bucket(join(prefix, 'bucket'));
      const s = b.store(Buffer.from('private'), of('/p'))!;
      assert.equal(statSync(join(prefix, 'bucket')).mode & 0o777, 0o700);
      assert.equal(statSync(join(prefix, 'bucket', s)).mode & 0o777, 0o600);
      assert.equal(statSync(join(prefix, 'bucket', `${s}.paths`)).mode & 0o777, 0o600);
      b.close();
    } finally {
      process.umask(old);
    }
  });

  it('is bounded: a file over the size limit is not kept; old and excess objects are pruned, oldest first', () => {
    const limits = { maxFileBytes: 10, maxTotalBytes: 20, maxAgeDays: 30 };
    const b = new Bucket(join(prefix, 'bucket'), limits);
    assert.equal(b.store(Buffer.alloc(11, 1), of('/big')), undefined);
    const day = 86_400_000;
    const now = Date.now();
    const sums: string[] = [];
    for (let i = 0; i < 4; i++) {
      const s = b.store(Buffer.alloc(8, i), of(`/f${i}`))!;
      sums.push(s);
      const t = new Date(now - (40 - i * 10) * day); // 40, 30, 20, 10 days old
      utimesSync(join(prefix, 'bucket', s), t, t);
    }
    const r = b.prune(new Date(now));
    // 40 days: too old; then 8+8+8 = 24 > 20: the oldest left (30 days) goes too.
    assert.deepEqual([r.removed, r.kept, r.keptBytes], [2, 2, 16]);
    assert.deepEqual(
      b.list().map((e) => e.path),
      ['/f2', '/f3'],
    );
    assert.equal(existsSync(join(prefix, 'bucket', `${sums[0]!}.paths`)), false);
    b.close();
  });

  it('refuses a damaged object instead of restoring it', () => {
    const b = new Bucket(join(prefix, 'bucket'));
    const s = b.store(Buffer.from('intact'), of('/i'))!;
    writeFileSync(join(prefix, 'bucket', s), 'tampered');
    assert.throws(() => b.content(s), /damaged/);
    b.close();
  });

  it('refuses a hostile bucket: a symlink in its place, or a directory of another user', () => {
    const elsewhere = join(dir, 'elsewhere');
    mkdirSync(elsewhere);
    mkdirSync(prefix);
    symlinkSync(elsewhere, join(prefix, 'bucket'));
    const b = new Bucket(join(prefix, 'bucket'));
    assert.throws(
      () => b.store(Buffer.from('x'), of('/x')),
      (e: unknown) => e instanceof UnsafeBucketError && e.message.includes('not a directory (a symlink or a file)'),
    );
    assert.deepEqual(readdirSync(elsewhere), [], 'nothing written through the link');
    assert.ok(lstatSync(join(prefix, 'bucket')).isSymbolicLink());
    if (process.getuid?.() === 0) {
      const other = join(dir, 'other-prefix');
      mkdirSync(join(other, 'bucket'), { recursive: true, mode: 0o700 });
      chownSync(join(other, 'bucket'), 65534, 65534);
      assert.throws(() => new Bucket(join(other, 'bucket')).list(), /belongs to uid 65534/);
    }
  });

  it('a file resource does not overwrite when its backup cannot be made', async () => {
    const f = join(dir, 'kept.conf');
    writeFileSync(f, 'precious');
    mkdirSync(prefix);
    symlinkSync(join(dir), join(prefix, 'bucket'));
    const failed = await converge(`graph: g\nresources:\n  file:\n    - {name: f, path: "${f}", content: "new"}\n`);
    assert.deepEqual(failed, ['file[f]']);
    assert.equal(readFileSync(f, 'utf8'), 'precious');
  });

  it('keepPrevious: the content is kept before it returns; the index and log lines follow in a microtask, and an index that cannot be written is a warning', async () => {
    const b = new Bucket(join(prefix, 'bucket'));
    const lines: string[] = [];
    const log = {
      debug: () => undefined,
      info: (m: string) => lines.push(`info: ${m}`),
      warn: (m: string) => lines.push(`warn: ${m}`),
      error: () => undefined,
    };
    const data = Buffer.from('before the repair');
    keepPrevious(b, log, data, of('/etc/app.conf'));
    assert.deepEqual(b.content(sha(data)), data, 'the content is in the bucket before the caller changes the file');
    assert.deepEqual(b.list(), []);
    await Promise.resolve(); // one microtask turn
    assert.deepEqual(
      b.list().map((e) => [e.path, e.checksum]),
      [['/etc/app.conf', sha(data)]],
    );
    assert.deepEqual(lines, [`info: kept the previous content of /etc/app.conf in the backup bucket as sha256:${sha(data)}`]);

    const other = Buffer.from('its index is a directory');
    mkdirSync(join(prefix, 'bucket', `${sha(other)}.paths`));
    keepPrevious(b, log, other, of('/etc/other.conf'));
    await Promise.resolve(); // one microtask turn
    assert.deepEqual(b.content(sha(other)), other);
    assert.match(lines[1]!, /^warn: kept the previous content of \/etc\/other.conf in the backup bucket, but could not index it/);
  });

  it('concurrent writers (separate processes) lose no backup and damage no object', async () => {
    const bucketJs = fileURLToPath(new URL('../../src/system/fs/bucket.js', import.meta.url));
    const script = `import { Bucket } from ${JSON.stringify(bucketJs)};
const [dir, me] = process.argv.slice(1);
const b = new Bucket(dir);
for (let i = 0; i < 40; i++) {
  b.store(Buffer.from('shared ' + (i % 5)), { path: '/shared/' + me + '/' + i, mode: 420, uid: 0, gid: 0, sensitive: false });
  b.store(Buffer.from('own ' + me + ' ' + i), { path: '/own/' + me + '/' + i, mode: 420, uid: 0, gid: 0, sensitive: false });
}
b.close();`;
    const bdir = join(prefix, 'bucket');
    const runs = [0, 1, 2, 3].map(
      (n) =>
        new Promise<number>((resolve, reject) => {
          const c = spawn(process.execPath, ['--input-type=module', '-e', script, bdir, String(n)], { stdio: ['ignore', 'ignore', 'inherit'] });
          c.on('error', reject);
          c.on('exit', (code) => resolve(code ?? -1));
        }),
    );
    assert.deepEqual(await Promise.all(runs), [0, 0, 0, 0]);
    const b = new Bucket(bdir);
    const all = b.list();
    assert.equal(all.length, 4 * 80, 'every backup is listed');
    const objects = new Set(all.map((e) => e.checksum));
    assert.equal(objects.size, 5 + 4 * 40, 'one object per distinct content');
    for (const s of objects) b.content(s); // checksums verified
    b.close();
  });
});
