/**
 * The credentials of a self-formed cluster (`--cluster`): every connection, member to member (peer) and client to
 * member, is TLS with certificates checked both ways against the cluster's CA. A host without the cluster's
 * credentials can neither join, nor read or write a key, nor read the traffic (docs/security.md, "Joining a
 * cluster").
 *
 * Two ways to hold them:
 * - `--cluster-secret-file FILE`: the CA's private key is derived from the secret (HMAC-SHA-256 → a P-256 scalar),
 *   so every host that knows the secret holds the same CA key without any exchange; each host makes its own CA
 *   certificate (same key, same subject: certificates signed by one host verify against another host's CA
 *   certificate) and its own leaf certificate for the host names and addresses of its URLs. Files live under
 *   `<state>/cluster/tls/` (mode 0600; the directory 0700) and are made again when the secret or the URLs change.
 *   `--etcd-server` without credentials makes a secret of its own (ownSecret): 32 random bytes in
 *   `<state>/cluster/secret`, kept across restarts; hosts that join get a copy.
 * - peer TLS given by the operator (`--etcd-cacert`, `--etcd-cert`, `--etcd-key`): the CA certificate to trust and
 *   this host's certificate, used as server and client certificate both (it needs both extended key usages).
 *
 * Certificates are made with openssl(1) (Debian's openssl package): Node can sign data but not write X.509.
 * The openssl runs go through the one process launcher (src/system/proc/launcher.ts).
 */
