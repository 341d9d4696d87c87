/**
 * Exported and collected resources between mgmt processes, over a real etcd (Debian's etcd-server) on loopback
 * that the harness starts and stops by PID. Each "host" is an `mgmt run` process with its own --hostname and
 * directory, exporting one file and collecting every exported file into its directory.
 */
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import type { Etcd3 } from 'etcd3';
import { isRunning } from '../../src/system/proc/launcher.js';
import { type HostKey, newHostKey } from '../../src/world/host-keys.js';
import { encodeValue, exportKey } from '../../src/world/keys.js';
import { type Cli, killAll, mgmt, waitUntil } from '../harness/cli.js';
import { cleanupAllEtcd, etcdMissing, freePort, makePki, opensslMissing, startTestEtcd, startTlsEtcd, type TestEtcd } from '../harness/etcd.js';

const require = createRequire(import.meta.url);
const TTL = 2;
const skip = etcdMissing();

let dir: string;
let etcd: TestEtcd | undefined;
const clients: Etcd3[] = [];
const orphanPids: number[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mgmt-world-test-'));
});
afterEach(async () => {
  killAll();
  for (const c of clients.splice(0)) c.close();
  for (const pid of orphanPids.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  await cleanupAllEtcd();
  etcd = undefined;
  await rm(dir, { recursive: true, force: true });
});
after(killAll);

/** A host's graph: exports `from-<h>`, collects files into its own directory. */
function hostGraph(h: string, extra = ''): string {
  const file = join(dir, `${h}.yaml`);
  writeFileSync(
    file,
    `graph: host${h}
resources:
  file:
  - {name: "@@from-${h}", path: /shared/from-${h}, state: exists, content: "hello from ${h}\\n"}
  - {name: "${dir}/${h}/", state: exists}
${extra}collect:
- {kind: file, pattern: ${dir}/${h}/}
`,
  );
  return file;
}

function startHost(h: string, seeds: string, more: string[] = []): Cli {
  return mgmt(['run', '--yaml', hostGraph(h), '--tmp-prefix', '--hostname', h, '--seeds', seeds, '--etcd-lease-ttl', String(TTL), ...more]);
}

const files = (h: string) => (existsSync(join(dir, h)) ? readdirSync(join(dir, h)).sort() : []);

const { Range } = require('etcd3') as typeof import('etcd3');

/** The end of the key range of every key that starts with `prefix` (the prefixes here are ASCII). */
function prefixEnd(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}

const hostKeys = new Map<string, HostKey>();
/** Writes an export as host `host` of ours would: signed with that host's key (one per host name, made on first use). */
async function putSigned(c: Etcd3, host: string, kind: string, name: string, params: Record<string, unknown>, signAs = host): Promise<void> {
  let key = hostKeys.get(signAs);
  if (!key) hostKeys.set(signAs, (key = newHostKey()));
  await c.put(exportKey(host, kind, name)).value(encodeValue({ host, kind, name, params, meta: {} }, key));
}

function client(url: string, auth?: { username: string; password: string }): Etcd3 {
  const { Etcd3: C } = require('etcd3') as typeof import('etcd3');
  const c = new C({ hosts: url, ...(auth ? { auth } : {}) });
  clients.push(c);
  return c;
}

describe('export and collect over etcd', { skip }, () => {
  it('three hosts: every directory ends with all three files; exports vanish with their host', async (t) => {
    etcd = await startTestEtcd();
    const hosts = ['A', 'B', 'C'];
    const procs = new Map<string, Cli>();
    let lastStart = 0;
    for (const h of hosts) {
      lastStart = performance.now();
      procs.set(h, startHost(h, etcd.url));
      await procs.get(h)!.waitForLog(/connected to etcd/, 15_000);
    }
    const all = ['from-A', 'from-B', 'from-C'];
    await waitUntil(() => hosts.every((h) => files(h).join() === all.join()), 10_000, 'every host to collect all three files');
    t.diagnostic(`last start to all converged: ${(performance.now() - lastStart).toFixed(0)} ms (includes the last process's start-up)`);
    assert.equal(readFileSync(join(dir, 'B', 'from-A'), 'utf8'), 'hello from A\n');
    // The log is written once per event-loop turn, so the line may reach us after the file is on disk.
    await Promise.all(hosts.map((h) => procs.get(h)!.waitForLog(/collected file\[from-A@A\] from host A/, 5000)));

    // A host that dies (SIGKILL: no goodbye) stops exporting after its lease TTL.
    const killed = performance.now();
    procs.get('A')!.child.kill('SIGKILL');
    await Promise.all(['B', 'C'].map((h) => procs.get(h)!.waitForLog(/file\[from-A@A\]: no longer exported by host A/, (TTL + 5) * 1000)));
    const gone = performance.now() - killed;
    t.diagnostic(`lease expiry: A's export left B's and C's graphs ${gone.toFixed(0)} ms after A was killed (TTL ${TTL} s)`);
    assert.ok(gone < (TTL + 3) * 1000, `took ${gone} ms`);
    // The collected file stays on disk; only the resource left the graph.
    assert.ok(existsSync(join(dir, 'B', 'from-A')));

    // A host that exits cleanly revokes its lease: its exports go at once.
    const stopped = performance.now();
    procs.get('B')!.child.kill('SIGTERM');
    assert.equal(await procs.get('B')!.exited, 0);
    await procs.get('C')!.waitForLog(/file\[from-B@B\]: no longer exported by host B/, 5000);
    t.diagnostic(`clean exit: B's export left C's graph ${(performance.now() - stopped).toFixed(0)} ms after SIGTERM`);
    assert.ok(performance.now() - stopped < TTL * 1000);
  });

  it('--converged-timeout 0 exits only after the first collection from etcd is applied', async () => {
    etcd = await startTestEtcd();
    const b = startHost('B', etcd.url);
    await b.waitForLog(/connected to etcd/, 15_000);
    const a = mgmt(['run', '--yaml', hostGraph('A'), '--tmp-prefix', '--hostname', 'A', '--seeds', etcd.url, '--converged-timeout', '0']);
    assert.equal(await a.exited, 0, a.stderr());
    assert.deepEqual(files('A'), ['from-A', 'from-B']);
  });

  it('etcd down at start: the local graph converges, the host connects later', async () => {
    etcd = await startTestEtcd();
    await etcd.stop();
    const a = startHost('A', etcd.url);
    await waitUntil(() => existsSync(join(dir, 'A')), 10_000, 'the local directory');
    await a.waitForLog(/warning: etcd http:\/\/127\.0\.0\.1:\d+: .*local resources keep running/, 10_000);
    assert.deepEqual(files('A'), []);
    await etcd.start();
    await a.waitForLog(/reachable again after/, 15_000);
    await waitUntil(() => files('A').join() === 'from-A', 5000, 'A to collect its own export');
  });

  it('etcd restart that loses its data: nothing collected is deleted, exports are re-published', async () => {
    etcd = await startTestEtcd();
    const a = startHost('A', etcd.url);
    const b = startHost('B', etcd.url);
    await waitUntil(() => ['A', 'B'].every((h) => files(h).join() === 'from-A,from-B'), 15_000, 'A and B to collect both files');
    await etcd.stop();
    await a.waitForLog(/etcd .*local resources keep running/, 10_000);
    // Still managed while etcd is away: a deleted collected file comes back, a local one too.
    unlinkSync(join(dir, 'A', 'from-B'));
    unlinkSync(join(dir, 'B', 'from-A'));
    await waitUntil(
      () => existsSync(join(dir, 'A', 'from-B')) && existsSync(join(dir, 'B', 'from-A')),
      5000,
      'the collected files to be repaired during the outage',
    );
    rmSync(join(etcd.dataDir, 'data'), { recursive: true, force: true });
    await etcd.start();
    await Promise.all([a, b].map((p) => p.waitForLog(/reachable again after/, 15_000)));
    const c = client(etcd.url);
    const keys = async () => (await c.getAll().prefix('/_mgmt/exported/').keys()).sort();
    const t0 = Date.now();
    while ((await keys()).length < 2 && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(await keys(), ['/_mgmt/exported/A/resources/file/from-A', '/_mgmt/exported/B/resources/file/from-B']);
    // Neither host dropped a collected resource at any time.
    for (const p of [a, b]) assert.doesNotMatch(p.stderr(), /no longer exported/);
  });

  it('a collected resource that tries to leave its pattern is rejected and logged with its host', async () => {
    etcd = await startTestEtcd();
    const a = startHost('A', etcd.url);
    await a.waitForLog(/connected to etcd/, 15_000);
    const c = client(etcd.url);
    // Hosts of the cluster with keys of their own: what they write is signed, so only the collect rules stand.
    await putSigned(c, 'evil', 'file', 'x', { path: '/a/../../etc/evil', content: 'x' });
    await putSigned(c, 'evil', 'file', 'y', { path: '/y', source: '/etc/shadow' });
    await putSigned(c, 'evil', 'exec', 'z', { cmd: 'touch /tmp/pwned-by-mgmt-test' });
    await putSigned(c, 'nice', 'file', 'ok', { path: '/x/ok', state: 'exists', content: 'ok\n' });
    await a.waitForLog(/not collected: file\[x\] exported by host evil: its path "\/a\/\.\.\/\.\.\/etc\/evil" is not normalized/, 5000);
    await a.waitForLog(/not collected: file\[y\] exported by host evil: it copies the local `source`/, 5000);
    await waitUntil(() => files('A').join() === 'from-A,ok', 5000, 'the good export to be collected');
    assert.ok(!existsSync('/etc/evil'));
    assert.doesNotMatch(a.stderr(), /exec\[z/, 'exec is not collected by a file collector');
    assert.ok(!existsSync('/tmp/pwned-by-mgmt-test'));
  });

  it('a forged setuid-root export is refused by collectors, with the reason logged', async () => {
    etcd = await startTestEtcd();
    const a = startHost('A', etcd.url);
    await a.waitForLog(/connected to etcd/, 15_000);
    const c = client(etcd.url);
    await putSigned(c, 'evil', 'file', 'rootshell', {
      path: '/x/rootshell',
      state: 'exists',
      content: '#!/bin/sh\nexec /bin/sh\n',
      mode: '4755',
      owner: 'root',
    });
    await putSigned(c, 'evil', 'file', 'sgid', { path: '/x/sgid', state: 'exists', content: 'x\n', mode: 'g+s' });
    await a.waitForLog(/not collected: file\[rootshell\] exported by host evil: its mode "4755" sets the set-uid, set-gid or sticky bit/, 5000);
    await a.waitForLog(/not collected: file\[sgid\] exported by host evil: its mode "g\+s" sets the set-uid/, 5000);
    assert.deepEqual(files('A'), ['from-A']);
  });

  it('a host that writes into another host’s keys: collectors refuse the forgery, the victim writes its own back', async () => {
    etcd = await startTestEtcd();
    const a = startHost('A', etcd.url);
    const b = startHost('B', etcd.url);
    await waitUntil(() => ['A', 'B'].every((h) => files(h).join() === 'from-A,from-B'), 15_000, 'A and B to collect both files');
    const c = client(etcd.url);
    const key = exportKey('A', 'file', 'from-A');
    const original = await c.get(key).string();
    // Another host's key signs a value under A's key; then a raw unsigned value, as anyone could write before.
    await putSigned(c, 'A', 'file', 'from-A', { path: '/shared/from-A', state: 'exists', content: 'forged by B\n', mode: '4755' }, 'B');
    await b.waitForLog(/etcd: ignoring \/_mgmt\/exported\/A\/resources\/file\/from-A: it is signed by a key that is not the one pinned for host A/, 5000);
    await a.waitForLog(/etcd: 1 of this host's keys changed or deleted by someone else.*writing this host's exports back/, 5000);
    const t0 = Date.now();
    while ((await c.get(key).string()) !== original && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 20));
    assert.equal(await c.get(key).string(), original, 'A wrote its own export back');
    await c.put(key).value(JSON.stringify({ params: { path: '/shared/from-A', state: 'exists', content: 'unsigned\n' }, meta: {} }));
    await b.waitForLog(/etcd: ignoring \/_mgmt\/exported\/A\/resources\/file\/from-A: it is not signed/, 5000);
    while ((await c.get(key).string()) !== original && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 20));
    assert.equal(await c.get(key).string(), original, 'A wrote its own export back again');
    // A deleted key comes back too.
    await c.delete().key(key);
    while ((await c.get(key).string()) !== original && Date.now() - t0 < 15_000) await new Promise((r) => setTimeout(r, 20));
    assert.equal(await c.get(key).string(), original, 'A re-published its deleted export');
    // The collectors never applied the forgeries.
    for (const h of ['A', 'B']) assert.equal(readFileSync(join(dir, h, 'from-A'), 'utf8'), 'hello from A\n');
    assert.doesNotMatch(b.stderr(), /forged by B|unsigned/);
  });

  it('an export with Sensitive values is not stored in etcd, and the error says why', async () => {
    etcd = await startTestEtcd();
    const a = startHost('A', etcd.url);
    writeFileSync(
      join(dir, 'S.yaml'),
      `graph: hostS
resources:
  file:
  - {name: "@@secret", path: /shared/secret, state: exists, content: "s3cret-value\n", meta: {sensitive: [content]}}
  - {name: "@@plain", path: /shared/plain, state: exists, content: "plain\n"}
`,
    );
    const s = mgmt(['run', '--yaml', join(dir, 'S.yaml'), '--tmp-prefix', '--hostname', 'S', '--seeds', etcd.url, '--etcd-lease-ttl', String(TTL)]);
    await s.waitForLog(/@@file\[secret\] is not exported: its sensitive parameters \(content\) would be stored in clear in etcd/, 15_000);
    await waitUntil(() => files('A').join() === 'from-A,plain', 15_000, 'A to collect the plain export');
    const c = client(etcd.url);
    assert.deepEqual(await c.getAll().prefix('/_mgmt/exported/S/').keys(), ['/_mgmt/exported/S/resources/file/plain']);
    const everything = JSON.stringify(await c.getAll().prefix('/_mgmt/').strings());
    assert.ok(!everything.includes('s3cret-value'));
    assert.doesNotMatch(s.stderr() + a.stderr(), /s3cret-value/);
  });

  it('--etcd-server starts a local etcd in the state directory and stops it on exit', async () => {
    // --etcd-server is the one-host case of --cluster: TLS with a secret it makes in PREFIX/cluster/secret, data in
    // PREFIX/cluster/etcd. A plain --seeds host on this machine connects with the host's certificate.
    const prefix = join(dir, 'prefix');
    let port = await freePort();
    let a: Cli | undefined;
    let first: Cli | undefined;
    for (let attempt = 0; attempt < 3 && !a; attempt++) {
      const p = mgmt([
        'run',
        '--yaml',
        hostGraph('A'),
        '--prefix',
        prefix,
        '--hostname',
        'A',
        '--etcd-server',
        '--etcd-server-port',
        String(port),
        '--etcd-lease-ttl',
        String(TTL),
      ]);
      first ??= p;
      const ok = await p.waitForLog(/connected to etcd/, 15_000).then(
        () => true,
        () => false,
      );
      if (ok) a = p;
      else {
        p.child.kill('SIGTERM');
        await p.exited;
        port = await freePort();
      }
    }
    assert.ok(a, 'mgmt with --etcd-server did not connect');
    const pid = Number(/etcd member \(pid (\d+)\) serving https:\/\/127\.0\.0\.1:(\d+)/.exec(a.stderr())![1]);
    orphanPids.push(pid);
    assert.ok(isRunning(pid));
    assert.ok(existsSync(join(prefix, 'cluster', 'etcd', 'member')), 'etcd data in PREFIX/cluster/etcd');
    assert.equal(lstatSync(join(prefix, 'cluster', 'secret')).mode & 0o777, 0o600, 'the secret it made is private');
    // The first start makes the secret; a retry (its port was taken meanwhile) finds it there.
    assert.match(first!.stderr(), /made a new cluster secret in .*cluster\/secret/);
    if (a !== first) assert.match(a.stderr(), /the cluster secret is in .*cluster\/secret/);
    const tls = join(prefix, 'cluster', 'tls');
    const b = startHost('B', `https://127.0.0.1:${port}`, [
      '--etcd-cacert',
      join(tls, 'ca.pem'),
      '--etcd-cert',
      join(tls, 'host.pem'),
      '--etcd-key',
      join(tls, 'host-key.pem'),
    ]);
    await waitUntil(() => ['A', 'B'].every((h) => files(h).join() === 'from-A,from-B'), 15_000, 'A and B to collect both files');
    b.child.kill('SIGTERM');
    await b.exited;
    a.child.kill('SIGTERM');
    assert.equal(await a.exited, 0);
    assert.ok(!isRunning(pid), 'etcd is stopped when mgmt exits');
    assert.match(a.stderr(), new RegExp(`etcd member \\(pid ${pid}\\) stopped`));
  });

  it('--etcd-server refuses plain http clients: its etcd serves TLS only, with client certificates; old data in PREFIX/etcd is reported', async () => {
    const prefix = join(dir, 'prefix');
    // What an earlier --etcd-server left (its data was PREFIX/etcd): reported, not used.
    mkdirSync(join(prefix, 'etcd', 'member'), { recursive: true });
    const port = await freePort();
    const a = mgmt([
      'run',
      '--yaml',
      hostGraph('A'),
      '--prefix',
      prefix,
      '--hostname',
      'A',
      '--etcd-server',
      '--etcd-server-port',
      String(port),
      '--etcd-lease-ttl',
      String(TTL),
    ]);
    await a.waitForLog(/connected to etcd/, 15_000);
    orphanPids.push(Number(/etcd member \(pid (\d+)\)/.exec(a.stderr())![1]));
    const plain = await fetch(`http://127.0.0.1:${port}/health`).then(
      (r) => `HTTP ${r.status}`,
      (e: unknown) => String(e),
    );
    assert.notEqual(plain, 'HTTP 200');
    // TLS without a client certificate of the cluster's CA: refused too.
    const bad = await new Promise<string>((resolve) => {
      const req = httpsRequest({ host: '127.0.0.1', port, path: '/health', rejectUnauthorized: false, timeout: 3000 }, (r) => resolve(`HTTP ${r.statusCode}`));
      req.on('error', (e) => resolve(e.message));
      req.end();
    });
    assert.doesNotMatch(bad, /^HTTP 200/);
    assert.match(a.stderr(), /prefix\/etcd holds the data of the etcd an earlier mgmt --etcd-server ran; .* delete it/);
    a.child.kill('SIGTERM');
    assert.equal(await a.exited, 0);
  });
});

describe('export and collect without etcd (the embedded local world)', () => {
  it('--converged-timeout 0 waits for the graph’s own collection', async () => {
    const g = hostGraph('A');
    const p = mgmt(['run', '--yaml', g, '--tmp-prefix', '--hostname', 'A', '--converged-timeout', '0']);
    assert.equal(await p.exited, 0, p.stderr());
    assert.deepEqual(files('A'), ['from-A']);
  });
  it('a symlink planted in the pattern directory is not followed by a collected file', async () => {
    mkdirSync(join(dir, 'A'));
    writeFileSync(join(dir, 'outside'), 'precious\n');
    symlinkSync(join(dir, 'outside'), join(dir, 'A', 'from-A'));
    const p = mgmt(['run', '--yaml', hostGraph('A'), '--tmp-prefix', '--hostname', 'A', '--converged-timeout', '0']);
    await p.exited;
    assert.equal(readFileSync(join(dir, 'outside'), 'utf8'), 'precious\n');
    // Without force the file resource refuses to replace the symlink, and says so.
    assert.ok(lstatSync(join(dir, 'A', 'from-A')).isSymbolicLink());
    assert.match(p.stderr(), /file\[from-A@A\]: .*symlink/);
  });
  it('--noop publishes nothing, so nothing of its own is collected', async () => {
    const g = hostGraph('A');
    const p = mgmt(['run', '--yaml', g, '--tmp-prefix', '--hostname', 'A', '--converged-timeout', '0', '--noop']);
    assert.equal(await p.exited, 0, p.stderr());
    assert.match(p.stderr(), /--noop: 1 exported resource\(s\) not published/);
    assert.doesNotMatch(p.stderr(), /collected/);
  });

  it('a graph collects its own exports', async () => {
    const g = hostGraph('A');
    const p = mgmt(['run', '--yaml', g, '--tmp-prefix', '--hostname', 'A', '--converged-timeout', '1']);
    assert.equal(await p.exited, 0, p.stderr());
    assert.deepEqual(files('A'), ['from-A']);
    assert.match(p.stderr(), /collected file\[from-A@A\] from host A/);
    assert.doesNotMatch(p.stderr(), /etcd/);
  });
});

describe('etcd authentication and TLS', { skip }, () => {
  it('user and password from MGMT_ETCD_USER / MGMT_ETCD_PASSWORD; without them the host keeps retrying', async () => {
    etcd = await startTestEtcd();
    const c = client(etcd.url);
    await c.role('root').create();
    await c.user('root').create('s3cret');
    await c.user('root').addRole('root');
    await c.auth.authEnable({});
    const withEnv = (user: string | undefined, pw: string | undefined, f: () => Cli): Cli => {
      const saved = [process.env.MGMT_ETCD_USER, process.env.MGMT_ETCD_PASSWORD];
      // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- removes a key from a plain record (empty-is-unset, process.env), the type its readers expect
      const set = (k: string, v: string | undefined) => (v === undefined ? delete process.env[k] : (process.env[k] = v));
      set('MGMT_ETCD_USER', user);
      set('MGMT_ETCD_PASSWORD', pw);
      try {
        return f();
      } finally {
        set('MGMT_ETCD_USER', saved[0]);
        set('MGMT_ETCD_PASSWORD', saved[1]);
      }
    };
    const anon = withEnv(undefined, undefined, () => startHost('B', etcd!.url));
    await waitUntil(() => existsSync(join(dir, 'B')), 10_000, 'B’s local graph');
    await anon.waitForLog(/warning: etcd http:\/\/127\.0\.0\.1:\d+: .*(user name is empty|permission denied|not capable|auth)/i, 10_000);
    const a = withEnv('root', 's3cret', () => startHost('A', etcd!.url));
    await a.waitForLog(/connected to etcd/, 15_000);
    await waitUntil(() => files('A').join() === 'from-A', 5000, 'A to collect over an authenticated connection');
    assert.doesNotMatch(a.stderr(), /s3cret/);
  });

  it('one etcd user and role per host (docs/security.md): a host cannot write another host’s keys; collecting works', async () => {
    etcd = await startTestEtcd();
    const c = client(etcd.url);
    await c.role('root').create();
    await c.user('root').create('root-pw');
    await c.user('root').addRole('root');
    for (const h of ['A', 'B']) {
      const role = await c.role(`mgmt-${h}`).create();
      await role.grant({ permission: 'Readwrite', range: new Range(`/_mgmt/exported/${h}/`, prefixEnd(`/_mgmt/exported/${h}/`)) });
      await role.grant({ permission: 'Read', range: new Range('/_mgmt/exported/', prefixEnd('/_mgmt/exported/')) });
      await c.user(h).create(`pw-${h}`);
      await c.user(h).addRole(`mgmt-${h}`);
    }
    await c.auth.authEnable({});
    const run = (h: string) =>
      mgmt(['run', '--yaml', hostGraph(h), '--tmp-prefix', '--hostname', h, '--seeds', etcd!.url, '--etcd-lease-ttl', String(TTL)], {
        env: { MGMT_ETCD_USER: h, MGMT_ETCD_PASSWORD: `pw-${h}` },
      });
    const a = run('A');
    const b = run('B');
    await waitUntil(() => ['A', 'B'].every((h) => files(h).join() === 'from-A,from-B'), 20_000, 'A and B to collect both files under their roles').catch(
      (e: unknown) => {
        throw new Error(`${e instanceof Error ? e.message : String(e)}\n--- A:\n${a.stderr()}\n--- B:\n${b.stderr()}`);
      },
    );
    // B's credentials: its own keys yes, A's no (etcd refuses, whatever B signs them with).
    const asB = client(etcd.url, { username: 'B', password: 'pw-B' });
    await asB.put('/_mgmt/exported/B/resources/file/extra').value('x');
    await assert.rejects(
      asB
        .put(exportKey('A', 'file', 'from-A'))
        .value('forged')
        .exec(),
      /permission denied/,
    );
    await assert.rejects(
      asB
        .delete()
        .key(exportKey('A', 'file', 'from-A'))
        .exec(),
      /permission denied/,
    );
    assert.equal(readFileSync(join(dir, 'B', 'from-A'), 'utf8'), 'hello from A\n');
    // A clean exit still withdraws the host's exports (revoking a lease needs write access to its keys).
    a.child.kill('SIGTERM');
    assert.equal(await a.exited, 0, a.stderr());
    await b.waitForLog(/file\[from-A@A\]: no longer exported by host A/, 5000);
  });

  it('https seeds with --etcd-cacert, --etcd-cert and --etcd-key', { skip: opensslMissing() }, async () => {
    const pkiDir = join(dir, 'pki');
    mkdirSync(pkiDir);
    const pki = makePki(pkiDir);
    const tls = await startTlsEtcd(pki);
    const tlsFlags = ['--etcd-cacert', pki.ca, '--etcd-cert', pki.clientCert, '--etcd-key', pki.clientKey];
    const a = startHost('A', tls.url, tlsFlags);
    startHost('B', tls.url, tlsFlags);
    await waitUntil(() => ['A', 'B'].every((h) => files(h).join() === 'from-A,from-B'), 20_000, 'A and B to collect over TLS').catch((e: unknown) => {
      throw new Error(`${e instanceof Error ? e.message : String(e)}\n--- A:\n${a.stderr()}`);
    });
    // Without the client certificate etcd refuses the connection; the host says so and keeps its local graph.
    const c = startHost('C', tls.url, ['--etcd-cacert', pki.ca]);
    await c.waitForLog(/warning: etcd https:\/\/127\.0\.0\.1:\d+: /, 15_000);
    assert.ok(existsSync(join(dir, 'C')));
  });
});

describe('Puppet exported resources and collectors over etcd', { skip }, () => {
  it('`File <<| tag == s |>>` on one host collects the matching @@file of another', async () => {
    etcd = await startTestEtcd();
    writeFileSync(join(dir, 'facts.json'), JSON.stringify({ kernel: 'Linux', os: { family: 'Debian' } }));
    writeFileSync(
      join(dir, 'a.pp'),
      `@@file { '${dir}/shared/h': content => "from A\\n", tag => 's' }\n@@file { '${dir}/shared/other': content => "not for B\\n" }\n`,
    );
    writeFileSync(join(dir, 'b.pp'), `file { '${dir}/shared': ensure => directory }\nFile <<| tag == 's' |>>\n`);
    const run = (h: string) =>
      mgmt([
        'puppet',
        '--manifest',
        join(dir, `${h.toLowerCase()}.pp`),
        '--facts',
        join(dir, 'facts.json'),
        '--tmp-prefix',
        '--hostname',
        h,
        '--seeds',
        etcd!.url,
        '--etcd-lease-ttl',
        String(TTL),
      ]);
    const a = run('A');
    const b = run('B');
    await waitUntil(() => existsSync(join(dir, 'shared', 'h')), 60_000, 'B to collect A’s tagged file').catch((e: unknown) => {
      throw new Error(`${e instanceof Error ? e.message : String(e)}\n--- A:\n${a.stderr()}\n--- B:\n${b.stderr()}`);
    });
    assert.equal(readFileSync(join(dir, 'shared', 'h'), 'utf8'), 'from A\n');
    await b.waitForLog(new RegExp(`collected file\\[${dir}/shared/h@A\\] from host A`), 5000);
    // Exported only: A does not apply it; B does not collect what its query does not match.
    assert.ok(!existsSync(join(dir, 'shared', 'other')));
    assert.doesNotMatch(a.stderr(), /file\[.*shared\/h\]: created/);
  });
});
