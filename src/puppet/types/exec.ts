/**
 * Puppet `exec` → `exec`. The vertex is `exec[<title>]` (never the command: two execs may share one).
 * - A string command runs through `/bin/sh -c`; an array command runs argv directly (`cmd` + `args`).
 * - onlyif / unless → `ifcmd` / `nifcmd` with `/bin/sh`; several commands are joined with `&&` (Puppet runs the
 *   exec when all onlyif succeed, and skips it when all unless succeed).
 * - path / environment → `env`. Our exec starts from an empty environment where Puppet inherits the agent's:
 *   we set `PATH` from `path` only (Puppet requires qualified commands without `path`), and never HOME or LANG;
 *   give them in `environment` when a command needs them (docs/puppet.md).
 * - timeout → `meta.timeout` in ms, Puppet's default 300 s when not given; tries → `meta.retry` = tries − 1;
 *   try_sleep → `meta.delay` in ms.
 */
import { REFUSED, type RuleContext, type TypeRules, truthy } from '../rules.js';

/** Puppet's default exec timeout, in seconds. */
export const PUPPET_EXEC_TIMEOUT_S = 300;

/** POSIX shell quoting of one argument. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_/.,:=+@%-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** One guard command as shell text: a string as is, an argv array quoted. */
function commandText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string')) return v.map(shellQuote).join(' ');
  return undefined;
}

/** onlyif/unless: a command, an argv array, or a list of commands (strings or argv arrays). */
function guard(attr: string, v: unknown, ctx: RuleContext): string | typeof REFUSED {
  let cmds: string[] | undefined;
  if (typeof v === 'string') cmds = [v];
  else if (Array.isArray(v)) {
    // ['/bin/test', '-f', '/x'] is one argv only if Puppet would see it that way; Puppet treats an array of
    // strings as several commands, so do the same.
    const each = v.map(commandText);
    cmds = each.every((c): c is string => c !== undefined) ? each : undefined;
  }
  if (!cmds || cmds.length === 0) {
    ctx.refuse(attr, 'this command shape is not supported');
    return REFUSED;
  }
  return cmds.length === 1 ? cmds[0]! : cmds.map((c) => (/[|&;\n]/.test(c) ? `{ ${c}; }` : c)).join(' && ');
}

const seconds = (attr: string, v: unknown, ctx: RuleContext): number | typeof REFUSED => {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^[0-9]+(\.[0-9]+)?$/.test(v) ? Number(v) : NaN;
  if (!Number.isFinite(n) || n < 0) {
    ctx.refuse(attr, 'not a number of seconds');
    return REFUSED;
  }
  return Math.round(n * 1000);
};

const listOf = (v: unknown): unknown[] => (Array.isArray(v) ? v.flat() : [v]);

export const execRules: TypeRules = {
  type: 'Exec',
  kind: 'exec',
  doc: 'A command guarded by onlyif/unless/creates. The vertex is `exec[<title>]`.',
  name: (r) => r.title,
  attributes: {
    command: { do: 'use', doc: '`cmd` + `shell: /bin/sh`; an array: `cmd` = argv[0], `args` = the rest, no shell (default: the title)' },
    onlyif: { do: 'map', to: 'ifcmd', fn: (v, ctx) => guard('onlyif', v, ctx), doc: 'with `ifshell: /bin/sh`; several joined with `&&`' },
    unless: { do: 'map', to: 'nifcmd', fn: (v, ctx) => guard('unless', v, ctx), doc: 'with `nifshell: /bin/sh`; several joined with `&&`' },
    creates: {
      do: 'map',
      to: 'creates',
      fn: (v, ctx) => {
        const l = listOf(v);
        if (l.length === 1 && typeof l[0] === 'string') return l[0];
        ctx.refuse('creates', 'several creates paths are not supported');
        return REFUSED;
      },
    },
    refreshonly: { do: 'map', to: 'refreshonly', fn: (v) => truthy(v) },
    cwd: { do: 'carry' },
    user: { do: 'map', to: 'user', fn: (v) => String(v) },
    group: { do: 'map', to: 'group', fn: (v) => String(v) },
    path: { do: 'use', doc: '`env.PATH`, joined with `:`' },
    environment: { do: 'use', doc: '`env` entries `K=v`' },
    timeout: { do: 'toMeta', meta: 'timeout', fn: (v, ctx) => seconds('timeout', v, ctx), doc: 'in ms; 300000 (Puppet’s 300 s) when not given' },
    tries: {
      do: 'toMeta',
      meta: 'retry',
      fn: (v, ctx) => {
        const n = Number(v);
        if (Number.isInteger(n) && n >= 1) return n - 1;
        ctx.refuse('tries', 'not a positive integer');
        return REFUSED;
      },
      doc: 'tries − 1',
    },
    try_sleep: { do: 'toMeta', meta: 'delay', fn: (v, ctx) => seconds('try_sleep', v, ctx), doc: 'in ms' },
    returns: {
      do: 'refuse',
      reason: 'exit codes other than 0 are not supported',
      accept: (v) => listOf(v).length === 1 && String(listOf(v)[0]) === '0',
    },
    umask: { do: 'refuse', reason: 'umask is not supported' },
    refresh: { do: 'refuse', reason: 'a separate refresh command is not supported' },
    provider: { do: 'refuse', reason: 'only the posix and shell providers are supported', accept: (v) => v === 'posix' || v === 'shell' },
    logoutput: { do: 'note', message: 'output is logged on failure only' },
  },
  finish: (ctx) => {
    const r = ctx.resource;
    const command = ctx.has('command') ? ctx.value('command') : r.title;
    if (typeof command === 'string') {
      ctx.set('cmd', command, ctx.has('command') ? 'command' : []);
      ctx.set('shell', '/bin/sh', []);
    } else if (Array.isArray(command) && command.length > 0 && command.every((x) => typeof x === 'string')) {
      ctx.set('cmd', command[0], 'command');
      if (command.length > 1) ctx.set('args', command.slice(1), 'command');
    } else ctx.refuse('command', 'this command shape is not supported');
    if (ctx.get('ifcmd') !== undefined) ctx.set('ifshell', '/bin/sh', []);
    if (ctx.get('nifcmd') !== undefined) ctx.set('nifshell', '/bin/sh', []);

    const env: Record<string, string> = {};
    const from: string[] = [];
    if (ctx.has('path')) {
      const p = ctx.value('path');
      const parts = listOf(p);
      if (parts.every((x) => typeof x === 'string')) {
        env.PATH = parts.join(':');
        from.push('path');
      } else ctx.refuse('path', 'path is not a list of directories');
    }
    if (ctx.has('environment')) {
      for (const e of listOf(ctx.value('environment'))) {
        const m = typeof e === 'string' ? /^([^=]+)=(.*)$/s.exec(e) : null;
        if (!m) {
          ctx.refuse('environment', 'environment entries must be K=v');
          break;
        }
        env[m[1]!] = m[2]!;
      }
      from.push('environment');
    }
    if (from.length) ctx.set('env', env, from);
    if (!ctx.has('timeout')) ctx.setMeta('timeout', PUPPET_EXEC_TIMEOUT_S * 1000);
  },
};
