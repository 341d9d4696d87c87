/**
 * A node's Puppet TLS identity, read from its ssldir as the Puppet agent keeps it: the CA at `certs/ca.pem`, the
 * node's certificate at `certs/CERTNAME.pem` and its private key at `private_keys/CERTNAME.pem`. Switching a node to
 * mgmt reuses these files: no new certificate.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { errorText, isErrno } from '../../observe/errors.js';

export interface PuppetSsl {
  readonly certname: string;
  /** PEM texts. */
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
  /** Where they were read from, for messages. */
  readonly ssldir: string;
}

export class PuppetSslError extends Error {
  override readonly name = 'PuppetSslError';
}

/** Puppet's certnames: lower-case letters, digits, dots, dashes and underscores (Puppet refuses others). */
const CERTNAME = /^[a-z0-9._-]+$/;

/**
 * Reads the identity of `certname` from `ssldir`. Without a certname, the only node certificate under `certs/`
 * (every file but ca.pem) is taken; with none or several, the error says to pass one.
 */
export function readPuppetSsl(ssldir: string, certname?: string): PuppetSsl {
  const name = certname ?? onlyCertname(ssldir);
  if (!CERTNAME.test(name)) throw new PuppetSslError(`${JSON.stringify(name)} is not a Puppet certname (lower-case letters, digits, '.', '-', '_')`);
  const read = (rel: string, what: string) => {
    const path = join(ssldir, rel);
    try {
      return readFileSync(path, 'utf8');
    } catch (e) {
      const hint = isErrno(e, 'ENOENT')
        ? `: is ${ssldir} the agent's ssldir (puppet config print ssldir), and ${name} its certname (puppet config print certname)?`
        : isErrno(e, 'EACCES')
          ? ': run as the user the Puppet agent runs as (root)'
          : '';
      throw new PuppetSslError(`cannot read ${what} ${path}: ${errorText(e)}${hint}`);
    }
  };
  return {
    certname: name,
    ca: read(join('certs', 'ca.pem'), 'the CA certificate'),
    cert: read(join('certs', `${name}.pem`), 'the node certificate'),
    key: read(join('private_keys', `${name}.pem`), 'the private key'),
    ssldir,
  };
}

function onlyCertname(ssldir: string): string {
  let names: string[];
  try {
    names = readdirSync(join(ssldir, 'certs'))
      .filter((f) => f.endsWith('.pem') && f !== 'ca.pem')
      .map((f) => f.slice(0, -'.pem'.length));
  } catch (e) {
    throw new PuppetSslError(`cannot list ${join(ssldir, 'certs')}: ${errorText(e)}: give the agent's ssldir (puppet config print ssldir)`);
  }
  const [only, ...more] = names;
  if (only === undefined) throw new PuppetSslError(`${join(ssldir, 'certs')} holds no node certificate: has this node been signed (puppet agent -t)?`);
  if (more.length)
    throw new PuppetSslError(`${join(ssldir, 'certs')} holds ${names.length} node certificates (${names.sort().join(', ')}): say which with --certname`);
  return only;
}
