// The boot file every Ruby process of ours for Puppet loads first (puppet-module/lib/puppet_x/mgmtgraph/boot.rb):
// the compile cache (compile_cache.rb), the collector paused while Puppet loads, the environment handed on to
// commands. Run with the real Ruby, on small programs of the test's own (no Puppet needed).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const lib = join(resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..'), 'puppet-module', 'lib');
const CACHE = 'PuppetX::Mgmtgraph::CompileCache';

describe('Ruby boot file: compile cache, collector, environment', () => {
  let root: string;
  let src: string;
  let rubyTmp: string;
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'mgmt-ruby-boot-'));
    src = join(root, 'src');
    // Ruby's temporary directory for these runs: files under it are never cached, and src/ is not under it.
    rubyTmp = join(root, 'rubytmp');
    mkdirSync(src);
    mkdirSync(rubyTmp);
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  const ruby = (script: string, cache: string | undefined, rubyopt = '') =>
    spawnSync('ruby', ['-e', script], {
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        RUBYLIB: `${lib}:${src}`,
        RUBYOPT: `-rpuppet_x/mgmtgraph/boot${rubyopt}`,
        TMPDIR: rubyTmp,
        ...(cache !== undefined ? { MGMT_RUBY_CACHE: cache } : {}),
      },
    });
  /** Loads probe_N.rb: its value, then the cache's hits and misses (null: no cache in use). */
  const probe = (n: string, cache: string) => {
    const r = ruby(`require "probe_${n}"; c = ${CACHE}; puts [PROBE_${n.toUpperCase()}, c.hits.inspect, c.misses.inspect].join(" ")`, cache);
    assert.equal(r.status, 0, r.stderr);
    return r.stdout
      .trim()
      .split(' ')
      .map((w) => (w === 'nil' ? null : /^\d+$/.test(w) ? Number(w) : w));
  };
  const newCache = (name: string) => {
    const dir = join(root, name);
    mkdirSync(dir, { mode: 0o700 });
    return dir;
  };
  const packs = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.pack'));

  it("keeps a file's compiled code in one private pack and loads it from there at the next start", () => {
    const cache = newCache('cache-a');
    writeFileSync(join(src, 'probe_a.rb'), 'PROBE_A = "one"\n');
    assert.deepEqual(probe('a', cache), ['one', 0, 1]);
    const [pack, ...more] = packs(cache);
    assert.ok(pack !== undefined && more.length === 0, `one pack: ${readdirSync(cache).join(', ')}`);
    assert.equal(statSync(join(cache, pack)).mode & 0o777, 0o600);
    assert.deepEqual(probe('a', cache), ['one', 1, 0]);
    assert.equal(packs(cache).length, 1, 'nothing compiled, nothing written');
  });

  it('compiles an edited file again, even with its size and modification time put back', () => {
    const cache = newCache('cache-b');
    const file = join(src, 'probe_b.rb');
    writeFileSync(file, 'PROBE_B = "one"\n');
    const then = statSync(file).mtime;
    assert.deepEqual(probe('b', cache), ['one', 0, 1]);
    writeFileSync(file, 'PROBE_B = "two"\n');
    utimesSync(file, then, then);
    assert.deepEqual(probe('b', cache), ['two', 0, 1]);
  });

  it('does not use a directory others may write, one reached through a symbolic link, or a relative path', () => {
    writeFileSync(join(src, 'probe_c.rb'), 'PROBE_C = "one"\n');
    const open = newCache('cache-open');
    chmodSync(open, 0o770);
    assert.deepEqual(probe('c', open), ['one', null, null]);
    assert.deepEqual(readdirSync(open), []);
    const real = newCache('cache-real');
    symlinkSync(real, join(root, 'cache-link'));
    assert.deepEqual(probe('c', join(root, 'cache-link')), ['one', null, null]);
    assert.deepEqual(readdirSync(real), []);
    assert.deepEqual(probe('c', 'cache-real'), ['one', null, null]);
  });

  it('drops a damaged pack and compiles again', () => {
    const cache = newCache('cache-d');
    writeFileSync(join(src, 'probe_d.rb'), 'PROBE_D = "one"\n');
    probe('d', cache);
    const [pack] = packs(cache);
    writeFileSync(join(cache, pack!), 'not a pack');
    assert.deepEqual(probe('d', cache), ['one', 0, 1]);
    assert.ok(!packs(cache).includes(pack!), 'the damaged pack is removed');
    assert.equal(packs(cache).length, 1, 'and a good one written');
  });

  it('never caches a file in the temporary directory (a checkout that will be gone)', () => {
    const cache = newCache('cache-e');
    writeFileSync(join(rubyTmp, 'probe_e.rb'), 'PROBE_E = "one"\n');
    const r = ruby(`$LOAD_PATH.unshift(${JSON.stringify(rubyTmp)}); require "probe_e"; c = ${CACHE}; puts [PROBE_E, c.hits, c.misses].join(" ")`, cache);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'one 0 0\n');
    assert.deepEqual(packs(cache), []);
  });

  it("hands the user's own RUBYOPT, and no cache, to the commands it runs; keeps Ruby's exit statuses and error messages", () => {
    const cache = newCache('cache-f');
    const env = ruby('puts ENV["RUBYOPT"].inspect, ENV.key?("MGMT_RUBY_CACHE"); $stdout.write "unflushed"; exit 3', cache, ' -W0');
    assert.equal(env.status, 3);
    assert.equal(env.stdout, '"-W0"\nfalse\nunflushed');
    const none = ruby('p ENV["RUBYOPT"]', cache);
    assert.equal(none.stdout, 'nil\n');
    const boom = ruby('raise "boom at start"', cache);
    assert.equal(boom.status, 1);
    assert.match(boom.stderr, /boom at start \(RuntimeError\)/);
  });

  it('pauses the collector until Puppet is loaded; a worker resumes it once idle', () => {
    const paused = ruby('p GC.disable; PuppetX::Mgmtgraph::Boot.loaded!; p GC.disable', undefined);
    assert.equal(paused.stdout, 'true\nfalse\n', 'GC.disable answers whether it was disabled already');
    const idle = ruby(
      'r, w = IO.pipe; t = Process.clock_gettime(Process::CLOCK_MONOTONIC); PuppetX::Mgmtgraph::Boot.collect_when_idle(r); ' +
        'p [GC.disable, Process.clock_gettime(Process::CLOCK_MONOTONIC) - t >= PuppetX::Mgmtgraph::Boot::IDLE_S]',
      undefined,
    );
    assert.equal(idle.stdout, '[false, true]\n');
    const busy = ruby('r, w = IO.pipe; w.puts "request"; PuppetX::Mgmtgraph::Boot.collect_when_idle(r); p GC.disable', undefined);
    assert.equal(busy.stdout, 'true\n', 'input waiting: still paused');
  });
});
