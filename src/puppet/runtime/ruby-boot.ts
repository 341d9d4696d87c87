/**
 * How the Puppet processes we start boot (puppet-module/lib/puppet_x/mgmtgraph/boot.rb): Ruby's garbage collector
 * paused while Puppet loads, and a cache of Ruby's compiled code (compile_cache.rb). A worker is ready in ~0.5 s
 * instead of ~0.85 s once the cache holds Puppet's files.
 *
 * The directory: MGMT_RUBY_CACHE when set (empty: no cache), else $XDG_CACHE_HOME/mgmt/ruby, else
 * ~/.cache/mgmt/ruby. It is created mode 0700; Ruby uses it only if it is a directory this user owns, no one else
 * may write, on a path no one else can change (its entries are code Ruby runs: compile_cache.rb).
 */
import { mkdirSync, realpathSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';

/** What RUBYOPT=-r loads first (from our module's lib, on RUBYLIB): it installs the cache and pauses GC while Puppet loads. */
export const BOOT_FEATURE = 'puppet_x/mgmtgraph/boot';

/** The cache directory for this environment, or undefined for none. */
export function rubyCompileCacheDir(env: Readonly<Record<string, string | undefined>>): string | undefined {
  const given = env.MGMT_RUBY_CACHE;
  if (given !== undefined) return given !== '' && isAbsolute(given) ? given : undefined;
  const xdg = env.XDG_CACHE_HOME;
  const base = xdg && isAbsolute(xdg) ? xdg : env.HOME && isAbsolute(env.HOME) ? join(env.HOME, '.cache') : undefined;
  return base === undefined ? undefined : join(base, 'mgmt', 'ruby');
}

const made = new Map<string, string | null>();

/**
 * Creates the directory (once per process) and returns its real path (Ruby refuses a path through a symbolic
 * link, as a home under /home -> /data/home is); null when it cannot be made (a read-only home): no cache then.
 */
function ensureDir(dir: string): string | null {
  let real = made.get(dir);
  if (real === undefined) {
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      real = realpathSync(dir);
    } catch {
      real = null;
    }
    made.set(dir, real);
  }
  return real;
}

/**
 * The variables for a Puppet process of ours started with `env`: RUBYOPT loads our boot file first (boot.rb: GC
 * paused while Puppet loads), and MGMT_RUBY_CACHE names the cache when there is one. The Ruby side removes both
 * before it runs anything, so the commands Puppet runs see the user's own RUBYOPT.
 */
export function rubyBootEnv(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const dir = rubyCompileCacheDir(env);
  const real = dir === undefined ? null : ensureDir(dir);
  const opt = env.RUBYOPT;
  return { ...(real !== null ? { MGMT_RUBY_CACHE: real } : {}), RUBYOPT: `-r${BOOT_FEATURE}${opt ? ` ${opt}` : ''}` };
}
