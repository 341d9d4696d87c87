/**
 * The sha256 of a file's bytes, in hex: the backup bucket's object names, the `{sha256}` digests of content changes,
 * and the checksums the Puppet agent compares files served by Puppet Server with. One call, no hash object
 * (crypto.hash, Node >= 20.12): a drift repair computes two of them on its path.
 */
import { hash } from 'node:crypto';

export function sha256Hex(data: Uint8Array): string {
  return hash('sha256', data, 'hex');
}