import { createECDH, createHmac, createPrivateKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { dirname, join } from 'node:path';
import { describeOutcome, run, SpawnError } from '../system/proc/launcher.js';

/** PEM files: the CA certificate to trust, this host's certificate and key (server and client). */
export interface ClusterTls {
  readonly cacert: string;
  readonly cert: string;
  readonly key: string;
}

/** The shortest secret accepted (bytes, after trimming a final newline). */
export const MIN_SECRET_BYTES = 16;

/** Reads and checks a secret file: at least MIN_SECRET_BYTES, not readable by group or others. */
export function readSecret(file: string, what = '--cluster-secret-file'): Buffer {
  let text: Buffer;
  try {
    text = readFileSync(file);
    const mode = statSync(file).mode & 0o777;
    if (mode & 0o077) {
      throw new Error(`its mode is ${mode.toString(8).padStart(4, '0')}: other users could read the secret; chmod 600 ${file}`);
    }
  } catch (e) {
    throw new Error(`${what} ${file}: ${(e as Error).message}`);
  }
  const secret = text.subarray(0, text.length - (text.at(-1) === 0x0a ? 1 : 0));
  if (secret.length < MIN_SECRET_BYTES) {
    throw new Error(
      `${what} ${file}: the secret has ${secret.length} bytes; use at least ${MIN_SECRET_BYTES} random bytes (for example: head -c 32 /dev/urandom | base64 > ${file}; chmod 600 ${file})`,
    );
  }
  return secret;
}

/**
 * The secret of a one-host cluster (`--etcd-server` without credentials): made in `file` (mode 0600, never
 * overwritten) on the first start, read (and checked like any secret file) after. `made`: it was made now.
 */
export function ownSecret(file: string): { readonly secret: Buffer; readonly made: boolean } {
  let made = false;
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    try {
      writeFileSync(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
      made = true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new Error(`cannot make the cluster's secret ${file}: ${(e as Error).message}`);
    }
  }
  return { secret: readSecret(file, "this host's cluster secret"), made };
}

/** The CA key every holder of `secret` derives: a P-256 private key, as PKCS#8 PEM. */
export function caKeyFromSecret(secret: Buffer): string {
  // A scalar in [1, n-1]: HMAC output is below n with overwhelming probability; a counter moves on otherwise.
  for (let i = 0; ; i++) {
    const d = createHmac('sha256', secret).update(`mgmt cluster CA key ${i}`).digest();
    const ecdh = createECDH('prime256v1');
    try {
      ecdh.setPrivateKey(d);
    } catch {
      continue;
    }
    const pub = ecdh.getPublicKey();
    const b64 = (b: Buffer) => b.toString('base64url');
    const key = createPrivateKey({
      key: { kty: 'EC', crv: 'P-256', d: b64(d), x: b64(pub.subarray(1, 33)), y: b64(pub.subarray(33, 65)) },
      format: 'jwk',
    });
    return key.export({ format: 'pem', type: 'pkcs8' }).toString();
  }
}

/** The host names and addresses a certificate must name: those of every URL this host serves or advertises. */
export function subjectNames(urls: readonly string[]): string[] {
  const names = new Set<string>(['127.0.0.1', 'localhost']);
  for (const u of urls) {
    const h = new URL(u).hostname.replace(/^\[|\]$/g, '');
    if (h !== '0.0.0.0' && h !== '::') names.add(h);
  }
  return [...names].sort();
}

/**
 * The TLS files of this host for a secret: made under `dir` when missing or made for another secret or other
 * names, else reused. Made with two rounds of openssl, the CA certificate and the host's request side by side
 * (the host key comes from Node), without blocking the main thread: about 70 ms rather than four processes in a
 * row.
 */
export async function tlsFromSecret(secret: Buffer, dir: string, hostname: string, urls: readonly string[]): Promise<ClusterTls> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const p = (f: string) => join(dir, f);
  const names = subjectNames(urls);
  const stamp = createHmac('sha256', secret)
    .update(`mgmt cluster tls stamp\0${hostname}\0${names.join(',')}`)
    .digest('hex');
  const out: ClusterTls = { cacert: p('ca.pem'), cert: p('host.pem'), key: p('host-key.pem') };
  if (existsSync(p('stamp')) && readFileSync(p('stamp'), 'utf8') === stamp && [out.cacert, out.cert, out.key].every((f) => existsSync(f))) {
    return out;
  }
  const write = (f: string, text: string) => writeFileSync(p(f), text, { mode: 0o600 });
  write('ca-key.pem', caKeyFromSecret(secret));
  const hostKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  write('host-key.pem', hostKey);
  chmodSync(p('host-key.pem'), 0o600);
  const san = names.map((n) => (isIP(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
  write('host.ext', `subjectAltName=${san}\nextendedKeyUsage=serverAuth,clientAuth\nkeyUsage=digitalSignature,keyEncipherment\n`);
  const openssl = async (...args: string[]) => {
    let r;
    try {
      r = await run({ command: { argv: ['openssl', ...args] }, cwd: dir, env: { PATH: '/usr/bin:/bin:/usr/local/bin' }, signal: AbortSignal.timeout(30_000) });
    } catch (e) {
      if (e instanceof SpawnError && e.code === 'ENOENT')
        throw new Error('cannot make the cluster certificates: openssl is not installed (apt-get install openssl)');
      throw e;
    }
    if (r.code !== 0)
      throw new Error(`cannot make the cluster certificates: openssl ${args[0]} failed: ${describeOutcome(r)} ${r.stderrTail.join(' ').trim()}`);
  };
  await Promise.all([
    // The CA certificate: the same subject and key on every host, so any host's CA certificate verifies any leaf.
    openssl('req', '-x509', '-new', '-key', 'ca-key.pem', '-out', 'ca.pem', '-days', '36500', '-subj', '/CN=mgmt cluster CA', '-sha256'),
    openssl('req', '-new', '-key', 'host-key.pem', '-out', 'host.csr', '-subj', `/CN=${hostname}`),
  ]);
  await openssl(
    'x509',
    '-req',
    '-in',
    'host.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca-key.pem',
    '-CAcreateserial',
    '-out',
    'host.pem',
    '-days',
    '3650',
    '-sha256',
    '-extfile',
    'host.ext',
  );
  write('stamp', stamp);
  return out;
}

/** The operator's files (peer TLS), checked for readability now rather than by etcd later. */
export function tlsFromFiles(files: { readonly cacert?: string; readonly cert?: string; readonly key?: string }): ClusterTls {
  const { cacert, cert, key } = files;
  if (!cacert || !cert || !key) throw new Error('--cluster with peer TLS needs --etcd-cacert, --etcd-cert and --etcd-key (or --cluster-secret-file)');
  for (const [flag, f] of [
    ['--etcd-cacert', cacert],
    ['--etcd-cert', cert],
    ['--etcd-key', key],
  ] as const) {
    try {
      readFileSync(f);
    } catch (e) {
      throw new Error(`${flag} ${f}: ${(e as Error).message}`);
    }
  }
  return { cacert, cert, key };
}
