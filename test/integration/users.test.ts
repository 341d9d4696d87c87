// The user and group kinds through the real CLI on this machine's own accounts: create, change, drift repair,
// noop and removal. Every account this file creates is named `mgmtt<suffix>...` and removed at the end, even on
// failure. It needs root (the shadow tools edit /etc/passwd); otherwise it is skipped with the reason.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseGroup, parsePasswd, supplementaryGroups } from '../../src/system/tools/shadow.js';
import { SYSTEM_TOOL_PATH } from '../../src/system/tools/tool-path.js';
import { killAll, mgmt, mgmtRun, waitUntil } from '../harness/cli.js';

const skip =
  process.getuid?.() !== 0
    ? 'needs root: the shadow tools edit /etc/passwd'
    : !existsSync('/usr/sbin/useradd')
      ? 'useradd is not installed (Debian package "passwd")'
      : undefined;

const sfx = randomBytes(3).toString('hex');
const USER = `mgmtt${sfx}`;
const G1 = `mgmttg${sfx}`;
const G2 = `mgmttx${sfx}`;
const OTHER = `mgmtto${sfx}`; // a group the user is put in by hand: membership minimum keeps it

/** An id no account uses yet, above the range useradd picks from. */
function freeId(file: string, from: number): number {
  const used = new Set(
    readFileSync(file, 'utf8')
      .split('\n')
      .map((l) => Number(l.split(':')[2])),
  );
  let id = from + (randomBytes(2).readUInt16BE() % 2000);
  while (used.has(id) || used.has(id + 1)) id += 2;
  return id;
}
const UID = freeId('/etc/passwd', 61000);
const GID = freeId('/etc/group', 61000);

const tool = (...argv: string[]) => spawnSync(argv[0]!, argv.slice(1), { env: { PATH: SYSTEM_TOOL_PATH, LC_ALL: 'C' }, encoding: 'utf8' });
const passwd = () => parsePasswd(readFileSync('/etc/passwd', 'utf8')).find((u) => u.name === USER);
const groups = () => parseGroup(readFileSync('/etc/group', 'utf8'));
const group = (n: string) => groups().find((g) => g.name === n);

let dir = '';
function cleanup(): void {
  killAll();
  if (skip) return;
  if (passwd()) tool('userdel', USER);
  for (const g of [G1, G2, OTHER, USER]) if (group(g)) tool('groupdel', g);
}

