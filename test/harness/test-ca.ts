/**
 * A throwaway certificate authority for tests, made with openssl in a directory: `ca.pem`/`ca-key.pem`, and
 * certificates it signs as `<name>.pem`/`<name>-key.pem`, each valid one day. The etcd and PuppetDB harnesses use it.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Key arguments of `openssl req`: P-256 (etcd) or RSA 2048 (what the JVM and Puppet take most readily). */
export const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'] as const;
export const RSA_KEY = ['-newkey', 'rsa:2048', '-nodes'] as const;

function openssl(dir: string, ...args: string[]): void {
  const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.stderr || r.error?.message}`);
}

/** Makes the CA (`ca.pem`, `ca-key.pem`) in `dir`, creating it. */
export function makeTestCa(dir: string, cn: string, key: readonly string[]): void {
  mkdirSync(dir, { recursive: true });
  openssl(dir, 'req', '-x509', ...key, '-keyout', 'ca-key.pem', '-out', 'ca.pem', '-days', '1', '-subj', `/CN=${cn}`);
}

/** Makes `<name>.pem` and `<name>-key.pem` for `cn`, signed by the CA in `dir`, with the X.509 extensions `ext`. */
export function signTestCert(dir: string, name: string, cn: string, ext: string, key: readonly string[]): void {
  writeFileSync(join(dir, `${name}.ext`), ext);
  openssl(dir, 'req', ...key, '-keyout', `${name}-key.pem`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
  openssl(
    dir,
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca-key.pem',
    '-CAcreateserial',
    '-out',
    `${name}.pem`,
    '-days',
    '1',
    '-extfile',
    `${name}.ext`,
  );
}
