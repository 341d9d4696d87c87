/**
 * The self-formed cluster (`mgmt run --cluster`): real `mgmt run` hosts on loopback, each starting Debian's etcd
 * when the coordinator makes it a member; every process is stopped by PID (test/harness/cluster.ts).
 */
import assert from 'node:assert/strict';
import { existsSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { mgmtRun } from '../harness/cli.js';
import { type ClusterHost, eventually, TestCluster } from '../harness/cluster.js';
import { etcdMissing } from '../harness/etcd.js';

const TTL = 2;
const skip = etcdMissing();

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.cleanup();
  cluster = undefined;
});

const names = (hs: readonly ClusterHost[]) => hs.map((h) => h.name);

describe('a self-formed cluster', { skip }, () => {
  it('5 hosts keep 3 members; crashes are replaced, the coordinator re-elected, a lost quorum comes back; a late host collects everything', async (t) => {
    const c = (cluster = await TestCluster.create({ ttl: TTL, ideal: 3 }));
    const hosts: ClusterHost[] = [];
    for (const n of ['A', 'B', 'C', 'D', 'E']) hosts.push(await c.add(n));
    const [a] = hosts as [ClusterHost];
    // A bootstraps; the others join through it.
    const t0 = performance.now();
    for (const h of hosts) c.start(h, h === a ? [] : [a]);
    const client = c.client(hosts);
    const three = await eventually(async () => (await c.members(client)).length === 3, 60_000, 'three members');
    const all = hosts.map((h) => `from-${h.name}`).sort();
    await eventually(() => hosts.every((h) => c.files(h).join() === all.join()), 60_000, 'every host to collect all five files');
    t.diagnostic(`5 hosts started together: 3 members after ${three.toFixed(0)} ms, all exchanges converged after ${(performance.now() - t0).toFixed(0)} ms`);
    // Exactly 3 members, and they stay 3; the other two are clients.
    await new Promise((r) => setTimeout(r, 3000));
    const members = await c.members(client);
    assert.equal(members.length, 3, `members: ${members.join(',')}`);
    const clients = hosts.filter((h) => !members.includes(h.name));
    assert.equal(clients.length, 2);
    for (const h of clients) assert.equal(c.etcdPid(h), undefined, `${h.name} is a client and runs no etcd`);

    // A late host: the cluster is at its size, so it becomes a client, and it collects everything.
    const f = await c.add('F');
    c.start(f, [a]);
    hosts.push(f);
    const all6 = [...all, 'from-F'].sort();
    await eventually(() => hosts.every((h) => c.files(h).join() === all6.join()), 30_000, 'every host to collect all six files');
    assert.deepEqual(await c.members(client), members, 'the late host did not change the members');
    assert.equal(c.etcdPid(f), undefined);

    // kill -9 of a member host that is not the coordinator (mgmt and its etcd): replaced within TTL + 10 s.
    const coord = await c.coordinator(client);
    const victim = hosts.find((h) => members.includes(h.name) && h.name !== coord)!;
    const live = () => hosts.filter((h) => h.cli?.child.exitCode === null && h.cli.child.signalCode === null);
    const killedAt = performance.now();
    await c.crash(victim);
    const survivors = live();
    const c2 = c.client(survivors);
    const replaced = await eventually(
      async () => {
        const m = await c.healthyMembers(c2);
        return m.length === 3 && !m.includes(victim.name) && (await c.members(c2)).length === 3;
      },
      (TTL + 10) * 1000,
      `a replacement for ${victim.name}`,
    );
    t.diagnostic(
      `member ${victim.name} killed: 3 healthy members again after ${(performance.now() - killedAt).toFixed(0)} ms (${replaced.toFixed(0)} ms polled)`,
    );
    // The exchange goes on: a host exports one more file, every live host collects it; nothing collected was lost.
    const g = survivors[0]!;
    c.graph(g, [`from-${g.name}`, `more-${g.name}`]);
    const want = [...all6, `more-${g.name}`].sort();
    await eventually(() => survivors.every((h) => c.files(h).join() === want.join()), 20_000, 'the new export everywhere');
    for (const h of survivors) {
      const dropped = [...(h.cli?.stderr() ?? '').matchAll(/file\[([^\]]+)\]: no longer exported by host (\w+)/g)].filter((m) => m[2] !== victim.name);
      assert.deepEqual(dropped, [], `${h.name} dropped only the crashed host's export`);
    }

    // kill -9 of the coordinator: another host is elected.
    const coord2 = (await c.coordinator(c2))!;
    const ch = hosts.find((h) => h.name === coord2)!;
    await c.crash(ch);
    const left = live();
    const c3 = c.client(left);
    await eventually(
      async () => {
        const now = await c.coordinator(c3);
        return now !== undefined && now !== coord2;
      },
      (TTL + 10) * 1000,
      'a new coordinator',
    );
    t.diagnostic(`coordinator ${coord2} killed; new coordinator ${await c.coordinator(c3)}`);
    const healthy3 = async () => {
      const m = await c.healthyMembers(c3);
      return m.length === 3 && !m.includes(coord2) && (await c.members(c3)).length === 3;
    };
    await eventually(healthy3, (TTL + 15) * 1000, 'three healthy members again');

    // kill -9 of two members of three: no quorum; hosts keep their graphs and say so.
    const m3 = await c.members(c3);
    const [k1, k2] = left.filter((h) => m3.includes(h.name)) as [ClusterHost, ClusterHost];
    await Promise.all([c.crash(k1), c.crash(k2)]);
    const rest = live();
    for (const h of rest) await h.cli!.waitForLog(/cluster: no member answers \(.*no quorum\) for [\d.]+ s; local resources keep running/, 10_000);
    // Still managed: a collected file (exported by a live host) deleted during the outage is put back.
    const r0 = rest[0]!;
    const other = `from-${rest.at(-1)!.name}`;
    unlinkSync(join(r0.out, other));
    await eventually(() => existsSync(join(r0.out, other)), 10_000, 'the collected file to be repaired during the outage');
    // One of them comes back (same state directory): the cluster has its quorum again.
    c.start(k1, [a]);
    await k1.cli!.waitForLog(/its data directory holds a member: starting it again/, 20_000);
    for (const h of rest) await h.cli!.waitForLog(/cluster: members answer again after/, 30_000);
    const c4 = c.client([k1]);
    await eventually(async () => (await c.members(c4)).length >= 2, 20_000, 'the cluster to answer');
    t.diagnostic(`after the outage: members ${(await c.members(c4)).join(',')}; live hosts ${names(live()).join(',')}`);
    for (const h of rest) assert.ok(c.files(h).length >= all6.length, `${h.name} lost nothing: ${c.files(h).join(',')}`);
  });

  it('all hosts stopped and started again: the cluster comes back from its data directories', async (t) => {
    const c = (cluster = await TestCluster.create({ ttl: TTL, ideal: 3 }));
    const hosts: ClusterHost[] = [];
    for (const n of ['A', 'B', 'C']) hosts.push(await c.add(n));
    const [a] = hosts as [ClusterHost];
    for (const h of hosts) c.start(h, h === a ? [] : [a]);
    const client = c.client(hosts);
    await eventually(async () => (await c.members(client)).length === 3, 60_000, 'three members');
    const ids = await c.memberIds(client);
    await eventually(() => hosts.every((h) => c.files(h).length === 3), 30_000, 'every host to collect all three files');
    // A clean stop of every host at once.
    for (const h of hosts) h.cli!.child.kill('SIGTERM');
    for (const h of hosts) assert.equal(await h.cli!.exited, 0, h.cli!.stderr());
    // Each host exports one more file this time.
    for (const h of hosts) c.graph(h, [`from-${h.name}`, `again-${h.name}`]);
    const t0 = performance.now();
    for (const h of hosts) c.start(h, h === a ? [] : [a]);
    for (const h of hosts) await h.cli!.waitForLog(/its data directory holds a member: starting it again/, 20_000);
    await eventually(() => hosts.every((h) => c.files(h).length === 6), 60_000, 'every host to collect all six files');
    t.diagnostic(`restarted from the data directories: all exchanges after ${(performance.now() - t0).toFixed(0)} ms`);
    const c2 = c.client(hosts);
    assert.deepEqual(await c.memberIds(c2), ids, 'the same members');
  });

  it('joining needs the cluster’s credentials: a host with another secret is refused by TLS, and told so', async () => {
    const noCreds = await mgmtRun(['run', '--yaml', '/dev/null', '--cluster', '--tmp-prefix']);
    assert.equal(noCreds.code, 2);
    assert.match(noCreds.stderr, /--cluster needs the cluster's credentials: --cluster-secret-file FILE/);
    const plain = await mgmtRun([
      'run',
      '--yaml',
      '/dev/null',
      '--cluster',
      '--cluster-secret-file',
      '/dev/null',
      '--seeds',
      'http://127.0.0.1:2379',
      '--tmp-prefix',
    ]);
    assert.equal(plain.code, 2);
    assert.match(plain.stderr, /a cluster's members serve TLS only: use https:\/\//);

    const c = (cluster = await TestCluster.create({ ttl: TTL, ideal: 3 }));
    const a = await c.add('A');
    c.start(a, []);
    const client = c.client([a]);
    await eventually(async () => (await c.healthyMembers(client)).join() === 'A', 30_000, 'A to bootstrap');
    // X has a secret of its own: its certificates are of another CA.
    const x = await c.add('X');
    const other = join(c.root, 'other-secret');
    writeFileSync(other, 'another secret, thirty-two bytes long\n', { mode: 0o600 });
    const xc = c.start(x, [a], ['--cluster-secret-file', other]);
    await xc.waitForLog(
      /cluster: no member answers \(no member known yet\) for [\d.]+ s; .*\(a TLS failure: does this host have the cluster's secret or certificates\?\)/,
      30_000,
    );
    // It is nowhere in the cluster: no host key, no export, not a member; and A never collected from it.
    assert.equal(await client.get('/_mgmt/cluster/hosts/X').string(), null);
    assert.deepEqual(await client.getAll().prefix('/_mgmt/exported/X/').keys(), []);
    assert.deepEqual(await c.members(client), ['A']);
    assert.deepEqual(c.files(a), ['from-A']);
    // A's own host key says its graph converged.
    await eventually(
      async () => (JSON.parse((await client.get('/_mgmt/cluster/hosts/A').string()) ?? '{}') as { converged?: boolean }).converged === true,
      10_000,
      "A's converged state",
    );
  });
});
