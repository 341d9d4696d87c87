/**
 * A fixture control repository for `mgmt puppet diff` tests, built as a real git repository in a temporary
 * directory: a role with classes, a define, Hiera 5 data, an ERB template, a `puppet:///modules` file and an
 * exported resource; then one commit per change, each change of a kind a catalog diff must show (or, for
 * ordering, tags and exported resources, must leave out). Each commit is one pair with its parent.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';

export const NODE = 'node1.example.com';

export const FACTS_YAML = `--- !ruby/object:Puppet::Node::Facts
name: ${NODE}
values:
  networking:
    fqdn: ${NODE}
    ip: 10.0.0.1
  fqdn: ${NODE}
  hostname: node1
  kernel: Linux
  os:
    family: Debian
    name: Debian
`;

const BASE: Record<string, string> = {
  'manifests/site.pp': `node default {
  include profile::base
  include profile::web
  @@host { $facts['networking']['fqdn']:
    ip  => $facts['networking']['ip'],
    tag => 'cluster',
  }
}
`,
  'modules/profile/manifests/base.pp': `class profile::base (
  String $motd_owner = lookup('profile::base::motd_owner'),
  Array[String] $packages = lookup('profile::base::packages'),
) {
  file { '/etc/motd':
    ensure  => file,
    owner   => $motd_owner,
    mode    => '0644',
    content => template('profile/motd.erb'),
  }
  file { '/etc/app.conf':
    ensure => file,
    owner  => 'root',
    source => 'puppet:///modules/profile/app.conf',
  }
  package { $packages: ensure => installed }
  exec { 'refresh-app':
    command     => '/bin/true',
    path        => ['/bin', '/usr/bin'],
    refreshonly => true,
  }
}
`,
  'modules/profile/manifests/web.pp': `class profile::web {
  profile::vhost { 'www': port => 80, options => { 'gzip' => true, 'root' => '/srv/www' } }
  service { 'nginx': ensure => running, enable => true }
}
`,
  'modules/profile/manifests/vhost.pp': `define profile::vhost (Integer $port, Hash $options = {}) {
  file { "/etc/nginx/sites/\${title}.conf":
    ensure  => file,
    content => epp('profile/vhost.epp', { 'name' => $title, 'port' => $port, 'options' => $options }),
    notify  => Service['nginx'],
  }
}
`,
  'modules/profile/templates/motd.erb': `Welcome to <%= @facts['networking']['fqdn'] %>
Managed by Puppet.
`,
  'modules/profile/templates/vhost.epp': `<%- | String $name, Integer $port, Hash $options | -%>
server <%= $name %> {
  listen <%= $port %>;
<% $options.each |$k, $v| { -%>
  <%= $k %> <%= $v %>;
<% } -%>
}
`,
  'modules/profile/files/app.conf': 'setting = 1\nmode = fast\n',
  'hiera.yaml': `---
version: 5
defaults:
  datadir: data
  data_hash: yaml_data
hierarchy:
  - name: common
    path: common.yaml
`,
  'data/common.yaml': `profile::base::motd_owner: root
profile::base::packages: [curl, vim]
`,
};

type Edit = (files: Record<string, string>) => void;
const replace =
  (path: string, from: string, to: string): Edit =>
  (f) => {
    const text = f[path]!;
    if (!text.includes(from)) throw new Error(`control repo fixture: ${path} has no ${JSON.stringify(from)}`);
    f[path] = text.replace(from, to);
  };
const add =
  (path: string, text: string): Edit =>
  (f) => {
    f[path] = text;
  };

/** The changes, one commit each, in order: what each pair (commit, its parent) shows. */
export const CHANGES: readonly (readonly [string, Edit])[] = [
  ['template text', replace('modules/profile/templates/motd.erb', 'Managed by Puppet.', 'Managed by Puppet. Do not edit.')],
  ['puppet:/// file text', replace('modules/profile/files/app.conf', 'mode = fast', 'mode = safe')],
  ['hiera list', replace('data/common.yaml', '[curl, vim]', '[curl, vim, htop]')],
  ['define parameter', replace('modules/profile/manifests/web.pp', 'port => 80,', 'port => 8080,')],
  ['hiera scalar', replace('data/common.yaml', 'motd_owner: root', 'motd_owner: adm')],
  [
    'resource added',
    replace('modules/profile/manifests/base.pp', '  package {', '  file { \'/etc/issue\': ensure => file, content => "Debian\\n" }\n  package {'),
  ],
  ['exported resource', replace('manifests/site.pp', "ip  => $facts['networking']['ip'],", "ip  => '192.0.2.1',")],
  [
    'notify added',
    replace('modules/profile/manifests/base.pp', "    owner  => 'root',\n    source", "    owner  => 'root',\n    notify => Exec['refresh-app'],\n    source"),
  ],
  ['ordering only', replace('modules/profile/manifests/web.pp', 'enable => true }', "enable => true, require => Package['curl'] }")],
  // Not a tags-only change: octocatalog-diff 2.1.0 crashes on any changed array of a compiled catalog, tags too.
  ['service ensure', replace('modules/profile/manifests/web.pp', 'ensure => running', 'ensure => stopped')],
  ['boolean', replace('modules/profile/manifests/web.pp', 'enable => true,', 'enable => false,')],
  ['define instance added', replace('modules/profile/manifests/web.pp', '  service {', "  profile::vhost { 'api': port => 9000 }\n  service {")],
  // Not an array parameter: octocatalog-diff 2.1.0 crashes on any changed array of a compiled catalog on Ruby 3
  // (its CompilationDir filter: "tried to create Proc object without a block"); the golden pairs cover arrays.
  ['command', replace('modules/profile/manifests/base.pp', "command     => '/bin/true',", "command     => '/usr/bin/systemctl reload app',")],
  ['nested hash', replace('modules/profile/manifests/web.pp', "'gzip' => true", "'gzip' => false, 'ssl' => true")],
  ['file mode', replace('modules/profile/manifests/base.pp', "mode    => '0644'", "mode    => '0600'")],
  ['resource removed', replace('modules/profile/manifests/web.pp', "  profile::vhost { 'api': port => 9000 }\n", '')],
  [
    'new class',
    (f) => {
      add(
        'modules/profile/manifests/ntp.pp',
        "class profile::ntp (String $server = 'pool.ntp.org') {\n  file { '/etc/ntp.conf': ensure => file, content => \"server ${server}\\n\" }\n}\n",
      )(f);
      replace('manifests/site.pp', '  include profile::web\n', '  include profile::web\n  include profile::ntp\n')(f);
    },
  ],
  ['class parameter via hiera', replace('data/common.yaml', 'profile::base::packages', 'profile::ntp::server: ntp.example.com\nprofile::base::packages')],
  [
    'file becomes absent',
    replace('modules/profile/manifests/base.pp', "    ensure => file,\n    owner  => 'root',", "    ensure => absent,\n    owner  => 'nobody',"),
  ],
  ['class removed', replace('manifests/site.pp', '  include profile::ntp\n', '')],
];

