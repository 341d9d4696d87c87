// The archive kind against a real HTTP server of ours on loopback (port 0) and the system's tar and unzip:
// downloads verified by checksum, extraction with creates and cleanup, and the failures (a connection cut short,
// a checksum mismatch, a redirect, a server that is down, a file over the size bound), each leaving the path as
// it was and no temp file behind.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, test } from 'node:test';
import { archiveKind, checksumIn } from '../../src/resources/archive.js';
import { registry } from '../../src/cli/registry.js';
import { checkGraphText } from '../../src/graph/read.js';
import { check, validResource } from '../harness/resource-context.js';

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

let dir = '';
let srcDir = '';
let server: Server;
let base = '';
/** The requests the server saw: method, path and authorization header. */
const seen: { path: string; auth: string | undefined }[] = [];
const files = new Map<string, Buffer>();

function handler(req: IncomingMessage, res: ServerResponse): void {
  const path = req.url ?? '/';
  seen.push({ path, auth: req.headers.authorization });
  if (path === '/redirect.tar.gz') {
    res.writeHead(302, { location: '/app.tar.gz' }).end();
    return;
  }
  if (path === '/elsewhere.bin') {
    // the same server under another host name: credentials must not follow the redirect
    res.writeHead(302, { location: `http://localhost:${(server.address() as AddressInfo).port}/private.bin` }).end();
    return;
  }
  if (path === '/loop') {
    res.writeHead(302, { location: '/loop' }).end();
    return;
  }
  if (path === '/cut.bin') {
    // promises 1000 bytes, sends 100, then closes the connection: a transfer cut short
    res.writeHead(200, { 'content-length': '1000' });
    res.write(Buffer.alloc(100, 1));
    setImmediate(() => res.socket?.destroy());
    return;
  }
  if (path === '/private.bin') {
    if (req.headers.authorization !== `Basic ${Buffer.from('fetcher:s3cret-pw').toString('base64')}`) {
      res.writeHead(401).end();
      return;
    }
  }
  const body = files.get(path.replace(/^\//, ''));
  if (body === undefined) {
    res.writeHead(404).end('not here');
    return;
  }
  res.writeHead(200, { 'content-length': String(body.length) }).end(body);
}

before(async () => {
  srcDir = mkdtempSync(join(tmpdir(), 'mgmt-archive-src-'));
  mkdirSync(join(srcDir, 'app-1.0/bin'), { recursive: true });
  writeFileSync(join(srcDir, 'app-1.0/bin/app'), '#!/bin/sh\necho app\n');
  writeFileSync(join(srcDir, 'app-1.0/README'), 'read me\n');
  execFileSync('tar', ['-c', '-z', '-f', join(srcDir, 'app.tar.gz'), '-C', srcDir, 'app-1.0']);
  execFileSync('zip', ['-q', '-r', join(srcDir, 'app.zip'), 'app-1.0'], { cwd: srcDir });
  files.set('app.tar.gz', readFileSync(join(srcDir, 'app.tar.gz')));
  files.set('app.zip', readFileSync(join(srcDir, 'app.zip')));
  files.set('data.bin', Buffer.from('some data\n'));
  files.set('private.bin', Buffer.from('private data\n'));
  files.set('big.bin', Buffer.alloc(64 * 1024, 7));
  files.set('app.tar.gz.sha256', Buffer.from(`${sha256(files.get('app.tar.gz')!)}  app.tar.gz\n`));
  server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  rmSync(srcDir, { recursive: true, force: true });
});
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mgmt-archive-'));
  seen.length = 0;
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** The directory's entries, temp files of ours included (they start with a dot). */
const entries = (d: string) => readdirSync(d).sort();

test('downloads over http with a sha256 checksum (noop first), then is in sync without downloading again', async () => {
  const path = join(dir, 'data.bin');
  const { r, ctx } = validResource(archiveKind, path, { source: `${base}/data.bin`, checksum: sha256('some data\n'), checksum_type: 'sha256' });
  assert.equal(await check(r, { apply: false }), false);
  assert.deepEqual(entries(dir), []);
  assert.equal(await check(r), false);
  assert.equal(readFileSync(path, 'utf8'), 'some data\n');
  assert.equal(statSync(path).mode & 0o777, 0o644);
  const requests = seen.length;
  assert.equal(await check(r), true);
  assert.equal(seen.length, requests, 'a file with the right checksum is not downloaded again');
  assert.deepEqual(ctx.lines, [`info: would download ${base}/data.bin to ${path}`, `info: downloaded ${base}/data.bin to ${path}`]);
  assert.deepEqual(entries(dir), ['data.bin']);
});

test('a file whose checksum differs is downloaded again and replaced atomically', async () => {
  const path = join(dir, 'data.bin');
  writeFileSync(path, 'old\n');
  const { r, ctx } = validResource(archiveKind, path, { source: `${base}/data.bin`, checksum: sha256('some data\n'), checksum_type: 'sha256' });
  assert.equal(await check(r), false);
  assert.equal(readFileSync(path, 'utf8'), 'some data\n');
  assert.match(ctx.lines[0]!, /its checksum differs/);
});

test('extracts a tar.gz into extract_path, removes it (cleanup), and stays in sync while `creates` exists', async () => {
  const path = join(dir, 'app.tar.gz');
  const into = join(dir, 'opt');
  mkdirSync(into);
  const creates = join(into, 'app-1.0/bin/app');
  const { r } = validResource(archiveKind, path, {
    source: `${base}/app.tar.gz`,
    checksum_url: `${base}/app.tar.gz.sha256`,
    checksum_type: 'sha256',
    extract: true,
    extract_path: into,
    creates,
  });
  assert.equal(await check(r), false);
  assert.equal(readFileSync(creates, 'utf8'), '#!/bin/sh\necho app\n');
  assert.equal(readFileSync(join(into, 'app-1.0/README'), 'utf8'), 'read me\n');
  assert.equal(existsSync(path), false, 'cleanup removes the archive');
  const requests = seen.length;
  assert.equal(await check(r), true);
  assert.equal(seen.length, requests);
  rmSync(join(into, 'app-1.0'), { recursive: true });
  assert.equal(await check(r), false, 'with `creates` gone it is downloaded and extracted again');
  assert.equal(existsSync(creates), true);
});

test('extracts a zip without cleanup; with the archive right and `creates` missing, only extracts again', async () => {
  const path = join(dir, 'app.zip');
  const into = join(dir, 'opt');
  mkdirSync(into);
  const creates = join(into, 'app-1.0/README');
  const { r, ctx } = validResource(archiveKind, path, {
    source: `${base}/app.zip`,
    checksum: sha256(files.get('app.zip')!),
    checksum_type: 'sha256',
    extract: true,
    extract_path: into,
    creates,
    cleanup: false,
  });
  assert.equal(await check(r), false);
  assert.equal(readFileSync(creates, 'utf8'), 'read me\n');
  assert.equal(existsSync(path), true);
  rmSync(join(into, 'app-1.0'), { recursive: true });
  const requests = seen.length;
  assert.equal(await check(r), false);
  assert.equal(seen.length, requests, 'the archive on disk is right: no download');
  assert.equal(existsSync(creates), true);
  assert.match(ctx.lines.at(-1)!, /^info: extracted .*app\.zip into .*opt \(.* was missing\)$/);
  assert.equal(await check(r), true);
});

test('follows a redirect; refuses a redirect loop with a message that says what to do', async () => {
  const path = join(dir, 'app.tar.gz');
  const { r } = validResource(archiveKind, path, { source: `${base}/redirect.tar.gz`, checksum: sha256(files.get('app.tar.gz')!), checksum_type: 'sha256' });
  assert.equal(await check(r), false);
  assert.deepEqual(readFileSync(path), files.get('app.tar.gz'));
  assert.deepEqual(
    seen.map((s) => s.path),
    ['/redirect.tar.gz', '/app.tar.gz'],
  );
  const loop = validResource(archiveKind, join(dir, 'loop.bin'), { source: `${base}/loop` });
  await assert.rejects(check(loop.r), /more than 10 redirects; point source at the final location/);
  assert.deepEqual(entries(dir), ['app.tar.gz']);
});

test('a connection cut short fails, and leaves neither the file nor a temp file', async () => {
  const path = join(dir, 'cut.bin');
  const { r } = validResource(archiveKind, path, { source: `${base}/cut.bin` });
  await assert.rejects(check(r), (e: Error) => {
    assert.match(e.message, new RegExp(`${base}/cut.bin`));
    assert.match(e.message, /(ended after 100 of 1000 bytes|connection was cut|reset)/);
    return true;
  });
  assert.deepEqual(entries(dir), []);
});

test('a checksum mismatch fails, keeps the file that was there, and leaves no temp file', async () => {
  const path = join(dir, 'data.bin');
  writeFileSync(path, 'old\n');
  const wrong = sha256('other data');
  const { r } = validResource(archiveKind, path, { source: `${base}/data.bin`, checksum: wrong, checksum_type: 'sha256' });
  await assert.rejects(
    check(r),
    new RegExp(`does not match its checksum \\(sha256 expected ${wrong}, got ${sha256('some data\n')}\\); the file was not replaced`),
  );
  assert.equal(readFileSync(path, 'utf8'), 'old\n');
  assert.deepEqual(entries(dir), ['data.bin']);
});

test('a server that is down, a 404 and a file over max_size fail with messages a user can act on', async () => {
  const down = createServer();
  await new Promise<void>((resolve) => down.listen(0, '127.0.0.1', resolve));
  const port = (down.address() as AddressInfo).port;
  await new Promise((resolve) => down.close(resolve));
  const a = validResource(archiveKind, join(dir, 'a.bin'), { source: `http://127.0.0.1:${port}/a.bin` });
  await assert.rejects(check(a.r), /cannot get http:\/\/127\.0\.0\.1:\d+\/a\.bin: the server refused the connection \(is it down\?\); check source/);
  const b = validResource(archiveKind, join(dir, 'b.bin'), { source: `${base}/missing.bin` });
  await assert.rejects(check(b.r), /missing\.bin answered HTTP 404 Not Found; check source/);
  const c = validResource(archiveKind, join(dir, 'big.bin'), { source: `${base}/big.bin`, max_size: 1000 });
  await assert.rejects(check(c.r), /big\.bin is 65536 bytes, larger than the limit of 1000; raise max_size/);
  assert.deepEqual(entries(dir), []);
});

test('basic authentication: the password reaches the server (not another host it redirects to) and never a log line or an error', async () => {
  const path = join(dir, 'private.bin');
  const { r, ctx } = validResource(archiveKind, path, { source: `${base}/private.bin`, username: 'fetcher', password: 's3cret-pw' });
  assert.equal(await check(r), false);
  assert.equal(readFileSync(path, 'utf8'), 'private data\n');
  const wrong = validResource(archiveKind, join(dir, 'p2.bin'), { source: `http://fetcher:s3cret-pw@127.0.0.1:1/private.bin` });
  await assert.rejects(check(wrong.r), (e: Error) => !e.message.includes('s3cret-pw') && e.message.includes('http://127.0.0.1:1/private.bin'));
  assert.ok(!ctx.lines.join('\n').includes('s3cret-pw'));
  seen.length = 0;
  const moved = validResource(archiveKind, join(dir, 'p3.bin'), { source: `${base}/elsewhere.bin`, username: 'fetcher', password: 's3cret-pw' });
  await assert.rejects(check(moved.r), /localhost:\d+\/private\.bin answered HTTP 401/);
  assert.deepEqual(
    seen.map((x) => [x.path, x.auth === undefined]),
    [
      ['/elsewhere.bin', false],
      ['/private.bin', true],
    ],
    'the credentials went to the source host only, not where it redirected',
  );
});

test('a local file source (path or file:// URL), and state absent removes the file', async () => {
  const path = join(dir, 'copy.tar.gz');
  const { r } = validResource(archiveKind, path, { source: join(srcDir, 'app.tar.gz') });
  assert.equal(await check(r), false);
  assert.deepEqual(readFileSync(path), files.get('app.tar.gz'));
  assert.equal(await check(r), true);
  const viaUrl = validResource(archiveKind, join(dir, 'url.tar.gz'), { source: `file://${join(srcDir, 'app.tar.gz')}` });
  assert.equal(await check(viaUrl.r), false);
  const gone = validResource(archiveKind, path, { state: 'absent' });
  assert.equal(await check(gone.r, { apply: false }), false);
  assert.equal(existsSync(path), true);
  assert.equal(await check(gone.r), false);
  assert.equal(existsSync(path), false);
  assert.equal(await check(gone.r), true);
});

test('validation: source, paths, checksum type without a checksum, extraction needs a known name and extract_path', () => {
  const problems = (name: string, p: Record<string, unknown>) => archiveKind.validate!(name, p).map((x) => x.message);
  assert.deepEqual(problems('/tmp/a.bin', {}), ['`source` is required (the URL or path to download from)']);
  assert.deepEqual(problems('a.bin', { source: 'ftp://h/a' }), [
    '`path` must be an absolute path, got "a.bin"',
    '`source` ftp://h/a uses the scheme ftp, which is not supported (http, https, file or an absolute path)',
  ]);
  assert.deepEqual(problems('/tmp/a.rar', { source: '/x', checksum_type: 'sha1', extract: true }), [
    '`checksum_type` is sha1 but neither `checksum` nor `checksum_url` is set: give the expected checksum',
    '`extract` needs `extract_path` (the directory to extract into)',
    `cannot extract "a.rar": the file name must end with one of .tar, .tar.gz, .tgz, .tar.bz2, .tbz, .tar.xz, .txz, .zip, .war, .jar`,
  ]);
  assert.equal(checksumIn('SHA256 (x) = ABCDEF0123456789abcdef0123456789abcdef01\n'), 'abcdef0123456789abcdef0123456789abcdef01');
  const { diagnostics } = checkGraphText(registry, `graph: g\nresources:\n  archive:\n  - {name: /tmp/a.tgz, source: 'https://example.com/a.tgz'}\n`, 'g.yaml');
  assert.deepEqual(diagnostics, []);
});
