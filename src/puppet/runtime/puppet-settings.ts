/**
 * The Puppet settings `mgmt puppet` takes from the user, as Puppet's own flags, and passes to Puppet: Puppet reads
 * its configuration (puppet.conf in the confdir, the environments under environmentpath, hiera.yaml at its three
 * levels, the node's certificate in ssldir) exactly as `puppet apply` does, so one table says which flags exist,
 * what each sets, and how it reaches Puppet. Unset, a setting is Puppet's own: its default, or what puppet.conf
 * says ([main], then [user], the sections `puppet apply` reads).
 */
import { accessSync, closeSync, constants, existsSync, openSync, statSync } from 'node:fs';
import { resolve } from 'node:path';

/** What the user gave: each field is the Puppet setting of the same name. */
export interface PuppetSettings {
  readonly confdir?: string;
  readonly config?: string;
  readonly environment?: string;
  readonly environmentpath?: string;
  readonly codedir?: string;
  readonly hiera_config?: string;
  /** Module directories (directories that CONTAIN modules); Debian's are appended (see `settingsArgs`). */
  readonly modulepath?: readonly string[];
  readonly certname?: string;
  readonly ssldir?: string;
}

export type PuppetSettingName = keyof PuppetSettings;

export interface PuppetSettingDef {
  /** The value's shape in `--help`. */
  readonly arg: string;
  /** A path (or colon-separated paths): made absolute from the current directory, as Puppet does. */
  readonly path: boolean;
  readonly doc: string;
}

/** Debian's Puppet modules (package puppet-module-*): appended to a `--modulepath` that does not list it. */
export const DEBIAN_MODULES = '/usr/share/puppet/modules';

/** Every Puppet setting `mgmt puppet` accepts, in `--help` order. The flag is `--<name>` (also with dashes). */
export const PUPPET_SETTINGS: Readonly<Record<PuppetSettingName, PuppetSettingDef>> = {
  confdir: { arg: 'DIR', path: true, doc: "Puppet's confdir, where puppet.conf and the global hiera.yaml are (default: Puppet's own)" },
  config: { arg: 'FILE', path: true, doc: 'the puppet.conf to read (default: CONFDIR/puppet.conf)' },
  environment: { arg: 'NAME', path: false, doc: 'the environment to compile in (default: puppet.conf\'s, else "production")' },
  environmentpath: { arg: 'DIRS', path: true, doc: 'where environment directories are (default: CODEDIR/environments)' },
  codedir: { arg: 'DIR', path: true, doc: "Puppet's codedir (default: Puppet's own, as root /etc/puppet/code on Debian)" },
  hiera_config: { arg: 'FILE', path: true, doc: 'the global hiera.yaml (default: CONFDIR/hiera.yaml)' },
  modulepath: { arg: 'DIRS', path: true, doc: `colon-separated module directories, replacing the environment's (${DEBIAN_MODULES} is appended)` },
  certname: { arg: 'NAME', path: false, doc: "the node's certname: $trusted.certname, and its certificate in SSLDIR for $trusted.extensions" },
  ssldir: { arg: 'DIR', path: true, doc: "where the node's certificate is (read only; default: Puppet's own)" },
};

/** `hiera_config` -> `hiera-config`: the dashed spelling of a flag, also accepted. */
export function dashed(name: string): string {
  return name.replace(/_/g, '-');
}

/** The parseArgs options of every setting, under Puppet's spelling and the dashed one. */
export function settingFlagOptions(): Record<string, { type: 'string' }> {
  const out: Record<string, { type: 'string' }> = {};
  for (const name of Object.keys(PUPPET_SETTINGS)) {
    out[name] = { type: 'string' };
    out[dashed(name)] = { type: 'string' };
  }
  return out;
}

/** The `--help` lines of the settings. */
export function settingsHelp(): string {
  return Object.entries(PUPPET_SETTINGS)
    .map(([name, def]) => `  --${`${name} ${def.arg}`.padEnd(19)} ${def.doc}`)
    .join('\n');
}

/**
 * Puppet's command-line arguments for the settings the user gave. Paths are made absolute (against the current
 * directory, as Puppet does). A `--modulepath` gets Debian's modules appended
 * unless it lists them, so stdlib and the core types stay found as before.
 */
