// exec's `user` and `group`: the command runs as that uid and gid. Needs root (setuid); the rest of exec's tests
// are in test/unit/exec.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execKind, type ExecParams } from '../../src/resources/exec.js';
import type { Resource, ResourceContext } from '../../src/resources/resource.js';
import { check, recordingContext, type RecordingContext } from '../harness/resource-context.js';

type Params = ExecParams;

/** The registry's kinds take loosely typed parameters, as the engine passes them from a graph spec. */
const loose = (p: Params): Readonly<Record<string, unknown>> => p;

function make(params: Params, name = 'test', ctx: ResourceContext = recordingContext(`exec[${name}]`)): Resource {
  return execKind.create(name, loose(params), ctx);
}

/** A resource plus the log lines it wrote. */
function made(params: Params, name = 'test'): { r: Resource; ctx: RecordingContext } {
  const ctx = recordingContext(`exec[${name}]`);
  return { r: make(params, name, ctx), ctx };
}

const stdout = (ctx: RecordingContext) => ctx.lines.filter((l) => l.startsWith('info: stdout: ')).map((l) => l.slice('info: stdout: '.length));

test('user runs as that uid with its primary group; group overrides the gid', { skip: process.getuid?.() !== 0 && 'needs root' }, async () => {
  const a = made({ shell: 'sh', cmd: 'id -u; id -g', user: 'nobody' });
  await check(a.r);
  assert.deepEqual(stdout(a.ctx), ['65534', '65534']);
  const b = made({ shell: 'sh', cmd: 'id -u; id -g', user: 'nobody', group: 'daemon' });
  await check(b.r);
  assert.deepEqual(stdout(b.ctx), ['65534', '1']);
  await assert.rejects(check(make({ cmd: 'true', user: 'no-such-user-xyz' })), /no such user 'no-such-user-xyz'/);
});

test('under noop, a user or group the run has not created yet: the plan is reported without running the guards', async () => {
  const a = made({ cmd: 'true', user: 'no-such-user-xyz', nifcmd: 'false', ifcmd: 'true' });
  assert.equal(await check(a.r, { apply: false }), false);
  assert.deepEqual(a.ctx.lines, [`info: would run: true (as user 'no-such-user-xyz', not yet created; ifcmd and nifcmd not run)`]);
  const b = made({ cmd: 'true', user: 'nobody', group: 'no-such-group-xyz' });
  assert.equal(await check(b.r, { apply: false }), false);
  assert.deepEqual(b.ctx.lines, [`info: would run: true (as group 'no-such-group-xyz', not yet created)`]);
  // `creates` needs no account: a path that exists still says the state is right.
  assert.equal(await check(make({ cmd: 'true', user: 'no-such-user-xyz', creates: '/' }), { apply: false }), true);
  // Applying, the account must exist by then (the autoedge orders its user and group first).
  await assert.rejects(check(b.r), /no such group 'no-such-group-xyz'/);
});
