/**
 * `mgmt run --etcd-server`, the one-host case of the self-formed cluster: a host that runs etcd itself, with a
 * secret it makes when given none, that other hosts join with `--cluster --seeds` and a copy of that secret; its
 * ideal size is 1 unless it was started with another. Real `mgmt run` hosts and etcd processes on loopback, every
 * process stopped by PID (test/harness/cluster.ts).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { isRunning } from '../../src/system/proc/launcher.js';
import { eventually, TestCluster } from '../harness/cluster.js';
import { etcdMissing } from '../harness/etcd.js';

const TTL = 2;
const skip = etcdMissing();

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.cleanup();
  cluster = undefined;
});

describe('--etcd-server: the one-host case of --cluster', { skip }, () => {
  it('a second host joins with --cluster --seeds and a copy of the secret: a client (ideal size 1 holds), files exchanged; a wrong secret is refused', async () => {
    // Hosts joining ask for 3 members: the --etcd-server host's value (1) holds.
    const c = (cluster = await TestCluster.create({ ttl: TTL, ideal: 3 }));
    const a = await c.add('A');
    const b = await c.add('B');
    const x = await c.add('X');
    const ca = c.startEtcdServer(a);
    await ca.waitForLog(/connected to etcd/, 20_000);
    assert.match(ca.stderr(), /made a new cluster secret in .*\/cluster\/secret/);
    assert.equal(statSync(join(a.prefix, 'cluster', 'secret')).mode & 0o777, 0o600);
    const secret = c.copyOwnSecret(a);
    const cb = c.start(b, [a], [], secret);
    await eventually(() => [a, b].every((h) => c.files(h).join() === 'from-A,from-B'), 30_000, 'A and B to collect both files');
    await cb.waitForLog(/--ideal-cluster-size 3 ignored: the cluster keeps 1 members/, 10_000);
    const client = c.client([a], await c.tlsFor(secret));
    assert.deepEqual(await client.getAll().prefix('/_mgmt/cluster/hosts/').keys(), ['/_mgmt/cluster/hosts/A', '/_mgmt/cluster/hosts/B']);
    assert.equal(await client.get('/_mgmt/cluster/ideal-size').string(), '1');
    assert.deepEqual(await c.members(client), ['A']);
    assert.equal(c.etcdPid(b), undefined, 'B is a client and runs no etcd');

    // A host with another secret cannot join: TLS refuses it, it says so, and it collects nothing.
    const wrong = join(c.root, 'wrong-secret');
    writeFileSync(wrong, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
    const cx = c.start(x, [a], [], wrong);
    await cx.waitForLog(/no member answers .*does this host have the cluster's secret or certificates\?/, 15_000);
    assert.deepEqual(c.files(x), []);
    assert.deepEqual(await c.members(client), ['A']);
    assert.deepEqual(c.files(a), ['from-A', 'from-B'], 'the refused host exported nothing');
  });

  it('started with --ideal-cluster-size 2, the cluster grows when a host joins', async () => {
    const c = (cluster = await TestCluster.create({ ttl: TTL, ideal: 2 }));
    const a = await c.add('A');
    const b = await c.add('B');
    const ca = c.startEtcdServer(a, ['--ideal-cluster-size', '2']);
    await ca.waitForLog(/connected to etcd/, 20_000);
    const secret = c.copyOwnSecret(a);
    c.start(b, [a], [], secret);
    const tls = await c.tlsFor(secret);
    const client = c.client([a], tls);
    await eventually(async () => (await c.healthyMembers(client, tls)).join() === 'A,B', 60_000, 'A and B to be healthy voting members');
    assert.ok(c.etcdPid(b) !== undefined, 'B runs a member');
    await eventually(() => [a, b].every((h) => c.files(h).join() === 'from-A,from-B'), 30_000, 'A and B to collect both files');
  });

  it('stopped and started again, or killed and started again, it comes back from its data directory with the data', async () => {
    const c = (cluster = await TestCluster.create({ ttl: TTL, ideal: 3 }));
    const a = await c.add('A');
    const b = await c.add('B');
    let ca = c.startEtcdServer(a);
    await ca.waitForLog(/connected to etcd/, 20_000);
    const secret = c.copyOwnSecret(a);
    c.start(b, [a], [], secret);
    await eventually(() => [a, b].every((h) => c.files(h).join() === 'from-A,from-B'), 30_000, 'A and B to collect both files');
    const tls = await c.tlsFor(secret);
    let client = c.client([a], tls);
    await client.put('/test/kept').value('across restarts');
    const ids = await c.memberIds(client);
    client.close();

    // A clean stop: etcd stops with mgmt, its data stays.
    const pid = c.etcdPid(a)!;
    ca.child.kill('SIGTERM');
    assert.equal(await ca.exited, 0);
    assert.ok(!isRunning(pid), 'etcd stopped with mgmt');
    ca = c.startEtcdServer(a);
    await ca.waitForLog(/connected to etcd/, 20_000);
    assert.match(ca.stderr(), /its data directory holds a member: starting it again/);
    assert.match(ca.stderr(), /the cluster secret is in .*\/cluster\/secret/);
    assert.doesNotMatch(ca.stderr(), /made a new cluster secret/);
    client = c.client([a], tls);
    assert.equal(await client.get('/test/kept').string(), 'across restarts');
    assert.deepEqual(await c.memberIds(client), ids, 'the same member of the same cluster');
    // B went on as a client and reconnected: a change of its export reaches A.
    c.graph(b, ['from-B', 'more-B']);
    await eventually(() => c.files(a).join() === 'from-A,from-B,more-B', 30_000, 'A to collect B’s new export after the restart');

    // A crash (kill -9 of mgmt and its etcd), then a start: the same again.
    await c.crash(a);
    ca = c.startEtcdServer(a);
    await ca.waitForLog(/connected to etcd/, 20_000);
    assert.match(ca.stderr(), /its data directory holds a member: starting it again/);
    client = c.client([a], tls);
    assert.equal(await client.get('/test/kept').string(), 'across restarts');
    assert.deepEqual(await c.memberIds(client), ids);
    c.graph(b, ['from-B', 'again-B']);
    await eventually(() => c.files(a).includes('again-B'), 30_000, 'A to collect B’s new export after the crash');
  });
});
