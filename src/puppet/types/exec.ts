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
import type { ExecParams } from '../../resources/exec.js';
import { textOf } from '../catalog.js';
import { type Converter, type Derivation, type Predicate, refused, sourced, type TypeRules } from '../rules.js';
import { accountNamed, str } from './auto.js';

/** Puppet's exec autorequire: `^(/\\S+)` and `^"([^"]+)"` on each line (Ruby's `^` is a line start). */
const LEADING_PATH = /^(\/\S+)/gm;
const LEADING_QUOTED = /^"([^"]+)"/gm;

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

const MSG_COMMAND_SHAPE = 'this command shape is not supported';

/** onlyif/unless: a command, an argv array, or a list of commands (strings or argv arrays). */
const guard: Converter = {
  doc: 'to shell text; several commands joined with `&&`',
  refuses: MSG_COMMAND_SHAPE,
  convert: (v) => {
    let cmds: string[] | undefined;
    if (typeof v === 'string') cmds = [v];
    else if (Array.isArray(v)) {
      // ['/bin/test', '-f', '/x'] is one argv only if Puppet would see it that way; Puppet treats an array of
      // strings as several commands, so do the same.
      const each = v.map(commandText);
      cmds = each.every((c): c is string => c !== undefined) ? each : undefined;
    }
    if (!cmds || cmds.length === 0) return refused(MSG_COMMAND_SHAPE);
    return cmds.length === 1 ? cmds[0]! : cmds.map((c) => (/[|&;\n]/.test(c) ? `{ ${c}; }` : c)).join(' && ');
  },
};

const listOf = (v: unknown): unknown[] => (Array.isArray(v) ? v.flat() : [v]);

const onePath: Converter = {
  doc: 'one path',
  refuses: 'several creates paths are not supported',
  convert: (v) => {
    const l = listOf(v);
    return l.length === 1 && typeof l[0] === 'string' ? l[0] : refused('several creates paths are not supported');
  },
};

const retries: Converter = {
  doc: 'tries − 1',
  refuses: 'not a positive integer',
  convert: (v) => {
    // Only a number or a string is a count (Number() of an arbitrary catalog value may even throw).
    const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : NaN;
    return Number.isInteger(n) && n >= 1 ? n - 1 : refused('not a positive integer');
  },
};

const exitZero: Predicate = { doc: '0', test: (v) => listOf(v).length === 1 && textOf(listOf(v)[0]) === '0' };

/** The command: the `command` attribute, else the title (Puppet's namevar). */
const commandOf = (ctx: Parameters<Derivation['derive']>[0]): unknown => (ctx.has('command') ? ctx.value('command') : ctx.resource.title);
const isArgv = (c: unknown): c is string[] => Array.isArray(c) && c.length > 0 && c.every((x) => typeof x === 'string');

const execCmd: Derivation = {
  doc: 'a string: the command (default: the title); an array: argv[0]',
  derive: (ctx) => {
    const c = commandOf(ctx);
    if (typeof c === 'string') return c;
    if (isArgv(c)) return c[0];
    return refused(MSG_COMMAND_SHAPE);
  },
};

const execArgs: Derivation = {
  doc: 'an array command: argv[1..]',
  derive: (ctx) => {
    const c = commandOf(ctx);
    return isArgv(c) && c.length > 1 ? c.slice(1) : undefined;
  },
};

/** A string command runs through the shell, as Puppet's posix provider runs it. */
const execShell: Derivation = {
  doc: '`/bin/sh` for a string command (an array runs without a shell)',
  derive: (ctx) => (typeof commandOf(ctx) === 'string' ? sourced('/bin/sh', []) : undefined),
};

/** The guards are shell text: they run through `/bin/sh`. */
const guardShell = (param: 'ifcmd' | 'nifcmd'): Derivation => ({
  doc: `\`/bin/sh\` when \`${param}\` is set`,
  derive: (ctx) => (ctx.get(param) !== undefined ? sourced('/bin/sh', []) : undefined),
});

/** Our exec starts from an empty environment: PATH from `path`, then the `environment` entries. */
const execEnv: Derivation = {
  doc: '`PATH` from `path` (joined with `:`), then the `environment` entries `K=v`',
  derive: (ctx) => {
    const env: Record<string, string> = {};
    const from: string[] = [];
    if (ctx.has('path')) {
      const parts = listOf(ctx.value('path'));
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
    return from.length ? sourced(env, from) : undefined;
  },
};

export const execRules: TypeRules<ExecParams> = {
  type: 'Exec',
  kind: 'exec',
  doc: 'A command guarded by onlyif/unless/creates. The vertex is `exec[<title>]`.',
  name: (r) => r.title,
  attributes: {
    onlyif: { do: 'carry', to: 'ifcmd', as: guard },
    unless: { do: 'carry', to: 'nifcmd', as: guard },
    creates: { do: 'carry', to: 'creates', as: onePath },
    refreshonly: { do: 'carry', to: 'refreshonly', as: 'boolean' },
    cwd: { do: 'carry', to: 'cwd' },
    user: { do: 'carry', to: 'user', as: 'string' },
    group: { do: 'carry', to: 'group', as: 'string' },
    timeout: { do: 'toMeta', meta: 'timeout', as: 'milliseconds', default: PUPPET_EXEC_TIMEOUT_S, doc: 'Puppet’s default' },
    tries: { do: 'toMeta', meta: 'retry', as: retries },
    try_sleep: { do: 'toMeta', meta: 'delay', as: 'milliseconds' },
    returns: { do: 'refuse', reason: 'exit codes other than 0 are not supported', accept: exitZero },
    umask: { do: 'refuse', reason: 'umask is not supported' },
    refresh: { do: 'refuse', reason: 'a separate refresh command is not supported' },
    provider: { do: 'refuse', reason: 'only the posix and shell providers are supported', accept: ['posix', 'shell'] },
    logoutput: { do: 'info', message: 'only shapes output: the command’s output is logged on failure only' },
  },
  derive: {
    cmd: { from: ['command'], by: execCmd },
    args: { from: ['command'], by: execArgs },
    shell: { from: ['command'], by: execShell },
    ifshell: { from: ['onlyif'], by: guardShell('ifcmd') },
    nifshell: { from: ['unless'], by: guardShell('nifcmd') },
    env: { from: ['path', 'environment'], by: execEnv },
  },
  autorelations: [
    {
      relation: 'require',
      type: 'File',
      doc: 'its `cwd`; every absolute path that starts a line of `command` (its first element when it is an array; a double-quoted one too), of `onlyif` and of `unless`',
      names: (r) => {
        const p = r.parameters;
        const out = str(p.cwd);
        const cmd: unknown = Array.isArray(p.command) ? p.command[0] : (p.command ?? r.title);
        if (typeof cmd === 'string') {
          for (const m of cmd.matchAll(LEADING_PATH)) out.push(m[1]!);
          for (const m of cmd.matchAll(LEADING_QUOTED)) out.push(m[1]!);
        }
        for (const guard of [p.onlyif, p.unless]) {
          if (guard === undefined) continue;
          for (const l of Array.isArray(guard) ? guard : [guard]) {
            const line: unknown = Array.isArray(l) ? l[0] : l;
            if (typeof line === 'string') for (const m of line.matchAll(LEADING_PATH)) out.push(m[1]!);
          }
        }
        return out;
      },
    },
    { relation: 'require', type: 'User', doc: 'its `user`, unless numeric', names: (r) => accountNamed(r.parameters.user) },
  ],
};
