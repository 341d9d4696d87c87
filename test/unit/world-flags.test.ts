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
});
