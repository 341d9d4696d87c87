import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveRunFlags } from '../../src/cli/run-flags.js';

const base = { prefix: '/nonexistent/mgmt-flags-test', hostname: 'h1' };

describe('world flags', () => {
  it('default: the embedded world, TTL 10 s', async () => {
    const f = await resolveRunFlags(base);
    assert.deepEqual(f.world, { seeds: [], ttl: 10 });
  });
  it('--seeds, TLS files, lease TTL', async () => {
    const f = await resolveRunFlags({
      ...base,
      seeds: 'https://10.0.0.1:2379, https://10.0.0.2:2379',
      'etcd-cacert': '/ca.pem',
      'etcd-cert': '/c.pem',
      'etcd-key': '/k.pem',
      'etcd-lease-ttl': '3',
    });
    assert.deepEqual(f.world, { seeds: ['https://10.0.0.1:2379', 'https://10.0.0.2:2379'], tls: { cacert: '/ca.pem', cert: '/c.pem', key: '/k.pem' }, ttl: 3 });
  });
  it('--etcd-server: the one-host case of --cluster (ideal size 1, loopback, its port, credentials optional)', async () => {
    const s = await resolveRunFlags({ ...base, 'etcd-server': true, 'etcd-server-port': '23000' });
    assert.deepEqual(s.world, {
      seeds: [],
      ttl: 10,
      cluster: {
        ideal: 1,
        idealGiven: false,
        noServer: false,
        oneHost: true,
        clientUrls: ['https://127.0.0.1:23000'],
        serverUrls: ['https://127.0.0.1:23001'],
        advertiseClientUrls: ['https://127.0.0.1:23000'],
        advertiseServerUrls: ['https://127.0.0.1:23001'],
      },
    });
    const d = await resolveRunFlags({ ...base, 'etcd-server': true });
    assert.deepEqual([d.world.cluster?.clientUrls, d.world.cluster?.serverUrls], [['https://127.0.0.1:2379'], ['https://127.0.0.1:2380']]);
    const g = await resolveRunFlags({
      ...base,
      'etcd-server': true,
      'ideal-cluster-size': '3',
      'cluster-secret-file': '/s',
      'client-urls': 'https://10.0.0.1:2379',
      'server-urls': 'https://10.0.0.1:2380',
    });
    assert.deepEqual(
      [g.world.cluster?.ideal, g.world.cluster?.idealGiven, g.world.cluster?.secretFile, g.world.cluster?.advertiseClientUrls],
      [3, true, '/s', ['https://10.0.0.1:2379']],
    );
    const tls = { 'etcd-cacert': '/ca', 'etcd-cert': '/c', 'etcd-key': '/k' };
    assert.deepEqual((await resolveRunFlags({ ...base, 'etcd-server': true, ...tls })).world.tls, { cacert: '/ca', cert: '/c', key: '/k' });
    await assert.rejects(resolveRunFlags({ ...base, 'etcd-server': true, 'etcd-cacert': '/ca' }), /needs all of --etcd-cacert, --etcd-cert and --etcd-key/);
    await assert.rejects(resolveRunFlags({ ...base, 'etcd-server': true, 'etcd-server-port': '1', 'client-urls': 'https://h:1' }), /choose one/);
    await assert.rejects(resolveRunFlags({ ...base, 'etcd-server': true, 'no-server': true }), /--no-server never starts etcd, --etcd-server does/);
    await assert.rejects(resolveRunFlags({ ...base, 'etcd-server': true, 'client-urls': 'http://h:1' }), /TLS only: use https/);
    await assert.rejects(resolveRunFlags({ ...base, 'etcd-server': true, 'etcd-server-port': '65535' }), /expected a port from 1 to 65534/);
  });
  it('user and password come from the environment, both or neither', async () => {
    process.env.MGMT_ETCD_USER = 'u';
    try {
      await assert.rejects(resolveRunFlags(base), /set both MGMT_ETCD_USER and MGMT_ETCD_PASSWORD/);
      process.env.MGMT_ETCD_PASSWORD = 'p';
      assert.deepEqual((await resolveRunFlags({ ...base, seeds: 'http://e:2379' })).world.auth, { username: 'u', password: 'p' });
    } finally {
      delete process.env.MGMT_ETCD_USER;
      delete process.env.MGMT_ETCD_PASSWORD;
    }
  });
  it('refuses what cannot work, saying why', async () => {
    await assert.rejects(resolveRunFlags({ ...base, seeds: 'etcd1:2379' }), /expected an etcd client URL/);
    await assert.rejects(resolveRunFlags({ ...base, seeds: 'http://e' }), /expected an etcd client URL/);
    await assert.rejects(resolveRunFlags({ ...base, 'etcd-server': true, seeds: 'http://e:1' }), /Drop --seeds/);
    await assert.rejects(resolveRunFlags({ ...base, 'etcd-server-port': '1' }), /needs --etcd-server/);
    await assert.rejects(resolveRunFlags({ ...base, seeds: 'http://e:1', 'etcd-cert': '/c' }), /go together/);
    await assert.rejects(resolveRunFlags({ ...base, 'etcd-cacert': '/c' }), /need --seeds/);
    await assert.rejects(resolveRunFlags({ ...base, 'etcd-lease-ttl': '0' }), /--etcd-lease-ttl/);
    await assert.rejects(resolveRunFlags({ ...base, hostname: 'a/b' }), /--hostname/);
  });
  it('--cluster: credentials required, https only, defaults from the listen URLs', async () => {
    const f = await resolveRunFlags({ ...base, cluster: true, 'cluster-secret-file': '/s', seeds: 'https://10.0.0.1:2379', 'ideal-cluster-size': '3' });
    assert.deepEqual(f.world.cluster, {
      ideal: 3,
      idealGiven: true,
      noServer: false,
      secretFile: '/s',
      clientUrls: ['https://127.0.0.1:2379'],
      serverUrls: ['https://127.0.0.1:2380'],
      advertiseClientUrls: ['https://127.0.0.1:2379'],
      advertiseServerUrls: ['https://127.0.0.1:2380'],
    });
    const tls = { 'etcd-cacert': '/ca', 'etcd-cert': '/c', 'etcd-key': '/k' };
    assert.equal((await resolveRunFlags({ ...base, cluster: true, ...tls })).world.cluster?.ideal, 5);
    await assert.rejects(resolveRunFlags({ ...base, cluster: true }), /--cluster needs the cluster's credentials/);
    await assert.rejects(resolveRunFlags({ ...base, cluster: true, 'cluster-secret-file': '/s', 'etcd-cacert': '/ca' }), /exclude each other/);
    await assert.rejects(resolveRunFlags({ ...base, cluster: true, 'cluster-secret-file': '/s', 'client-urls': 'http://h:1' }), /TLS only: use https/);
    await assert.rejects(
      resolveRunFlags({ ...base, cluster: true, 'cluster-secret-file': '/s', 'client-urls': 'https://0.0.0.0:2379' }),
      /give --advertise-client-urls/,
    );
    await assert.rejects(
      resolveRunFlags({ ...base, cluster: true, 'cluster-secret-file': '/s', 'no-server': true }),
      /--no-server never starts etcd: give --seeds/,
    );
    await assert.rejects(resolveRunFlags({ ...base, cluster: true, 'cluster-secret-file': '/s', 'ideal-cluster-size': '2.5' }), /expected a whole number/);
    await assert.rejects(resolveRunFlags({ ...base, 'ideal-cluster-size': '3' }), /--ideal-cluster-size needs --cluster or --etcd-server/);
    await assert.rejects(resolveRunFlags({ ...base, cluster: true, 'cluster-secret-file': '/s', 'etcd-server': true }), /one-host case of --cluster/);
    await assert.rejects(resolveRunFlags({ ...base, 'no-server': true, seeds: 'https://h:1' }), /--no-server needs --cluster$/);
  });
});
