import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileCatalog } from '../../src/puppet/runtime/face-runner.js';
import { isRunning } from '../../src/system/proc/launcher.js';
import { mgmt } from '../harness/cli.js';

/**
 * A stand-in for `puppet`: it starts a child of its own (as Puppet starts facter and friends), records both pids,
 * and hangs. What the face runner must guarantee: cancelling the compile leaves neither behind.
 */
async function hangingPuppet(dir: string): Promise<{ bin: string; pids: () => Promise<number[]> }> {
  const bin = join(dir, 'puppet');
  const pidFile = join(dir, 'pids');
  await writeFile(bin, `#!/bin/sh\nsleep 60 &\necho "$$ $!" > ${pidFile}.tmp && mv ${pidFile}.tmp ${pidFile}\necho compiling >&2\nwait\n`);
  await chmod(bin, 0o755);
  const pids = async () =>
    (await readFile(pidFile, 'utf8').catch(() => ''))
      .trim()
      .split(' ')
      .filter((p) => p !== '')
      .map(Number);
  return { bin, pids };
}

test('a compile that times out leaves no process behind: Puppet and what it started are killed with its group', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mgmt-face-test-'));
  try {
    const fake = await hangingPuppet(dir);
    const started = Date.now();
    const res = await compileCatalog({ code: 'notice(1)', puppetBin: fake.bin, signal: AbortSignal.timeout(500) });
    assert.equal(res.ok, false);
    assert.equal(res.code, null);
    assert.match(res.stderr, /compiling\npuppet timed out\n$/);
    assert.ok(Date.now() - started < 5000, 'the compile was stopped, not waited for');
    const pids = await fake.pids();
    assert.equal(pids.length, 2, 'the fake puppet recorded its pid and its child');
    for (const pid of pids) assert.equal(isRunning(pid), false, `process ${pid} outlived the compile`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a cancelled compile is a failure that says so', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mgmt-face-test-'));
  try {
    const fake = await hangingPuppet(dir);
    const ac = new AbortController();
    const pending = compileCatalog({ code: 'notice(1)', puppetBin: fake.bin, signal: ac.signal });
    while ((await fake.pids()).length < 2) await new Promise((r) => setTimeout(r, 10));
    ac.abort();
    const res = await pending;
    assert.equal(res.ok, false);
    assert.match(res.stderr, /puppet was cancelled\n$/);
    for (const pid of await fake.pids()) assert.equal(isRunning(pid), false, `process ${pid} outlived the compile`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a puppet that cannot be found is a failure naming it', async () => {
  const res = await compileCatalog({ code: 'notice(1)', puppetBin: '/nonexistent/puppet' });
  assert.equal(res.ok, false);
  assert.match(res.stderr, /^cannot run \/nonexistent\/puppet: command not found/);
});

test("mgmt puppet translate stops the compile on SIGINT (Puppet is out of the terminal's reach in its own group)", async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mgmt-face-test-'));
  try {
    const fake = await hangingPuppet(dir);
    const cli = mgmt(['puppet', 'translate', '--code', 'notice(1)', '--puppet-bin', fake.bin]);
    while ((await fake.pids()).length < 2) await new Promise((r) => setTimeout(r, 10));
    cli.child.kill('SIGINT');
    assert.equal(await cli.exited, 130, cli.stderr());
    assert.match(cli.stderr(), /SIGINT: the compile was stopped/);
    for (const pid of await fake.pids()) assert.equal(isRunning(pid), false, `process ${pid} outlived mgmt`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
