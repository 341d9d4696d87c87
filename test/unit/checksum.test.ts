// Checksums in hex and in Puppet's `{sha256}<hex>` notation (src/system/fs/checksum.ts): what reports carry for a
// content change, and what the agent compares files served by Puppet Server with.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { sha256Digest, sha256Hex, sha256OfDigest } from '../../src/system/fs/checksum.js';

const data = Buffer.from('managed by mgmt-ts\n');
const hex = createHash('sha256').update(data).digest('hex');

test('sha256Hex and sha256Digest agree with a hash object, in hex and in Puppet notation', () => {
  assert.equal(sha256Hex(data), hex);
  assert.equal(sha256Digest(data), `{sha256}${hex}`);
});

test('sha256OfDigest reads back only a well-formed {sha256} checksum', () => {
  assert.equal(sha256OfDigest(sha256Digest(data)), hex);
  for (const other of [
    `{md5}${hex.slice(0, 32)}`,
    `{mtime}2026-12-07 04:00:00 +0000`,
    hex,
    `{sha256}${hex.toUpperCase()}`,
    `{sha256}${hex}\n`,
    `{sha256}${hex.slice(1)}`,
    '',
  ]) {
    assert.equal(sha256OfDigest(other), undefined, JSON.stringify(other));
  }
});
