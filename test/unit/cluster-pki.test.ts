import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { caKeyFromSecret, ownSecret, readSecret, subjectNames, tlsFromSecret } from '../../src/world/cluster-pki.js';

const dir = mkdtempSync(join(tmpdir(), 'mgmt-pki-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('cluster credentials from a shared secret', () => {
  const secret = Buffer.from('a secret of more than sixteen bytes');

  it('every holder of the secret derives the same CA key; another secret another key', () => {
    assert.equal(caKeyFromSecret(secret), caKeyFromSecret(Buffer.from(secret)));
    assert.notEqual(caKeyFromSecret(secret), caKeyFromSecret(Buffer.from('another secret of sixteen bytes')));
  });

  it("a host's certificate verifies against another host's CA certificate made from the same secret, not another secret's", async () => {
    const a = await tlsFromSecret(secret, join(dir, 'a'), 'a', ['https://10.0.0.1:2379', 'https://node-a.example:2380']);
    const b = await tlsFromSecret(secret, join(dir, 'b'), 'b', ['https://10.0.0.2:2379']);
    const x = await tlsFromSecret(Buffer.from('another secret of sixteen bytes'), join(dir, 'x'), 'x', []);
    const cert = (f: string) => new X509Certificate(readFileSync(f));
    assert.ok(cert(a.cert).verify(cert(b.cacert).publicKey), "a's certificate is signed by the CA key b derives");
    assert.ok(cert(a.cert).checkIssued(cert(b.cacert)));
    assert.ok(!cert(x.cert).verify(cert(a.cacert).publicKey), 'another secret: not trusted');
    assert.match(cert(a.cert).subjectAltName ?? '', /IP Address:10\.0\.0\.1/);
    assert.match(cert(a.cert).subjectAltName ?? '', /DNS:node-a\.example/);
    assert.equal(statSync(a.key).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'a')).mode & 0o777, 0o700);
    // Made once: the same files again for the same secret and names.
    const again = readFileSync(a.cert, 'utf8');
    await tlsFromSecret(secret, join(dir, 'a'), 'a', ['https://10.0.0.1:2379', 'https://node-a.example:2380']);
    assert.equal(readFileSync(a.cert, 'utf8'), again);
  });

  it('--etcd-server without credentials: a secret of its own, made once (0600, in a 0700 directory), then read', () => {
    const file = join(dir, 'own', 'cluster', 'secret');
    const first = ownSecret(file);
    assert.equal(first.made, true);
    assert.ok(first.secret.length >= 32);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'own', 'cluster')).mode & 0o777, 0o700);
    const second = ownSecret(file);
    assert.equal(second.made, false);
    assert.deepEqual(second.secret, first.secret);
    assert.notDeepEqual(ownSecret(join(dir, 'own2', 'secret')).secret, first.secret, 'another host, another secret');
    chmodSync(file, 0o644);
    assert.throws(() => ownSecret(file), /this host's cluster secret .*: its mode is 0644: other users could read the secret; chmod 600/);
  });

  it('names: loopback always, every URL host, no wildcard address', () => {
    assert.deepEqual(subjectNames(['https://0.0.0.0:2379', 'https://[::1]:2380', 'https://h.example:1']), ['127.0.0.1', '::1', 'h.example', 'localhost']);
  });

  it('a short secret is refused with how to make a good one', () => {
    const f = join(dir, 'short');
    writeFileSync(f, 'short\n');
    chmodSync(f, 0o600);
    assert.throws(() => readSecret(f), /the secret has 5 bytes; use at least 16 random bytes \(for example: head -c 32 \/dev\/urandom/);
    assert.throws(() => readSecret(join(dir, 'missing')), /--cluster-secret-file .*missing: ENOENT/);
    const open = join(dir, 'open');
    writeFileSync(open, 'a secret of more than sixteen bytes\n');
    chmodSync(open, 0o644);
    assert.throws(() => readSecret(open), /its mode is 0644: other users could read the secret; chmod 600/);
  });
});
