/**
 * Each host's exports are bound to it by a signature: a host signs every value it writes to etcd (with the etcd
 * key, so a value cannot be moved to another host's or resource's key) with its own Ed25519 key, kept in its
 * state directory; collectors verify the signature and compare the signer with the key pinned for that host.
 *
 *   <state>/world/host.key            this host's private key (PKCS#8 PEM, mode 0600), made on first use
 *   <state>/world/hosts/<host>.pub    the public key pinned for each host (base64 of its SPKI DER)
 *
 * Pins are made on first sight (as ssh's known_hosts): the first signed export seen from a host pins its key, and
 * from then on an export of that host signed by any other key is refused. An operator who wants no first-sight
 * trust writes the pins before the hosts meet (`mgmt` prints nothing secret: the .pub files are public keys).
 * An unsigned value is refused.
 */
import { createPrivateKey, createPublicKey, generateKeyPair, generateKeyPairSync, type KeyObject, sign, verify } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { errnoCode, errorText } from '../observe/errors.js';

/** What a host signs its values with. */
export interface HostKey {
  /** Base64 of the public key's SPKI DER: what values carry and pins hold. */
  readonly publicKey: string;
  sign(data: Buffer): string;
}

function hostKeyOf(privateKey: KeyObject): HostKey {
  const publicKey = createPublicKey(privateKey).export({ format: 'der', type: 'spki' }).toString('base64');
  return { publicKey, sign: (data) => sign(null, data, privateKey).toString('base64') };
}

/** A key in memory only (tests, or a host without a state directory). */
export function newHostKey(): HostKey {
  return hostKeyOf(generateKeyPairSync('ed25519').privateKey);
}

/**
 * This host's key from `<dir>/host.key`, made (mode 0600, directory 0700) when there is none. Asynchronous: the
 * files and the key generation run off the event loop, while the etcd client connects.
 */
export async function loadOrCreateHostKey(dir: string): Promise<HostKey> {
  const file = join(dir, 'host.key');
  let pem: string | undefined;
  try {
    pem = await readFile(file, 'utf8');
  } catch (e) {
    if (errnoCode(e) !== 'ENOENT') throw new Error(`cannot read this host's signing key ${file}: ${errorText(e)}`, { cause: e });
  }
  if (pem !== undefined) {
    const key = createPrivateKey(pem);
    if (key.asymmetricKeyType !== 'ed25519') throw new Error(`${file} is not an Ed25519 private key; remove it to make a new one`);
    return hostKeyOf(key);
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const { privateKey } = await promisify(generateKeyPair)('ed25519');
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600, flag: 'wx' });
  await chmod(tmp, 0o600);
  await rename(tmp, file);
  return hostKeyOf(privateKey);
}

/** The bytes a host signs: the etcd key and the value's canonical JSON without its signature. */
export function signedBytes(etcdKey: string, body: string): Buffer {
  return Buffer.from(`${etcdKey}\n${body}`);
}

const publicKeys = new Map<string, KeyObject | string>();

/** Whether `signature` (base64) is `signer`'s (base64 SPKI DER) over `data`; a reason when not. */
export function checkSignature(signer: string, signature: string, data: Buffer): string | undefined {
  let key = publicKeys.get(signer);
  if (key === undefined) {
    try {
      const k = createPublicKey({ key: Buffer.from(signer, 'base64'), format: 'der', type: 'spki' });
      key = k.asymmetricKeyType === 'ed25519' ? k : 'the signer is not an Ed25519 public key';
    } catch (e) {
      key = `the signer is not a public key (${errorText(e)})`;
    }
    if (publicKeys.size > 10_000) publicKeys.clear();
    publicKeys.set(signer, key);
  }
  if (typeof key === 'string') return key;
  return verify(null, data, key, Buffer.from(signature, 'base64')) ? undefined : 'the signature does not match the value';
}

/** The keys pinned for each host (see the module comment), in `<dir>/hosts/`. */
export class HostPins {
  private readonly pins = new Map<string, string>();
  private dirMade = false;

  /** `memoryOnly`: nothing is read or written (a world without a state directory). */
  constructor(
    private readonly dir: string,
    private readonly onPinned: (host: string, file: string) => void = () => undefined,
    private readonly memoryOnly = false,
  ) {}

  private file(host: string): string {
    return join(this.dir, 'hosts', `${host}.pub`);
  }

  private makeDir(): void {
    if (this.dirMade) return;
    mkdirSync(join(this.dir, 'hosts'), { recursive: true, mode: 0o700 });
    this.dirMade = true;
  }

  /** Pins `publicKey` for `host` (this host's own key, at start): overwrites what was there. */
  pin(host: string, publicKey: string): void {
    this.pins.set(host, publicKey);
    if (this.memoryOnly) return;
    this.makeDir();
    writeFileSync(this.file(host), `${publicKey}\n`, { mode: 0o644 });
  }

  /** Undefined when `signer` may speak for `host` (pinned, or pinned now on first sight); else why not. */
  check(host: string, signer: string): string | undefined {
    let pinned = this.pins.get(host);
    if (pinned === undefined && this.memoryOnly) {
      this.pins.set(host, signer);
      return undefined;
    }
    if (pinned === undefined) {
      // First sight in this process: create the pin only if there is none (one exclusive create, which cannot
      // replace a pin written before, even at the same moment); else read the pin that is there.
      const file = this.file(host);
      try {
        this.makeDir();
        writeFileSync(file, `${signer}\n`, { mode: 0o644, flag: 'wx' });
        this.pins.set(host, signer);
        this.onPinned(host, file);
        return undefined;
      } catch (e) {
        if (errnoCode(e) !== 'EEXIST') return `cannot pin the key of host ${host} in ${file} (${errorText(e)})`;
      }
      try {
        pinned = readFileSync(file, 'utf8').trim();
      } catch (e) {
        return `cannot read the key pinned for host ${host} (${errorText(e)})`;
      }
      this.pins.set(host, pinned);
    }
    if (pinned === signer) return undefined;
    return `it is signed by a key that is not the one pinned for host ${host} (${this.file(host)}): another host wrote it; if ${host} got a new key on purpose, remove that file`;
  }
}
