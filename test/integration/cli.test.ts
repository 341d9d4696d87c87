import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isRunning } from '../../src/system/proc/launcher.js';
import { mgmt, mgmtRun, waitUntil, scratchDirPerTest } from '../harness/cli.js';

let dir = '';
scratchDirPerTest('mgmt-cli-test-', (d) => (dir = d));

const write = (name: string, text: string) => {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
};

describe('mgmt CLI', () => {
  it('runs a graph to convergence and exits 0', async () => {
    const g = write(
      'g.yaml',
      `graph: g
resources:
  file:
  - {name: d, path: ${dir}/out/, state: exists}
  - {name: f, path: ${dir}/out/f, state: exists, content: "hello\\n", mode: 0600}
`,
    );
    const r = await mgmtRun(['run', '--yaml', g, '--converged-timeout', '0', '--tmp-prefix']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(`${dir}/out/f`, 'utf8'), 'hello\n');
    assert.match(r.stderr, /^\d\d:\d\d:\d\d file\[f\]: /m);
  });

  it('--tmp-prefix: its directory goes at exit, but for the backups of what the run replaced', async () => {
    const tmp = join(dir, 'tmp');
    mkdirSync(tmp);
    const env = { TMPDIR: tmp };
    const fresh = write('fresh.yaml', `graph: g\nresources:\n  file: [{name: f, path: ${dir}/new, state: exists, content: "x\\n"}]\n`);
    const a = await mgmtRun(['run', '--yaml', fresh, '--converged-timeout', '0', '--tmp-prefix'], { env });
    assert.equal(a.code, 0, a.stderr);
    assert.deepEqual(readdirSync(tmp), [], 'nothing kept: the directory is gone');
    writeFileSync(join(dir, 'old'), 'before\n');
    const replace = write('replace.yaml', `graph: g\nresources:\n  file: [{name: f, path: ${dir}/old, state: exists, content: "after\\n"}]\n`);
    const b = await mgmtRun(['run', '--yaml', replace, '--converged-timeout', '0', '--tmp-prefix'], { env });
    assert.equal(b.code, 0, b.stderr);
    const [kept, ...more] = readdirSync(tmp);
    assert.ok(kept !== undefined && more.length === 0, readdirSync(tmp).join());
    assert.deepEqual(readdirSync(join(tmp, kept)), ['bucket'], 'only the backups stay');
    assert.match(b.stderr, new RegExp(`backups of what this run replaced are kept in ${join(tmp, kept, 'bucket')}`));
    const list = await mgmtRun(['bucket', 'list', '--prefix', join(tmp, kept)]);
    assert.match(list.stdout, new RegExp(`${dir}/old`));
  });

  it('accepts `mgmt run yaml FILE`, mgmt’s own spelling', async () => {
    const g = write('g.yaml', `graph: g\nresources:\n  file: [{name: f, path: ${dir}/f, state: exists}]\n`);
    const r = await mgmtRun(['run', 'yaml', g, '--converged-timeout', '0', '--tmp-prefix']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(existsSync(`${dir}/f`));
  });

  it('exits 1 when a resource fails, after the rest converged', async () => {
    const g = write('g.yaml', `graph: g\nresources:\n  exec: [{name: bad, cmd: 'false'}]\n  file: [{name: f, path: ${dir}/f, state: exists}]\n`);
    const r = await mgmtRun(['run', '--yaml', g, '--converged-timeout', '0', '--tmp-prefix']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /1 resource\(s\) failed: exec\[bad\]/);
    assert.match(r.stderr, /exec\[bad\]: still failing, was being retried; last error: 'false' exited with code 1/);
    assert.ok(existsSync(`${dir}/f`));
  });

  it('bad input: every error with its position, exit 1, nothing applied', async () => {
    const g = write(
      'bad.yaml',
      `graph: g
resources:
  file:
  - {name: ok, path: ${dir}/should-not-exist, state: exists}
  - {name: typo, path: ${dir}/x, contnet: hi}
  exec:
  - {name: a, cmd: 'true'}
  - {name: b, cmd: 'true'}
  bogus:
  - {name: z}
edges:
- {name: e1, from: {kind: exec, name: a}, to: {kind: exec, name: b}}
- {name: e2, from: {kind: exec, name: b}, to: {kind: exec, name: a}}
- {name: e3, from: {kind: exec, name: a}, to: {kind: exec, name: missing}}
`,
    );
    for (const args of [
      ['run', '--yaml', g, '--converged-timeout', '0', '--tmp-prefix'],
      ['validate', g],
    ]) {
      const r = await mgmtRun(args);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /bad\.yaml:5:\d+: error: file\[typo\]: unknown parameter `contnet` \(did you mean `content`\?\)/);
      assert.match(r.stderr, /bad\.yaml:9:3: error: unknown resource kind `bogus`/);
      assert.match(r.stderr, /bad\.yaml:\d+:\d+: error: dependency cycle: exec\[a\] -> exec\[b\] -> exec\[a\]/);
      assert.equal(r.stderr.match(/dependency cycle/g)?.length, 1, 'the cycle is reported once');
      assert.match(r.stderr, /bad\.yaml:14:3: error: edge `e3`: its `to` exec\[missing\] is not in the graph/);
      assert.equal(existsSync(`${dir}/should-not-exist`), false);
    }
  });

  it('invalid YAML and a missing file are clear errors', async () => {
    const g = write('broken.yaml', 'graph: g\nresources:\n  file: [{name: a\n');
    const r = await mgmtRun(['validate', g]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /broken\.yaml:\d+:\d+: error: invalid YAML: /);
    const m = await mgmtRun(['validate', join(dir, 'nope.yaml')]);
    assert.equal(m.code, 1);
    assert.match(m.stderr, /cannot read graph .*nope\.yaml: no such file/);
  });

  it('validate reports a cycle made by automatic edges, with how to break it', async () => {
    const g = write(
      'g.yaml',
      `graph: g\nresources:\n  file:\n  - {name: d, path: ${dir}/sub/, state: exists}\n  - {name: f, path: ${dir}/sub/f, state: exists}\nedges:\n- {name: e1, from: {kind: file, name: f}, to: {kind: file, name: d}}\n`,
    );
    const r = await mgmtRun(['validate', g]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /dependency cycle: file\[d\] -> file\[f\] -> file\[d\] \(includes automatic edges: set meta: \{autoedge: false\}/);
    assert.equal((await mgmtRun(['validate', g, '--no-autoedges'])).code, 0);
  });

  it('validate prints a summary and exits 0 for a good graph; usage errors exit 2', async () => {
    const g = write('g.yaml', `graph: g\nresources:\n  noop: [{name: a}]\n`);
    const r = await mgmtRun(['validate', g]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /ok \(1 resources, 0 edges\)/);
    assert.equal((await mgmtRun(['frobnicate'])).code, 2);
    assert.equal((await mgmtRun(['run'])).code, 2);
    assert.equal((await mgmtRun(['run', '--yaml', g, '--sema', 'zero'])).code, 2);
  });

  it('writes graphviz', async () => {
    const g = write(
      'g.yaml',
      `graph: viz\nresources:\n  noop: [{name: a}, {name: b}]\nedges:\n- {name: e1, from: {kind: noop, name: a}, to: {kind: noop, name: b}, notify: true}\n`,
    );
    const r = await mgmtRun(['run', '--yaml', g, '--converged-timeout', '0', '--tmp-prefix', '--graphviz', `${dir}/g.dot`]);
    assert.equal(r.code, 0, r.stderr);
    const dot = readFileSync(`${dir}/g.dot`, 'utf8');
    assert.match(dot, /digraph "viz"/);
    assert.match(dot, /"noop\[a\]" -> "noop\[b\]" \[label="e1", style=bold/);
  });

  it('repairs drift, swaps graphs on file change, ignores an invalid new graph, and stops within 1 s on SIGTERM', async () => {
    const graph = (content: string) =>
      `graph: g\nresources:\n  file:\n  - {name: f, path: ${dir}/f, state: exists, content: "${content}"}\n  - {name: keep, path: ${dir}/keep, state: exists}\n`;
    const g = write('g.yaml', graph('one'));
    const c = mgmt(['run', '--yaml', g, '--tmp-prefix']);
    await waitUntil(() => existsSync(`${dir}/f`) && readFileSync(`${dir}/f`, 'utf8') === 'one', 5000, 'first apply');
    unlinkSync(`${dir}/f`);
    await waitUntil(() => existsSync(`${dir}/f`), 2000, 'drift repair after delete');
    writeFileSync(g, graph('two'));
    await waitUntil(() => readFileSync(`${dir}/f`, 'utf8') === 'two', 3000, 'graph swap');
    await c.waitForLog(/swapped in \(1 added, 1 removed, 1 unchanged\)/);
    writeFileSync(g, 'graph: g\nresources:\n  file: [{name: f, path: relative}]\n');
    await c.waitForLog(/changed but has errors; the running graph is unchanged/);
    writeFileSync(`${dir}/f`, 'drift');
    await waitUntil(() => readFileSync(`${dir}/f`, 'utf8') === 'two', 2000, 'the old graph still repairs');
    const t0 = performance.now();
    c.child.kill('SIGTERM');
    assert.equal(await c.exited, 0);
    assert.ok(performance.now() - t0 < 1000, `exit took ${performance.now() - t0} ms`);
  });

  it('applies a change to the graph file made between its first read and its watch', async () => {
    // The watch is set up WATCH_DELAY_MS (100 ms) after the first swap; this edit lands just after that swap, so
    // (unless this process is held up for 100 ms) only the catch-up by time stamp can see it.
    const graph = (content: string) => `graph: g\nresources:\n  file:\n  - {name: f, path: ${dir}/f, state: exists, content: "${content}"}\n`;
    const g = write('g.yaml', graph('one'));
    const c = mgmt(['run', '--yaml', g, '--tmp-prefix', '-v']);
    await c.waitForLog(/graph g: 1 resources\n/);
    writeFileSync(g, graph('two'));
    await waitUntil(() => existsSync(`${dir}/f`) && readFileSync(`${dir}/f`, 'utf8') === 'two', 3000, 'the edited graph');
    await c.waitForLog(/swapped in \(1 added, 1 removed, 0 unchanged\)/);
    c.child.kill('SIGTERM');
    assert.equal(await c.exited, 0);
  });

  it('SIGTERM during a long apply: exits within 1 s and kills the command’s process group', async () => {
    const g = write('g.yaml', `graph: g\nresources:\n  exec:\n  - {name: long, cmd: 'echo $$ > ${dir}/pid; exec sleep 60', shell: /bin/sh}\n`);
    const c = mgmt(['run', '--yaml', g, '--tmp-prefix']);
    await waitUntil(() => existsSync(`${dir}/pid`) && readFileSync(`${dir}/pid`, 'utf8').trim() !== '', 5000, 'the command to start');
    const pid = Number(readFileSync(`${dir}/pid`, 'utf8'));
    const t0 = performance.now();
    c.child.kill('SIGTERM');
    await c.exited;
    assert.ok(performance.now() - t0 < 1000, `exit took ${performance.now() - t0} ms`);
    assert.equal(isRunning(pid), false, 'the sleep is gone by the time mgmt has exited');
  });

  it('a second signal aborts at once', async () => {
    // The command ignores SIGTERM (sleep inherits that), so the first stop waits for its SIGKILL 0.4 s later: the
    // second signal surely comes during it. (A command that dies at once lets the stop finish first: exit 0.)
    const g = write('g.yaml', `graph: g\nresources:\n  exec:\n  - {name: long, cmd: 'trap "" TERM; touch ${dir}/started; exec sleep 60', shell: /bin/sh}\n`);
    const c = mgmt(['run', '--yaml', g, '--tmp-prefix']);
    await waitUntil(() => existsSync(`${dir}/started`), 5000, 'the command to start');
    c.child.kill('SIGINT');
    await c.waitForLog(/SIGINT: stopping/);
    c.child.kill('SIGINT');
    assert.equal(await c.exited, 130);
  });

  it('writes nothing outside its directories: --tmp-prefix state stays under the temp dir', async () => {
    const g = write('g.yaml', `graph: g\nresources:\n  noop: [{name: a}]\n`);
    const r = await mgmtRun(['run', '--yaml', g, '--converged-timeout', '0', '--prefix', join(dir, 'state')]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(readdirSync(dir).sort(), ['g.yaml']);
  });
});
