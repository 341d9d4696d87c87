#!/usr/bin/env node
// Runs node's test runner over every compiled test file. Node 20's `node --test` with no file list runs
// nothing for .js outside test-named defaults and does not expand quoted globs, so the list is built here.
// A skipped or todo test fails the run (a skip is not a pass): they are listed after the runner's summary.
// Usage: node scripts/run-tests.mjs [substring filters...]
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = 'dist/test';
const files = [];
const walk = (dir) => {
  for (const e of readdirSync(dir).sort()) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) {
      if (e !== 'bench') walk(p);
    } else if (e.endsWith('.test.js')) files.push(p);
  }
};
walk(root);
const filters = process.argv.slice(2);
const selected = filters.length ? files.filter((f) => filters.some((x) => f.includes(x))) : files;
if (selected.length === 0) {
  console.error(`run-tests: no test files found under ${root} (did the build run?)`);
  process.exit(1);
}
const scratch = mkdtempSync(join(tmpdir(), 'run-tests-'));
const skipsFile = join(scratch, 'skipped.txt');
const reporters = [
  // The reporter node picks by itself: spec on a terminal, TAP otherwise.
  ...['--test-reporter', process.stdout.isTTY ? 'spec' : 'tap', '--test-reporter-destination', 'stdout'],
  ...['--test-reporter', new URL('./skip-reporter.mjs', import.meta.url).href, '--test-reporter-destination', skipsFile],
];
// Puppet's compiled Ruby is cached for this run only (src/puppet/runtime/ruby-boot.ts), not in the user's home.
const rubyCache = join(scratch, 'ruby-cache');
mkdirSync(rubyCache, { mode: 0o700 });
// Every temporary file and directory of the run (the tests', and the `--tmp-prefix` state of the CLIs they start,
// which a host killed with SIGKILL at a test's end cannot remove itself) goes under one TMPDIR, removed at the end.
// It is sticky and open to all as /tmp is (tests run commands as other users), in a directory only root can write.
chmodSync(scratch, 0o755);
const tmp = join(scratch, 'tmp');
mkdirSync(tmp);
chmodSync(tmp, 0o1777);
const env = { ...process.env, MGMT_RUBY_CACHE: process.env.MGMT_RUBY_CACHE ?? rubyCache, TMPDIR: tmp };
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=2', ...reporters, ...selected], { stdio: 'inherit', env });
let skipped = [];
try {
  skipped = readFileSync(skipsFile, 'utf8').split('\n').filter(Boolean);
} catch {
  // No file: the runner did not start its reporters; its own exit status says why.
}
rmSync(scratch, { recursive: true, force: true });
if (skipped.length > 0) {
  console.error(`run-tests: ${skipped.length} test(s) skipped or todo, which fails the run (a skip is not a pass):`);
  for (const s of skipped) console.error(`  ${s}`);
  process.exit(r.status === 0 || r.status === null ? 1 : r.status);
}
process.exit(r.status ?? 1);
