/**
 * Bad graphs written over a running one (issue 11, items 2 and 9): an alias bomb is refused while the running graph
 * goes on repairing with bounded memory; a graph written in pieces is read once the write has settled, so a prefix
 * that happens to parse is never swapped in; and a save is applied well within a second.
 */
import assert from 'node:assert/strict';
import { closeSync, existsSync, openSync, readFileSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { mgmt, waitUntil, scratchDirPerTest } from '../harness/cli.js';

let dir = '';
scratchDirPerTest('mgmt-graph-input-', (d) => (dir = d));

/** Resident memory of a process, in MB. */
function rssMb(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  assert.ok(m, 'VmRSS in /proc/PID/status');
  return Number(m[1]) / 1024;
}

/** The billion laughs, as in the issue: 9 levels of 9 aliases, under 537 bytes, 387,420,489 strings once expanded. */
function aliasBomb(): string {
  const lines = ['graph: bomb', 'l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i <= 9; i++) lines.push(`l${i}: &l${i} [${Array.from({ length: 9 }, () => `*l${i - 1}`).join(',')}]`);
  return lines.join('\n') + '\n';
}

const fileRes = (name: string, content: string) => `  - {name: ${name}, path: ${dir}/${name}, state: exists, content: "${content}"}\n`;

describe('graph input under a running engine', () => {
  it('an alias bomb written over the running graph is refused at once; the running graph still repairs; memory stays bounded', async (t) => {
    const g = join(dir, 'g.yaml');
    writeFileSync(g, `graph: g\nresources:\n  file:\n${fileRes('f', 'one')}`);
    const c = mgmt(['run', '--yaml', g, '--tmp-prefix']);
    const f = join(dir, 'f');
    await waitUntil(() => existsSync(f) && readFileSync(f, 'utf8') === 'one', 5000, 'first apply');
    const pid = c.child.pid!;
    const before = rssMb(pid);
    const t0 = performance.now();
    writeFileSync(g, aliasBomb());
    await c.waitForLog(/g\.yaml:7:\d+: error: with this alias, aliases add more than 200,000 YAML nodes/, 5000);
    await c.waitForLog(/changed but has errors; the running graph is unchanged/, 5000);
    const refusedMs = performance.now() - t0;
    unlinkSync(f);
    await waitUntil(() => existsSync(f) && readFileSync(f, 'utf8') === 'one', 3000, 'the running graph to repair the deleted file');
    assert.equal(c.child.exitCode, null, 'the process is still running');
    const rss = rssMb(pid);
    t.diagnostic(
      `bomb refused ${refusedMs.toFixed(0)} ms after the write (settle window included); RSS ${before.toFixed(0)} MB before, ${rss.toFixed(0)} MB after`,
    );
    assert.ok(rss < before + 50, `RSS grew from ${before.toFixed(0)} MB to ${rss.toFixed(0)} MB`);
    c.child.kill('SIGTERM');
    assert.equal(await c.exited, 0);
  });

  it('a graph written in two pieces is read once the write settles: a prefix that parses is never swapped in', async () => {
    const g = join(dir, 'g.yaml');
    const head = `graph: g\nresources:\n  file:\n${fileRes('a', 'a')}`;
    writeFileSync(g, head + fileRes('b', 'b'));
    const c = mgmt(['run', '--yaml', g, '--tmp-prefix']);
    await waitUntil(() => existsSync(join(dir, 'b')), 5000, 'first apply');
    await c.waitForLog(/graph g: 2 resources/);
    // A slow writer: the first piece alone is a valid graph without b (swapping it in would drop b), then the rest.
    const fd = openSync(g, 'w');
    writeSync(fd, head);
    await new Promise((r) => setTimeout(r, 15)); // the writer's own pause, the bad luck under test
    writeSync(fd, fileRes('b', 'b') + fileRes('c', 'c'));
    closeSync(fd);
    await waitUntil(() => existsSync(join(dir, 'c')), 3000, 'the complete graph to be applied');
    await c.waitForLog(/swapped in \(1 added, 0 removed, 2 unchanged\)/);
    assert.doesNotMatch(c.stderr(), /swapped in \(\d+ added, [1-9]\d* removed/, 'the prefix (without b) was swapped in');
    c.child.kill('SIGTERM');
    assert.equal(await c.exited, 0);
  });

  it('save-to-converged: each save of the graph is applied well within a second', async (t) => {
    const g = join(dir, 'g.yaml');
    writeFileSync(g, `graph: g\nresources:\n  file:\n${fileRes('x0', 'x')}`);
    const c = mgmt(['run', '--yaml', g, '--tmp-prefix']);
    await waitUntil(() => existsSync(join(dir, 'x0')), 5000, 'first apply');
    const times: number[] = [];
    for (let i = 1; i <= 10; i++) {
      const t0 = performance.now();
      writeFileSync(g, `graph: g\nresources:\n  file:\n${fileRes(`x${i}`, 'x')}`);
      await waitUntil(() => existsSync(join(dir, `x${i}`)), 3000, `save ${i} to be applied`);
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)]!;
    const worst = times[times.length - 1]!;
    t.diagnostic(`save-to-converged over 10 saves: median ${median.toFixed(0)} ms, worst ${worst.toFixed(0)} ms`);
    assert.ok(worst < 1000, `a save took ${worst.toFixed(0)} ms to be applied`);
    c.child.kill('SIGTERM');
    assert.equal(await c.exited, 0);
  });
});
