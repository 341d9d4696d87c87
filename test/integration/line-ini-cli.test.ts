// The line and ini kinds through the real CLI on temp files: a graph with a file, lines and settings applied to
// convergence, noop changing nothing, drift by hand repaired while `mgmt run` runs, and a Puppet manifest with
// file_line/ini_setting/concat run by `mgmt puppet` natively (no Puppet worker apply).
import assert from 'node:assert/strict';
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { mgmt, mgmtRun, waitUntil, scratchDirPerTest } from '../harness/cli.js';

let dir = '';
scratchDirPerTest('mgmt-line-ini-cli-', (d) => (dir = d));

const graph = () => `graph: g
resources:
  file:
  - {name: conf, path: ${dir}/conf/, state: exists}
  - {name: sshd, path: ${dir}/conf/sshd_config, state: exists, mode: "0600"}
  line:
  - {name: root, path: ${dir}/conf/sshd_config, line: PermitRootLogin no, match: '^#?PermitRootLogin'}
  - {name: port, path: ${dir}/conf/sshd_config, line: Port 2222}
  ini:
  - {name: level, path: ${dir}/conf/app.ini, section: log, setting: level, value: debug}
  - {name: top, path: ${dir}/conf/app.ini, setting: name, value: demo}
`;

const read = (p: string) => readFileSync(join(dir, p), 'utf8');
/** A hand edit as editors save: a new file renamed over the old (an in-place truncate and write could be read half done). */
const edit = (p: string, text: string) => {
  writeFileSync(join(dir, `${p}.tmp`), text);
  renameSync(join(dir, `${p}.tmp`), join(dir, p));
};

describe('line and ini through mgmt run', () => {
  it('noop changes nothing, apply converges, a second run changes nothing', async () => {
    const g = join(dir, 'g.yaml');
    writeFileSync(g, graph());
    const noop = await mgmtRun(['run', '--yaml', g, '--converged-timeout', '0', '--tmp-prefix', '--noop']);
    assert.equal(noop.code, 0, noop.stderr);
    assert.throws(() => statSync(join(dir, 'conf')), /ENOENT/);
    assert.match(noop.stderr, /line\[port\]: would add the line to .*sshd_config, which does not exist \(yet\)/);

    const r = await mgmtRun(['run', '--yaml', g, '--converged-timeout', '0', '--tmp-prefix']);
    assert.equal(r.code, 0, r.stderr);
    const sshd = read('conf/sshd_config').split('\n');
    assert.deepEqual(sshd.slice().sort(), ['', 'PermitRootLogin no', 'Port 2222']);
    assert.equal(statSync(join(dir, 'conf/sshd_config')).mode & 0o7777, 0o600);
    assert.equal(read('conf/app.ini'), 'name = demo\n\n[log]\nlevel = debug\n');

    const again = await mgmtRun(['run', '--yaml', g, '--converged-timeout', '0', '--tmp-prefix']);
    assert.equal(again.code, 0, again.stderr);
    assert.doesNotMatch(again.stderr, /edited/);
  });

  it('repairs hand edits while it runs', async () => {
    const g = join(dir, 'g.yaml');
    writeFileSync(g, graph());
    const c = mgmt(['run', '--yaml', g, '--tmp-prefix']);
    const done = () => {
      try {
        return read('conf/app.ini') === 'name = demo\n\n[log]\nlevel = debug\n' && read('conf/sshd_config').includes('Port 2222\n');
      } catch {
        return false;
      }
    };
    await waitUntil(done, 10_000, 'first apply');
    edit('conf/sshd_config', '#PermitRootLogin yes\nUsePAM yes\n');
    await waitUntil(() => read('conf/sshd_config') === 'PermitRootLogin no\nUsePAM yes\nPort 2222\n', 5000, 'line drift repaired');
    edit('conf/app.ini', '# mine\nname = other\n[log]\nlevel = info\n');
    await waitUntil(() => read('conf/app.ini') === '# mine\nname = demo\n[log]\nlevel = debug\n', 5000, 'ini drift repaired');
    await c.waitForLog(/ini\[level\]: edited .*app\.ini: value of level changed in section log/);
    c.child.kill('SIGTERM');
    assert.equal(await c.exited, 0);
  });
});

describe('file_line, ini_setting and concat through mgmt puppet', () => {
  it('are translated natively and applied without Puppet applying anything', { timeout: 120_000 }, async () => {
    writeFileSync(join(dir, 'hosts'), '127.0.0.1 localhost\n');
    const pp = join(dir, 'site.pp');
    writeFileSync(
      pp,
      `file_line { 'h': path => '${dir}/hosts', line => '10.0.0.1 db', after => '^127' }
ini_setting { 's': path => '${dir}/a.ini', section => 'main', setting => 'k', value => 'v' }
concat { '${dir}/motd': warn => true }
concat::fragment { 'm': target => '${dir}/motd', content => "hello\\n" }
`,
    );
    const facts = join(dir, 'facts.json');
    writeFileSync(facts, JSON.stringify({ kernel: 'Linux' }));
    const r = await mgmtRun(['puppet', '--manifest', pp, '--facts', facts, '--converged-timeout', '0', '--tmp-prefix']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(read('hosts'), '127.0.0.1 localhost\n10.0.0.1 db\n');
    assert.equal(read('a.ini'), '[main]\nk = v\n');
    assert.equal(read('motd'), '# This file is managed by Puppet. DO NOT EDIT.\nhello\n');
    assert.doesNotMatch(r.stderr, /puppet\[/, 'nothing went to the Puppet fallback');
  });
});
