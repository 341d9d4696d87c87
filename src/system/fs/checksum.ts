/**
 * The sha256 of a file's bytes, in hex: the backup bucket's object names, the `{sha256}` digests of content changes,
 * and the checksums the Puppet agent compares files served by Puppet Server with. One call, no hash object
 * (crypto.hash, Node >= 20.12): an overwrite repair computes up to two of them on its path (backup, change record).
 */
import { hash } from 'node:crypto';

export function sha256Hex(data: Uint8Array): string {
  return hash('sha256', data, 'hex');
}

/** Puppet's notation of a sha256 checksum, `{sha256}<hex>` (content changes in reports, file metadata, catalogs). */
export function sha256Digest(data: Uint8Array): string {
  return `{sha256}${sha256Hex(data)}`;
}

const DIGEST = /^\{sha256\}([0-9a-f]{64})$/;

/** The hex of a `{sha256}<hex>` checksum; undefined for any other notation (`{md5}`, `{mtime}`...). */
export function sha256OfDigest(checksum: string): string | undefined {
  return DIGEST.exec(checksum)?.[1];
}
