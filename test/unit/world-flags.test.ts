import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveRunFlags } from '../../src/cli/run-flags.js';

const base = { prefix: '/nonexistent/mgmt-flags-test', hostname: 'h1' };

describe('world flags', () => {
  it('default: the embedded world, TTL 10 s', async () => {
    const f = await resolveRunFlags(base);
    assert.deepEqual(f.world, { seeds: [], ttl: 10 });
  });
  it('--seeds, TLS files, lease TTL, --etcd-server with its port', async () => {
    const f = await resolveRunFlags({
      ...base,
      seeds: 'https://10.0.0.1:2379, https://10.0.0.2:2379',
      'etcd-cacert': '/ca.pem',
      'etcd-cert': '/c.pem',
      'etcd-key': '/k.pem',
      'etcd-lease-ttl': '3',
    });
    assert.deepEqual(f.world, { seeds: ['https://10.0.0.1:2379', 'https://10.0.0.2:2379'], tls: { cacert: '/ca.pem', cert: '/c.pem', key: '/k.pem' }, ttl: 3 });
    const s = await resolveRunFlags({ ...base, 'etcd-server': true, 'etcd-server-port': '23000' });
    assert.deepEqual(s.world.server, { clientPort: 23000, peerPort: 23001 });
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
    await assert.rejects(resolveRunFlags({ ...base, 'ideal-cluster-size': '3' }), /--ideal-cluster-size needs --cluster/);
    await assert.rejects(resolveRunFlags({ ...base, cluster: true, 'cluster-secret-file': '/s', 'etcd-server': true }), /one-host case of --cluster/);
  });
});
