// The launcher's uid/gid options: the command runs as the given ids. Needs root (setuid); the rest of the
// launcher's tests are in test/unit/launcher.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { run, type OutputStream } from '../../src/system/proc/launcher.js';

type Line = [OutputStream, string];

function collect(): { lines: Line[]; onLine: (s: OutputStream, l: string) => void } {
  const lines: Line[] = [];
  return { lines, onLine: (s, l) => lines.push([s, l]) };
}

test('uid/gid: the command runs as the given ids (we are root)', { skip: process.getuid?.() !== 0 && 'needs root' }, async () => {
  const c = collect();
  const r = await run({ command: { shell: 'sh', cmd: 'id -u; id -g; id -G' }, uid: 65534, gid: 65534 }, c.onLine);
  assert.equal(r.code, 0);
  assert.deepEqual(
    c.lines.map(([, l]) => l),
    ['65534', '65534', '65534'],
  );
});