export function settingsArgs(settings: PuppetSettings, resolvePath: (p: string) => string = (p) => resolve(p)): string[] {
  const args: string[] = [];
  for (const name of Object.keys(PUPPET_SETTINGS) as PuppetSettingName[]) {
    const value = settings[name];
    if (value === undefined) continue;
    if (name === 'modulepath') {
      const dirs = (value as readonly string[]).filter((d) => d !== '').map(resolvePath);
      if (!dirs.includes(DEBIAN_MODULES)) dirs.push(DEBIAN_MODULES);
      args.push('--modulepath', dirs.join(':'));
    } else if (name === 'environmentpath') {
      args.push(`--${name}`, (value as string).split(':').filter(Boolean).map(resolvePath).join(':'));
    } else {
      args.push(`--${name}`, PUPPET_SETTINGS[name].path ? resolvePath(value as string) : (value as string));
    }
  }
  return args;
}

/**
 * Reads the settings from parsed flags (either spelling; the underscore one wins when both are given).
 * `modulepath` is split at colons.
 */
export function settingsFromFlags(values: Readonly<Record<string, unknown>>): PuppetSettings {
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(PUPPET_SETTINGS) as PuppetSettingName[]) {
    const v = values[name] ?? values[dashed(name)];
    if (typeof v !== 'string') continue;
    out[name] = name === 'modulepath' ? v.split(':').filter(Boolean) : v;
  }
  return out;
}

/**
 * Without a `certname` of their own, the settings take the node's name as Puppet's certname, as with
 * `puppet apply --certname` (so Puppet need not ask Facter for the host name, and `$trusted.certname` is the node).
 */
export function withNodeCertname(settings: PuppetSettings, node: string | undefined): PuppetSettings {
  return settings.certname === undefined && node !== undefined ? { ...settings, certname: node } : settings;
}

/** What a setting the user gave must be on disk for Puppet to read it (Puppet itself ignores a missing one). */
const EXPECTED: Partial<Record<PuppetSettingName, { readonly kind: 'file' | 'dir'; readonly hint: string }>> = {
  confdir: { kind: 'dir', hint: "give the directory that holds puppet.conf, or leave --confdir out for Puppet's own" },
  config: { kind: 'file', hint: 'give a readable puppet.conf, or leave --config out to read CONFDIR/puppet.conf' },
  codedir: { kind: 'dir', hint: "give Puppet's codedir, or leave --codedir out for Puppet's own" },
  hiera_config: { kind: 'file', hint: 'give a readable Hiera 5 hiera.yaml, or leave --hiera_config out for CONFDIR/hiera.yaml' },
  ssldir: { kind: 'dir', hint: "give the directory that holds certs/CERTNAME.pem, or leave --ssldir out for Puppet's own" },
};

/**
 * Checks the files and directories the user named: Puppet silently ignores a `--config` or `--hiera_config` that
 * does not exist, and compiles something else than what was asked. Returns one message per problem (what, which
 * flag, what to do); empty when all is well. A puppet.conf in `--confdir` must be readable when it exists.
 */
export function checkSettings(settings: PuppetSettings): string[] {
  const problems: string[] = [];
  const flag = (name: string) => `--${name}`;
  for (const [name, want] of Object.entries(EXPECTED) as [PuppetSettingName, { kind: 'file' | 'dir'; hint: string }][]) {
    const value = settings[name];
    if (typeof value !== 'string') continue;
    const path = resolve(value);
    const why = unreadable(path, want.kind);
    if (why !== undefined) problems.push(`${flag(name)} ${path}: ${why}; ${want.hint}`);
  }
  if (settings.confdir !== undefined && settings.config === undefined) {
    const conf = resolve(settings.confdir, 'puppet.conf');
    if (existsSync(conf)) {
      const why = unreadable(conf, 'file');
      if (why !== undefined) problems.push(`${conf} (puppet.conf of --confdir): ${why}; make it readable, or point --config at another`);
    }
  }
  if (settings.environmentpath !== undefined) {
    const dirs = settings.environmentpath.split(':').filter(Boolean);
    if (!dirs.some((d) => unreadable(resolve(d), 'dir') === undefined)) {
      problems.push(`--environmentpath ${settings.environmentpath}: no readable directory in it; give the directories that hold your environments`);
    }
  }
  return problems;
}

/** Why `path` cannot be read as a `kind`, or undefined when it can. */
function unreadable(path: string, kind: 'file' | 'dir'): string | undefined {
  try {
    const st = statSync(path);
    if (kind === 'dir' && !st.isDirectory()) return 'not a directory';
    if (kind === 'file' && !st.isFile()) return 'not a regular file';
    accessSync(path, constants.R_OK | (kind === 'dir' ? constants.X_OK : 0));
    if (kind === 'file') closeSync(openSync(path, 'r'));
    return undefined;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? `no such ${kind === 'dir' ? 'directory' : 'file'}` : code === 'EACCES' ? 'permission denied' : (e as Error).message;
  }
}
