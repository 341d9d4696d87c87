// The crontab:entry kind through the real CLI, the real crontab(1) and real users this file creates (and removes,
// with their crontabs, even on failure): create, noop, change, absent, drift repair by hand (with its latency
// measured), and equivalence with Puppet's own cron type: the same manifest applied by `puppet apply` for one user
// and by `mgmt puppet` for another leaves the same entries; mgmt takes over what Puppet wrote without duplicates,
// and Puppet finds what mgmt wrote in sync.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CRONTAB_SPOOL } from '../../src/system/tools/crontab.js';
import { killAll, mgmt, mgmtRun, waitUntil } from '../harness/cli.js';
import { killPuppetApplies, PUPPET, puppetApply as hermeticApply } from '../harness/puppet-apply.js';
import { realUser, whyNoRealUsers, type RealUser } from '../harness/scratch-accounts.js';

/** `puppet apply` logging changes (notice). */
const puppetApply = (work: string, manifest: string) => hermeticApply(work, manifest, { logLevel: 'notice' });

const skip = whyNoRealUsers() ?? (spawnSync('crontab', ['-V']).error ? 'crontab is not installed (Debian package "cron"; npm test installs it)' : undefined);

const users: RealUser[] = [];
let dir = '';

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mgmt-crontab-'));
});
after(async () => {
  killAll();
  killPuppetApplies();
  for (const u of users.splice(0)) u.remove();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function newUser(): string {
  const u = realUser('mgmtc');
  users.push(u);
  return u.name;
}

const crontabL = (user: string): string => {
  const r = spawnSync('crontab', ['-l', '-u', user], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin', LC_ALL: 'C' } });
  if (r.status !== 0 && r.stderr.includes('no crontab')) return '';
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
};
/** Installs a crontab by hand, as `crontab -e` would. */
const install = (user: string, text: string): void => {
  const f = join(dir, `by-hand-${user}`);
  writeFileSync(f, text);
  const r = spawnSync('crontab', ['-u', user, f], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
};
/** The spool file, read directly (cheap enough to poll). */
const spool = (user: string): string => {
  try {
    return readFileSync(join(CRONTAB_SPOOL, user), 'utf8');
  } catch {
    return '';
  }
};

const OTHERS = '# my jobs\nMAILTO=me\n*/5 * * * * /usr/bin/unmanaged\n\n';

describe('crontab:entry through mgmt run', { skip }, () => {
  const graph = (user: string, extra: string) => `graph: cron
resources:
  crontab:entry:
${extra.replaceAll('@USER@', user)}`;
  const ENTRIES = `  - {name: c, user: '@USER@', command: /bin/true, hour: 2}
  - name: env
    user: '@USER@'
    command: /bin/echo hi
    minute: [0, 30]
    weekday: [mon, fri]
    month: jan
    environment: [MAILTO=root, PATH=/bin]
  - {name: sp, user: '@USER@', command: /bin/date, special: daily}
`;
  const BLOCKS = [
    '# Puppet Name: c\n* 2 * * * /bin/true\n',
    '# Puppet Name: env\nMAILTO=root\nPATH=/bin\n0,30 * * 1 1,5 /bin/echo hi\n',
    '# Puppet Name: sp\n@daily /bin/date\n',
  ];

  it('noop changes nothing; apply adds the entries after the other lines; a second run writes nothing; change and absent edit only the entry', async () => {
    const user = newUser();
    install(user, OTHERS);
    const g = join(dir, 'g.yaml');
    writeFileSync(g, graph(user, ENTRIES));

    const noop = await mgmtRun(['run', '--yaml', g, '--converged-timeout', '0', '--noop']);
    assert.equal(noop.code, 0, noop.stderr);
    assert.match(noop.stderr, new RegExp(`crontab:entry\\[c\\]: would add the entry "c" to ${user}'s crontab: \\* 2 \\* \\* \\*`));
    assert.equal(crontabL(user), OTHERS);

    const r = await mgmtRun(['run', '--yaml', g, '--converged-timeout', '0']);
    assert.equal(r.code, 0, r.stderr);
    const text = crontabL(user);
    // the other lines first, as they were; then the three entries, in the order they got the user's lock
    assert.ok(text.startsWith(OTHERS), text);
    assert.deepEqual([...split(text.slice(OTHERS.length)).blocks.values()].map((b) => `${b}\n`).sort(), [...BLOCKS].sort());
    assert.equal(text.length, OTHERS.length + BLOCKS.join('').length);
    assert.doesNotMatch(r.stderr, /\/bin\/(echo|true|date)/, 'commands are not logged');

    const before = statSync(join(CRONTAB_SPOOL, user));
    const again = await mgmtRun(['run', '--yaml', g, '--converged-timeout', '0']);
    assert.equal(again.code, 0, again.stderr);
    assert.doesNotMatch(again.stderr, /add|update|remove/);
    const afterStat = statSync(join(CRONTAB_SPOOL, user));
    assert.equal(afterStat.ino, before.ino, 'a run with nothing to do installs no crontab');

    writeFileSync(g, graph(user, ENTRIES.replace('hour: 2}', 'hour: 3, minute: "15"}').replace('[MAILTO=root, PATH=/bin]', '[PATH=/bin]')));
    const changed = await mgmtRun(['run', '--yaml', g, '--converged-timeout', '0']);
    assert.equal(changed.code, 0, changed.stderr);
    assert.match(changed.stderr, /crontab:entry\[c\]: update the entry "c" in .* minute "\*" → "15", hour "2" → "3"/);
    assert.match(changed.stderr, /crontab:entry\[env\]: update the entry "env" .*environment changed \(2 lines → 1 line\)/);
    const text2 = crontabL(user);
    assert.equal(text2, text.replace('* 2 * * * /bin/true', '15 3 * * * /bin/true').replace('MAILTO=root\nPATH=/bin\n', 'PATH=/bin\n'));

    writeFileSync(g, graph(user, `  - {name: c, user: '@USER@', state: absent}\n  - {name: sp, user: '@USER@', state: absent}\n`));
    const absent = await mgmtRun(['run', '--yaml', g, '--converged-timeout', '0']);
    assert.equal(absent.code, 0, absent.stderr);
    assert.equal(crontabL(user), `${OTHERS}${BLOCKS[1]!.replace('MAILTO=root\n', '')}`);
  });

  it('refuses to rewrite a crontab that is not UTF-8, and says what to do', async () => {
    const user = newUser();
    const f = join(dir, 'latin1');
    writeFileSync(f, Buffer.from('* * * * * /bin/echo caf\xe9\n', 'latin1'));
    assert.equal(spawnSync('crontab', ['-u', user, f]).status, 0);
    const g = join(dir, 'latin1.yaml');
    writeFileSync(g, graph(user, `  - {name: c, user: '@USER@', command: /bin/true}\n`));
    try {
      const r = await mgmtRun(['run', '--yaml', g, '--converged-timeout', '0']);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`${user}'s crontab is not valid UTF-8, so it is not edited; convert it`));
      assert.deepEqual(readFileSync(join(CRONTAB_SPOOL, user)).subarray(-5), Buffer.from('caf\xe9\n', 'latin1'));
    } finally {
      // Puppet's cron provider reads every crontab of the machine, and one that is not UTF-8 makes it skip every
      // cron resource ("provider prefetch failed"): do not leave it for the Puppet tests below.
      spawnSync('crontab', ['-r', '-u', user]);
    }
  });

  it('repairs an entry removed by hand (crontab -u USER FILE) while it runs, and its own install does not loop', async () => {
    const user = newUser();
    install(user, OTHERS);
    const g = join(dir, 'drift.yaml');
    writeFileSync(g, graph(user, `  - {name: c, user: '@USER@', command: /bin/true, hour: 2}\n`));
    const c = mgmt(['run', '--yaml', g]);
    const want = `${OTHERS}${BLOCKS[0]!}`;
    await waitUntil(() => crontabL(user) === want, 10_000, 'first apply');
    await c.waitForLog(/add the entry "c"/);
    const latencies: number[] = [];
    for (let i = 0; i < 5; i++) {
      install(user, OTHERS);
      const t0 = performance.now();
      await waitUntil(() => spool(user).includes('# Puppet Name: c\n'), 5000, `repair ${i + 1}`);
      latencies.push(performance.now() - t0);
      assert.equal(crontabL(user), want);
    }
    // Our own install is seen by the watch: one more check finds the entry right and writes nothing.
    const adds = () => c.stderr().match(/add the entry "c"/g)?.length ?? 0;
    // The log line of the last repair may reach our pipe after its install reached the spool file.
    await waitUntil(() => adds() >= 6, 5000, 'the last repair logged');
    const settled = adds();
    assert.equal(settled, 6);
    const ino = statSync(join(CRONTAB_SPOOL, user)).ino;
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(adds(), settled, 'no write after the repair');
    assert.equal(statSync(join(CRONTAB_SPOOL, user)).ino, ino, 'no crontab installed after the repair');
    c.child.kill('SIGTERM');
    assert.equal(await c.exited, 0);
    latencies.sort((a, b) => a - b);
    console.log(
      `# crontab drift repair latency (crontab -u by hand → entry back in the spool file), 5 runs: median ${latencies[2]!.toFixed(1)} ms, min ${latencies[0]!.toFixed(1)} ms, max ${latencies[4]!.toFixed(1)} ms`,
    );
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Puppet

/** A crontab split into the blocks named `# Puppet Name: X` (with their environment lines and entry) and every other line, in order. */
function split(text: string): { blocks: Map<string, string>; others: string[]; headers: string[] } {
  const blocks = new Map<string, string>();
  const others: string[] = [];
  const headers: string[] = [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  for (let i = 0; i < lines.length; i++) {
    const m = /^# Puppet Name: (.*)$/.exec(lines[i]!);
    if (!m) {
      (lines[i]!.startsWith('# HEADER:') ? headers : others).push(lines[i]!);
      continue;
    }
    const block = [lines[i]!];
    while (i + 1 < lines.length && /^\w+=/.test(lines[i + 1]!)) block.push(lines[++i]!);
    block.push(lines[++i] ?? '');
    assert.ok(!blocks.has(m[1]!), `two entries named ${m[1]}:\n${text}`);
    blocks.set(m[1]!, block.join('\n'));
  }
  return { blocks, others, headers };
}

const MANIFEST = `cron { 'c': command => '/bin/true', hour => 2, user => '@USER@' }
cron { 'env': command => '/bin/echo hi', minute => [0, 30], weekday => ['mon', 'Friday'], month => 'jan', monthday => '*/2', environment => ['MAILTO=root', 'PATH=/bin'], user => '@USER@' }
cron { 'sp': command => '/bin/date', special => 'daily', user => '@USER@' }
cron { 'named': name => 'nightly backup', command => '  /usr/bin/backup --all ', minute => 0, hour => '2-4', target => '@USER@' }
cron { 'changed': command => '/bin/changed', minute => 0, hour => 3, user => '@USER@' }
cron { 'gone': ensure => absent, user => '@USER@' }
`;
const BEFORE = `${OTHERS}# Puppet Name: gone\n@daily /bin/gone\n# Puppet Name: changed\n0 1 * * * /bin/changed\n`;

describe('crontab:entry and Puppet’s cron', { skip }, () => {
  let work = '';
  let facts = '';
  before(async () => {
    const probe = spawnSync(PUPPET, ['--version'], { encoding: 'utf8' });
    if (probe.error || probe.status !== 0)
      throw new Error(`puppet is not available (${probe.error?.message ?? probe.stderr}); install the Debian package "puppet"`);
    if (!existsSync('/usr/share/puppet/modules/cron_core')) throw new Error('cron_core is not installed (Debian package "puppet-module-puppetlabs-cron-core")');
    work = await mkdtemp(join(tmpdir(), 'mgmt-crontab-puppet-'));
    facts = join(work, 'facts.json');
    writeFileSync(facts, JSON.stringify({ kernel: 'Linux', os: { family: 'Debian' } }));
  });
  after(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  const manifestFor = (user: string): string => {
    const f = join(work, `${user}.pp`);
    writeFileSync(f, MANIFEST.replaceAll('@USER@', user));
    return f;
  };
  const mgmtPuppet = (manifest: string) => mgmtRun(['puppet', '--manifest', manifest, '--facts', facts, '--converged-timeout', '0', '--tmp-prefix']);

  it('the same manifest: puppet apply for one user and mgmt puppet for another leave the same entries and other lines', { timeout: 120_000 }, async () => {
    const [pu, mu] = [newUser(), newUser()];
    install(pu, BEFORE.replaceAll('@USER@', pu));
    install(mu, BEFORE.replaceAll('@USER@', mu));
    const [p, m] = await Promise.all([puppetApply(join(work, 'p'), manifestFor(pu)), mgmtPuppet(manifestFor(mu))]);
    assert.equal(p.code, 0, p.out);
    assert.doesNotMatch(p.out, /Skipping|could not read/, p.out);
    assert.equal(m.code, 0, m.stderr);
    assert.doesNotMatch(m.stderr, /puppet\[/, 'nothing went to the Puppet fallback');
    const byPuppet = split(crontabL(pu));
    const byMgmt = split(crontabL(mu));
    // Puppet writes four "# HEADER:" comment lines (with a time stamp) at the top of every crontab it writes; we
    // write none (and keep any that are there). They are comments: cron ignores them.
    assert.equal(byPuppet.headers.length, 4, byPuppet.headers.join('\n'));
    assert.equal(byMgmt.headers.length, 0);
    assert.deepEqual(byMgmt.others, byPuppet.others, 'the other lines, in order');
    assert.deepEqual(Object.fromEntries([...byMgmt.blocks].sort()), Object.fromEntries([...byPuppet.blocks].sort()));
    assert.deepEqual([...byMgmt.blocks.keys()].sort(), ['c', 'changed', 'env', 'nightly backup', 'sp']);
    // both kept the entry "changed" where it was, after the other lines
    assert.ok(crontabL(mu).startsWith(`${OTHERS}# Puppet Name: changed\n0 3 * * * /bin/changed\n`), crontabL(mu));

    // Puppet takes mgmt's entries back as they are: nothing to change.
    const back = await puppetApply(join(work, 'back'), manifestFor(mu));
    assert.equal(back.code, 0, back.out);
    assert.doesNotMatch(back.out, /Cron\[/, `puppet apply changed mgmt's entries:\n${back.out}`);
  });

  it('mgmt puppet takes over the entries a Puppet agent wrote: no duplicate, nothing written', { timeout: 120_000 }, async () => {
    const user = newUser();
    install(user, BEFORE.replaceAll('@USER@', user));
    const manifest = manifestFor(user);
    const p = await puppetApply(join(work, 'adopt'), manifest);
    assert.equal(p.code, 0, p.out);
    assert.match(p.out, /Cron\[c\]\/ensure: created/);
    const written = crontabL(user);
    const ino = statSync(join(CRONTAB_SPOOL, user)).ino;
    const m = await mgmtPuppet(manifest);
    assert.equal(m.code, 0, m.stderr);
    assert.doesNotMatch(m.stderr, /crontab:entry\[[^\]]*\]: (add|update|remove)/, m.stderr);
    assert.equal(crontabL(user), written, "Puppet's crontab is left exactly as it was (its HEADER lines too)");
    assert.equal(statSync(join(CRONTAB_SPOOL, user)).ino, ino, 'nothing was installed');
    assert.equal(split(written).blocks.size, 5);
  });
});
