import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyMode, formatMode, parseMode, type ModeSpec } from '../../src/system/fs/file-mode.js';

function spec(s: string): ModeSpec {
  const m = parseMode(s);
  if (typeof m === 'string') throw new Error(m);
  return m;
}

function apply(s: string, cur: number, isDir = false): string {
  return formatMode(applyMode(spec(s), cur, isDir));
}

test('octal modes: 3 and 4 digits, with a leading zero, special bits', () => {
  assert.deepEqual(parseMode('644'), { kind: 'octal', mode: 0o644 });
  assert.deepEqual(parseMode('0644'), { kind: 'octal', mode: 0o644 });
  assert.deepEqual(parseMode('1777'), { kind: 'octal', mode: 0o1777 });
  assert.deepEqual(parseMode('4755'), { kind: 'octal', mode: 0o4755 });
  assert.deepEqual(parseMode('04755'), { kind: 'octal', mode: 0o4755 });
  assert.equal(apply('0600', 0o100644), '0600');
});

test('bad modes are rejected with an actionable message', () => {
  for (const bad of ['', '0888', '12345', '99', 'u', 'u=q', 'x=r', 'u=rw,,g=r', 'u+r-w', 'rw-r--r--']) {
    const m = parseMode(bad);
    assert.equal(typeof m, 'string', `"${bad}" should be rejected`);
    assert.match(m as string, /octal|symbolic/);
  }
  assert.match(parseMode('0888') as string, /8 and 9 are not octal/);
  assert.match(parseMode('u=q') as string, /unknown permission "q"/);
  assert.match(parseMode('u=rw,,g=r') as string, /stray comma/);
});

test('symbolic = assigns the named classes only', () => {
  assert.equal(apply('u=rw,go=r', 0o777), '0644');
  assert.equal(apply('u=rwx,g=rx,o=', 0o000), '0750');
  assert.equal(apply('go=', 0o755), '0700');
  assert.equal(apply('a=r', 0o4755), '0444');
  assert.equal(apply('=rw', 0o000), '0666');
});

test('symbolic + and - add and remove bits', () => {
  assert.equal(apply('a+x', 0o644), '0755');
  assert.equal(apply('+x', 0o600), '0711');
  assert.equal(apply('o-w', 0o666), '0664');
  assert.equal(apply('go-rwx', 0o755), '0700');
  assert.equal(apply('u+x,g-w', 0o664), '0744');
});

test('special bits: s through u/g, t through o (GNU chmod rules)', () => {
  assert.equal(apply('u+s', 0o755), '4755');
  assert.equal(apply('g+s', 0o755), '2755');
  assert.equal(apply('+t', 0o777), '1777');
  assert.equal(apply('o+t', 0o777), '1777');
  assert.equal(apply('u+t', 0o777), '0777');
  assert.equal(apply('o+s', 0o777), '0777');
  assert.equal(apply('u-s', 0o4755), '0755');
});

test('X is execute only for directories or when some execute bit is set', () => {
  assert.equal(apply('a+X', 0o644, false), '0644');
  assert.equal(apply('a+X', 0o744, false), '0755');
  assert.equal(apply('a+X', 0o600, true), '0711');
  assert.equal(apply('u=rwX,go=rX', 0o600, true), '0755');
  assert.equal(apply('u=rwX,go=rX', 0o600, false), '0644');
});

test('= keeps set-uid/set-gid on directories unless s is named', () => {
  assert.equal(apply('u=rwx,go=rx', 0o2775, true), '2755');
  assert.equal(apply('u=rwx,go=rx', 0o2775, false), '0755');
  assert.equal(apply('g=rxs', 0o775, true), '2755');
});

test('applyMode ignores file type bits of the current mode', () => {
  assert.equal(applyMode(spec('u+x'), 0o100644, false), 0o744);
  assert.equal(applyMode(spec('0644'), 0o40755, true), 0o644);
});
