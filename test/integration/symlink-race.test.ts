// The symlink race of issue 11, item 1, as root: an unprivileged user (nobody) swaps the parent directory of managed
// paths for their own symlink to a directory root owns, in a tight loop (renameat2 RENAME_EXCHANGE from a python3
// child), while file, directory and line resources check and repair, over and over. Nothing may ever appear in the
// directory the link leads to. And the directory rule: a link is followed out of a directory only when root or the
// link's owner owns that directory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chownSync, existsSync, lchownSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileKind } from '../../src/resources/file/kind.js';
import { lineKind } from '../../src/resources/line.js';
import type { ResourceKind as Kind, Resource } from '../../src/resources/resource.js';
import { check, recordingContext } from '../harness/resource-context.js';

const NOBODY = 65534;
const RACE_MS = 3000;

const RACER = `
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD, RENAME_EXCHANGE = -100, 2
a, b, stop = sys.argv[1].encode(), sys.argv[2].encode(), sys.argv[3]
n = 0
print("ready", flush=True)
while not os.path.exists(stop):
    for _ in range(200):
        if libc.renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE) == 0:
            n += 1
print(n, flush=True)
`;

function make(kind: Kind, name: string, params: Record<string, unknown>): Resource {
  assert.deepEqual(kind.validate?.(name, params) ?? [], [], 'test resources must be valid');
  return kind.create(name, params, recordingContext(`${kind.kind}[${name}]`));
}

test('race: a parent swapped for a user symlink in a tight loop (renameat2 exchange) is never written through', { timeout: 60_000 }, async (t) => {
  const base = mkdtempSync(join(tmpdir(), 'mgmt-race-'));
  const stop = join(base, 'stop');
  try {
    const user = join(base, 'u');
    const d = join(user, 'd');
    const outside = join(base, 'outside'); // root's: the user may not lead us there
    mkdirSync(user);
    mkdirSync(d);
    mkdirSync(outside);
    writeFileSync(join(d, 'edit.conf'), 'a=1\n');
    for (const p of [user, d, join(d, 'edit.conf')]) chownSync(p, NOBODY, NOBODY);
    const link = join(user, 'l');
    symlinkSync(outside, link);
    lchownSync(link, NOBODY, NOBODY);

    const racer = spawn('python3', ['-c', RACER, d, link, stop], { stdio: ['ignore', 'pipe', 'inherit'] });
    const lines = createInterface({ input: racer.stdout });
    const out: string[] = [];
    const ready = new Promise<void>((resolve) =>
      lines.on('line', (l) => {
        out.push(l);
        if (l === 'ready') resolve();
      }),
    );
    const exited = new Promise<void>((resolve) => racer.on('close', () => resolve()));
    try {
      await ready;
      const f = join(d, 'setuid');
      const resources = [
        make(fileKind, f, { path: f, state: 'exists', content: 'one', mode: '4755' }),
        make(fileKind, f, { path: f, state: 'exists', content: 'two', mode: '4755' }),
        make(fileKind, `${d}/sub/`, { path: `${d}/sub/`, state: 'exists' }),
        make(fileKind, `${d}/sub/`, { path: `${d}/sub/`, state: 'absent', recurse: true }),
        make(lineKind, 'l', { path: join(d, 'edit.conf'), line: 'b=2', match: '^b=' }),
        make(lineKind, 'l2', { path: join(d, 'edit.conf'), line: 'b=3', match: '^b=' }),
      ];
      let checks = 0;
      let refused = 0;
      let failedOtherwise = 0;
      const end = performance.now() + RACE_MS;
      while (performance.now() < end) {
        for (const r of resources) {
          checks++;
          try {
            await check(r);
          } catch (e) {
            if (String(e).includes('refusing to follow the symlink')) refused++;
            else failedOtherwise++; // the path changed under a check (ENOENT, ELOOP...): a failure, not a write elsewhere
          }
        }
        assert.deepEqual(readdirSync(outside), [], 'nothing ever appears where the link leads');
      }
      writeFileSync(stop, '');
      await exited;
      const swaps = Number(out[1] ?? 0);
      t.diagnostic(
        `${checks} checks in ${RACE_MS} ms against ${swaps} exchanges: ${refused} refused at the link, ${failedOtherwise} failed as the path changed`,
      );
      assert.deepEqual(readdirSync(outside), []);
      assert.ok(swaps > 1000, `the racer swapped (${swaps})`);
      assert.ok(refused > 0, 'some checks met the link');
      assert.ok(checks - refused - failedOtherwise > 0, 'some checks met the directory and wrote there');
    } finally {
      if (!existsSync(stop)) writeFileSync(stop, '');
      if (racer.exitCode === null) racer.kill('SIGKILL');
      await exited;
    }
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test("a user's link in another user's directory is not followed, even to its own owner's directory", async () => {
  const base = mkdtempSync(join(tmpdir(), 'mgmt-race-'));
  try {
    const other = join(base, 'other'); // belongs to uid 65533, who did not make the link
    const mine = join(base, 'mine'); // nobody's
    mkdirSync(other);
    mkdirSync(mine);
    chownSync(other, 65533, 65533);
    chownSync(mine, NOBODY, NOBODY);
    symlinkSync(mine, join(other, 'l'));
    lchownSync(join(other, 'l'), NOBODY, NOBODY);
    const f = join(other, 'l', 'f');
    await assert.rejects(check(make(fileKind, f, { path: f, state: 'exists', content: 'x' })), /it belongs to uid 65534 but its directory to uid 65533/);
    assert.deepEqual(readdirSync(mine), []);
    // Made by the directory's owner instead, the same link is followed only to what that owner owns.
    lchownSync(join(other, 'l'), 65533, 65533);
    await assert.rejects(
      check(make(fileKind, f, { path: f, state: 'exists', content: 'x' })),
      /belongs to uid 65533, who may only lead us to what uid 65533 owns/,
    );
    chownSync(mine, 65533, 65533);
    assert.equal(await check(make(fileKind, f, { path: f, state: 'exists', content: 'x' })), false);
    assert.deepEqual(readdirSync(mine), ['f']);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});
