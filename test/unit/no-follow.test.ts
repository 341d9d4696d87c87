// Reading a file that someone else may have replaced (src/system/fs/no-follow.ts): what a file resource reads of the
// file it is about to rewrite (for the change record's digest and the backup) never comes through a symlink put in
// its place, and a FIFO put there is refused at once instead of blocking the engine.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { symlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { readRegularSync } from '../../src/system/fs/no-follow.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mgmt-no-follow-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('readRegularSync', () => {
  it('reads a regular file, byte for byte', () => {
    const f = join(dir, 'motd');
    const data = Buffer.from([0, 1, 2, 255, 10]);
    writeFileSync(f, data);
    assert.deepEqual(readRegularSync(f), data);
  });

  it('refuses a symlink in the file’s place, without reading its target', () => {
    const secret = join(dir, 'secret');
    writeFileSync(secret, 's3cr3t');
    const f = join(dir, 'motd');
    symlinkSync(secret, f);
    assert.throws(
      () => readRegularSync(f),
      (e: NodeJS.ErrnoException) => e.code === 'ELOOP',
    );
  });

  it('refuses a FIFO in the file’s place at once (no writer: an open without O_NONBLOCK would block forever)', () => {
    const f = join(dir, 'motd');
    execFileSync('mkfifo', [f]);
    const t0 = performance.now();
    assert.throws(() => readRegularSync(f), /is no longer a regular file/);
    assert.ok(performance.now() - t0 < 1000);
  });
});