describe('user and group through mgmt run', { skip }, () => {
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mgmt-users-'));
  });
  after(async () => {
    cleanup();
    await rm(dir, { recursive: true, force: true });
    assert.equal(passwd(), undefined, `cleanup left user ${USER}`);
    for (const g of [G1, G2, OTHER]) assert.equal(group(g), undefined, `cleanup left group ${g}`);
  });

  const graph = (user: string, extra = '') =>
    `graph: users
resources:
  group:
  - {name: ${G1}, state: exists, gid: ${GID}}
  - {name: ${G2}, state: exists}${extra}
  user:
  - {name: ${USER}, ${user}}
`;
  const write = (text: string) => {
    const f = join(dir, `g-${randomBytes(3).toString('hex')}.yaml`);
    writeFileSync(f, text);
    return f;
  };
  const runOnce = async (text: string, ...flags: string[]) => {
    const r = await mgmtRun(['run', '--yaml', write(text), '--converged-timeout', '0', '--tmp-prefix', ...flags]);
    assert.equal(r.code, 0, r.stderr);
    return r.stderr;
  };

  it('creates groups and a user (the user after its groups), then changes uid, shell and groups', async () => {
    const home = join(dir, 'home');
    const log = await runOnce(
      graph(`state: exists, uid: ${UID}, group: ${G1}, groups: [${G2}], homedir: ${home}, managehome: true, shell: /bin/sh, comment: 'mgmt test'`),
    );
    assert.deepEqual(passwd(), { name: USER, uid: UID, gid: GID, comment: 'mgmt test', home, shell: '/bin/sh' });
    assert.deepEqual(supplementaryGroups(groups(), USER), [G2]);
    assert.ok(existsSync(home), 'managehome created the home directory');
    assert.ok(log.indexOf(`group[${G1}]: created`) < log.indexOf(`user[${USER}]: created`), log);

    // Someone adds the user to another group by hand; membership minimum (the default) keeps it.
    assert.equal(tool('groupadd', OTHER).status, 0);
    assert.equal(tool('usermod', '--append', '--groups', OTHER, USER).status, 0);
    const changed = await runOnce(graph(`state: exists, uid: ${UID + 1}, gid: ${GID}, groups: [${G1}, ${G2}], homedir: ${home}, shell: /bin/bash`));
    assert.match(changed, new RegExp(`user\\[${USER}\\]: uid ${UID} -> ${UID + 1}, added to groups ${G1}, shell /bin/sh -> /bin/bash`));
    assert.deepEqual(passwd(), { name: USER, uid: UID + 1, gid: GID, comment: 'mgmt test', home, shell: '/bin/bash' });
    assert.deepEqual(supplementaryGroups(groups(), USER), [G1, G2, OTHER].sort());

    // inclusive: the list is exact.
    await runOnce(graph(`state: exists, groups: [${G2}], membership: inclusive`));
    assert.deepEqual(supplementaryGroups(groups(), USER), [G2]);
  });

  it('noop reports and changes nothing', async () => {
    const before = readFileSync('/etc/passwd', 'utf8');
    const log = await runOnce(graph(`state: exists, shell: /usr/sbin/nologin, uid: ${UID + 5}`), '--noop');
    assert.match(log, new RegExp(`user\\[${USER}\\]: would change uid ${UID + 1} -> ${UID + 5}, shell /bin/bash -> /usr/sbin/nologin`));
    assert.equal(readFileSync('/etc/passwd', 'utf8'), before);
  });

  it('repairs drift while running: a shell changed by hand, a user deleted by hand', async (t) => {
    const c = mgmt(['run', '--yaml', write(graph(`state: exists, uid: ${UID + 1}, gid: ${GID}, shell: /bin/bash`)), '--tmp-prefix', '-v']);
    try {
      // Watches are up before the first check (-v logs each check).
      await c.waitForLog(new RegExp(`user\\[${USER}\\]: check/apply: ok`), 10_000);
      await c.waitForLog(new RegExp(`group\\[${G2}\\]: check/apply: ok`), 10_000);

      // Timed from before the hand-run tool starts (mgmt may repair before the tool has even exited).
      let t0 = performance.now();
      assert.equal(tool('usermod', '--shell', '/bin/sh', USER).status, 0);
      await waitUntil(() => passwd()?.shell === '/bin/bash', 5000, 'shell drift repaired');
      const shellMs = performance.now() - t0;

      t0 = performance.now();
      assert.equal(tool('userdel', USER).status, 0);
      await waitUntil(() => passwd() !== undefined, 5000, 'deleted user re-created');
      await waitUntil(() => passwd()?.shell === '/bin/bash' && passwd()?.uid === UID + 1, 2000, 'deleted user re-created as declared');
      const deleteMs = performance.now() - t0;

      t0 = performance.now();
      assert.equal(tool('groupdel', G2).status, 0);
      await waitUntil(() => group(G2) !== undefined, 5000, 'deleted group re-created');
      const groupMs = performance.now() - t0;
      t.diagnostic(`drift repair: shell ${shellMs.toFixed(0)} ms, deleted user ${deleteMs.toFixed(0)} ms, deleted group ${groupMs.toFixed(0)} ms`);
      // Re-created from the graph, which does not give a comment or a home.
      assert.deepEqual(passwd(), { name: USER, uid: UID + 1, gid: GID, comment: '', home: `/home/${USER}`, shell: '/bin/bash' });
    } finally {
      c.child.kill('SIGTERM');
      assert.equal(await c.exited, 0, c.stderr());
    }
  });

  it('absent removes the user before its groups', async () => {
    const log = await runOnce(`graph: users
resources:
  group:
  - {name: ${G1}, state: absent}
  - {name: ${G2}, state: absent}
  user:
  - {name: ${USER}, state: absent, group: ${G1}, groups: [${G2}]}
`);
    assert.equal(passwd(), undefined);
    assert.equal(group(G1), undefined);
    assert.equal(group(G2), undefined);
    assert.ok(log.indexOf(`user[${USER}]: removed`) < log.indexOf(`group[${G1}]: removed`), log);
    // Already absent: nothing to do.
    const again = await runOnce(`graph: users\nresources:\n  user:\n  - {name: ${USER}, state: absent}\n`);
    assert.doesNotMatch(again, /removed/);
  });
});