export interface ControlRepo {
  readonly dir: string;
  /** Commit ids, oldest first: the base, then one per change. */
  readonly commits: readonly string[];
  readonly factFile: string;
  remove(): void;
}

/** Runs git in `dir` with no user or system configuration; returns its trimmed stdout, throws with its stderr. */
export function git(dir: string, ...args: string[]): string {
  const r = spawnSync('git', ['-C', dir, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, GIT_CONFIG_NOSYSTEM: '1' },
  });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

/**
 * What mgmt puppet diff and octocatalog-diff both take to diff `nodes` of the repository between two commits: the
 * same flags by design (a CI job switches tools by changing the command). Facts: the repository's fact file unless
 * given.
 */
export function diffArgs(repo: ControlRepo, from: string, to: string, nodes = NODE, facts: readonly string[] = ['--fact-file', repo.factFile]): string[] {
  return ['-f', from, '-t', to, '--basedir', repo.dir, '-n', nodes, ...facts];
}

/** Builds the repository: the base commit and one commit per change (the first `count` changes; all by default). */
export function buildControlRepo(count = CHANGES.length): ControlRepo {
  const root = mkdtempSync(join(tmpdir(), 'mgmt-control-repo-'));
  const dir = join(root, 'repo');
  mkdirSync(dir);
  git(dir, 'init', '-q');
  git(dir, 'config', 'user.email', 'test@example.com');
  git(dir, 'config', 'user.name', 'test');
  const files = { ...BASE };
  const write = () => {
    for (const [p, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, p)), { recursive: true });
      writeFileSync(join(dir, p), text);
    }
  };
  write();
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'base');
  const commits = [git(dir, 'rev-parse', 'HEAD')];
  for (const [what, edit] of CHANGES.slice(0, count)) {
    edit(files);
    write();
    git(dir, 'add', '-A');
    git(dir, 'commit', '-q', '-m', what);
    commits.push(git(dir, 'rev-parse', 'HEAD'));
  }
  const factFile = join(root, 'facts.yaml');
  writeFileSync(factFile, FACTS_YAML);
  return { dir, commits, factFile, remove: () => rmSync(root, { recursive: true, force: true }) };
}

/** A file's text at the working tree (for tests that edit it further). */
export function readRepoFile(repo: ControlRepo, path: string): string {
  return readFileSync(join(repo.dir, path), 'utf8');
}
