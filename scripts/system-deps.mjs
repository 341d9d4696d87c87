#!/usr/bin/env node
// Installs the Debian packages the tests (or, with --bench, the benchmarks) need. Idempotent: a package whose
// command is already present is skipped, and apt-get runs only when something is missing.
// Usage: node scripts/system-deps.mjs [--bench]
import { spawnSync } from 'node:child_process';
import { accessSync, constants, readdirSync } from 'node:fs';

// what proves the package is there (a command on PATH, or an absolute path) -> Debian package
const test = [
  ['sh', 'dash'],
  ['sleep', 'coreutils'],
  // the mount kind: mount(8)/umount(8), and findmnt --poll to watch the mount table
  ['mount', 'mount'],
  ['umount', 'mount'],
  ['findmnt', 'util-linux'],
  ['puppet', 'puppet'],
  // a node certificate with extensions for $trusted.extensions (test/integration/puppet-environments.test.ts)
  ['openssl', 'openssl'],
  // the module types real manifests use (Debian keeps them in /usr/share/puppet/modules)
  ['/usr/share/puppet/modules/stdlib', 'puppet-module-puppetlabs-stdlib'],
  ['/usr/share/puppet/modules/cron_core', 'puppet-module-puppetlabs-cron-core'],
  ['/usr/share/puppet/modules/host_core', 'puppet-module-puppetlabs-host-core'],
  ['/usr/share/puppet/modules/mount_core', 'puppet-module-puppetlabs-mount-core'],
  ['/usr/share/puppet/modules/sshkeys_core', 'puppet-module-puppetlabs-sshkeys-core'],
  ['/usr/share/puppet/modules/concat', 'puppet-module-puppetlabs-concat'],
  ['/usr/share/puppet/modules/inifile', 'puppet-module-puppetlabs-inifile'],
  // the archive type (voxpupuli-archive) for the autorelations differential test; the archive kind extracts with tar and unzip
  ['/usr/share/puppet/modules/archive', 'puppet-module-puppet-archive'],
  ['tar', 'tar'],
  ['unzip', 'unzip'],
  ['zip', 'zip'],
  // the augeas kind runs augtool with Debian's lenses; Puppet's augeas type (so that manifests declaring augeas
  // compile) and its provider's Ruby binding, for the equivalence test: what a Debian user's Puppet has with its recommends
  ['augtool', 'augeas-tools'],
  ['/usr/share/augeas/lenses/dist/hosts.aug', 'augeas-lenses'],
  ['/usr/share/puppet/modules/augeas_core', 'puppet-module-puppetlabs-augeas-core'],
  ['/var/lib/dpkg/info/ruby-augeas.list', 'ruby-augeas'],
  // svc: a real systemd user manager in a private mount namespace (test/harness/user-systemd.ts), with its session bus
  ['/lib/systemd/systemd', 'systemd'],
  ['systemctl', 'systemd'],
  ['dbus-daemon', 'dbus'],
  ['/usr/lib/systemd/user/dbus.socket', 'dbus-user-session'],
  ['unshare', 'util-linux'],
  ['nsenter', 'util-linux'],
  // the pkg kind's tests: a system bus the harness starts, and PackageKit activated on it
  ['/usr/share/dbus-1/system.conf', 'dbus-system-bus-common'],
  ['/usr/libexec/packagekitd', 'packagekit'],
  ['dpkg-query', 'dpkg'],
  // exported and collected resources between hosts (test/harness/etcd.ts)
  ['etcd', 'etcd-server'],
  // --cluster makes its certificates with openssl (src/world/cluster-pki.ts); the TLS tests too
  ['openssl', 'openssl'],
  // the crontab:entry kind: crontab(1) reads and installs users' crontabs (the cron daemon need not run)
  ['crontab', 'cron'],
  // owners known only to NSS: an extra passwd/group source configured in a private mount namespace (test/integration/nss-owner.test.ts)
  ['/usr/lib/libnss_extrausers.so.2', 'libnss-extrausers'],
  ['getent', 'libc-bin'],
  // PuppetDB as a source (test/harness/puppetdb.ts): PuppetDB on a private PostgreSQL 15, catalogs stored through
  // the PuppetDB terminus by puppet apply, and a throwaway CA made with openssl for its TLS port
  ['/usr/share/puppetdb/puppetdb.jar', 'puppetdb'],
  ['/usr/lib/postgresql/15/bin/pg_ctl', 'postgresql-15'],
  ['/usr/lib/ruby/vendor_ruby/puppet/indirector/catalog/puppetdb.rb', 'puppet-terminus-puppetdb'],
  ['openssl', 'openssl'],
  // the symlink race test: a python3 child swaps a directory and a symlink with renameat2(RENAME_EXCHANGE) via ctypes
  ['python3', 'python3'],
  // mgmt puppet diff: octocatalog-diff is the reference of the differential tests; git checks out the refs
  ['octocatalog-diff', 'octocatalog-diff'],
  ['git', 'git'],
  // mgmt puppet agent against a real Puppet Server (test/harness/puppet-server.ts; the JVM comes with it); with
  // reports = puppetdb and storeconfigs, the server's JRuby loads the same puppet-terminus-puppetdb files (its
  // vendor_ruby/puppet links to Ruby's)
  ['/usr/share/puppetserver/puppetserver.jar', 'puppetserver'],
  // mgmt puppet diff --bootstrap-script: the test's script installs a Puppetfile's module with r10k
  ['r10k', 'r10k'],
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
// PackageKit resolves package names from apt's lists; a fresh machine may have none (the pkg tests install sl).
const listsEmpty = () => {
  try {
    return !readdirSync('/var/lib/apt/lists').some((f) => f.includes('_Packages'));
  } catch {
    return false; // not an apt system
  }
};
if (missing.length === 0 && !listsEmpty()) process.exit(0);
if (process.getuid?.() !== 0) {
  console.error(`system-deps: missing packages ${missing.join(' ')}; install them as root: apt-get install -y ${missing.join(' ')}`);
  process.exit(1);
}
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
const run = (args) => spawnSync('apt-get', args, { stdio: 'inherit', env }).status === 0;
if (listsEmpty()) {
  console.error('system-deps: apt has no package lists; running apt-get update');
  if (!run(['update', '-q'])) console.error('system-deps: apt-get update failed; the pkg tests will skip if PackageKit cannot resolve their packages');
}
if (missing.length === 0) process.exit(0);
console.error(`system-deps: installing ${missing.join(' ')} with apt-get`);
// cron recommends a mail server (exim4) to mail the output of jobs; the tests run no job, so none is installed.
const WITHOUT_RECOMMENDS = new Set(['cron']);
const install = (pkgs, extra) => pkgs.length === 0 || run(['install', '-y', '-q', ...extra, ...pkgs]);
const installAll = () =>
  install(
    missing.filter((p) => !WITHOUT_RECOMMENDS.has(p)),
    [],
  ) &&
  install(
    missing.filter((p) => WITHOUT_RECOMMENDS.has(p)),
    ['--no-install-recommends'],
  );
if (!installAll() && !(run(['update', '-q']) && installAll())) {
  console.error(`system-deps: apt-get could not install ${missing.join(' ')}`);
  process.exit(1);
}
