#!/usr/bin/env node
// Installs the Debian packages the tests (or, with --bench, the benchmarks) need. Idempotent: a package whose
// command is already present is skipped, and apt-get runs only when something is missing.
// Usage: node scripts/system-deps.mjs [--bench]
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';

// what proves the package is there (a command on PATH, or an absolute path) -> Debian package
const test = [
  ['sh', 'dash'],
  ['sleep', 'coreutils'],
  ['puppet', 'puppet'],
  // the module types real manifests use (Debian keeps them in /usr/share/puppet/modules)
  ['/usr/share/puppet/modules/stdlib', 'puppet-module-puppetlabs-stdlib'],
  ['/usr/share/puppet/modules/cron_core', 'puppet-module-puppetlabs-cron-core'],
  ['/usr/share/puppet/modules/host_core', 'puppet-module-puppetlabs-host-core'],
  ['/usr/share/puppet/modules/mount_core', 'puppet-module-puppetlabs-mount-core'],
  ['/usr/share/puppet/modules/sshkeys_core', 'puppet-module-puppetlabs-sshkeys-core'],
  ['/usr/share/puppet/modules/concat', 'puppet-module-puppetlabs-concat'],
  ['/usr/share/puppet/modules/inifile', 'puppet-module-puppetlabs-inifile'],
  // exported and collected resources between hosts (test/harness/etcd.ts)
  ['etcd', 'etcd-server'],
];
const bench = [['/usr/bin/time', 'time']];

const wanted = process.argv.includes('--bench') ? [...test, ...bench] : test;
const present = (what) => {
  if (what.startsWith('/')) {
    try {
      accessSync(what);
      return true;
    } catch {
      return false;
    }
  }
  return onPath(what);
};
const onPath = (cmd) =>
  (process.env.PATH ?? '/usr/bin:/bin').split(':').some((d) => {
    try {
      accessSync(`${d}/${cmd}`, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
const missing = [...new Set(wanted.filter(([what]) => !present(what)).map(([, pkg]) => pkg))];
if (missing.length === 0) process.exit(0);
if (process.getuid?.() !== 0) {
  console.error(`system-deps: missing packages ${missing.join(' ')}; install them as root: apt-get install -y ${missing.join(' ')}`);
  process.exit(1);
}
console.error(`system-deps: installing ${missing.join(' ')} with apt-get`);
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
const run = (args) => spawnSync('apt-get', args, { stdio: 'inherit', env }).status === 0;
if (!run(['install', '-y', '-q', ...missing]) && !(run(['update', '-q']) && run(['install', '-y', '-q', ...missing]))) {
  console.error(`system-deps: apt-get could not install ${missing.join(' ')}`);
  process.exit(1);
}
