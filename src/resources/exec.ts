/**
 * The exec resource: runs a command when its guards say the state is wrong. Refreshable (unlike mgmt's): a
 * refresh over a notify edge makes it run, and `refreshonly` makes it run only then (Puppet's `refreshonly`).
 */
import { stat } from 'node:fs/promises';
import { isAbsolute, posix } from 'node:path';
import { accountRefProblem } from './account-ref.js';
import { defineKind, type Problem } from './resource.js';
import { TIMER_MAX_S, type WrittenParamsOf } from './params.js';
import { untilAborted } from '../system/proc/abort.js';
import { resolveGroup, resolveUser, UnknownAccountError, userAndPrimaryGroup } from '../system/tools/ids.js';
import { watchPath } from '../system/fs/path-watcher.js';
import {
  describeOutcome,
  outputTail,
  run,
  startLines,
  type Command,
  type LineProcess,
  type OnLine,
  type ProcessOptions,
  type ProcessResult,
} from '../system/proc/launcher.js';
import { errorText } from '../observe/errors.js';
import { pathProblem } from '../system/fs/path-check.js';

const params = {
  cmd: {
    type: 'string',
    doc: "The command to run; defaults to the resource name. Without `shell` it is split on whitespace into argv with no quote handling (mgmt's semantics), so use `shell` for quoting, pipes or expansions.",
  },
  args: { type: 'string[]', doc: 'Extra arguments appended to the argv split from `cmd`; not allowed together with `shell`.' },
  shell: { type: 'string', emptyIsUnset: true, doc: 'A shell (such as `/bin/sh`) that runs `cmd` as `<shell> -c <cmd>`.' },
  cwd: { type: 'string', emptyIsUnset: true, doc: "Absolute working directory of `cmd`; unset: the engine's own." },
  env: {
    type: 'map',
    doc: 'The complete environment of `cmd` and of the guard and watch commands; unset means an empty environment, where programs are looked up in `/usr/bin:/bin`.',
  },
  user: {
    type: 'string',
    emptyIsUnset: true,
    doc: "User name (from /etc/passwd, else NSS) or uid that runs `cmd` and the guard and watch commands (needs root); without `group`, the user's primary group is used. A `user` resource of that name is applied first.",
  },
  group: {
    type: 'string',
    emptyIsUnset: true,
    doc: 'Group name (from /etc/group, else NSS) or gid that runs `cmd` and the guard and watch commands (needs root). A `group` resource of that name is applied first.',
  },
  ifcmd: {
    type: 'string',
    emptyIsUnset: true,
    doc: "Guard: `cmd` runs only if this command exits 0; a non-zero exit means the state is already right (Puppet's `onlyif`).",
  },
  ifshell: { type: 'string', emptyIsUnset: true, doc: 'A shell that runs `ifcmd` as `<shell> -c <ifcmd>`; unset: `ifcmd` is split on whitespace.' },
  ifcwd: { type: 'string', emptyIsUnset: true, doc: "Absolute working directory of `ifcmd`; unset: the engine's own." },
  nifcmd: {
    type: 'string',
    emptyIsUnset: true,
    doc: "Inverse guard: when this command exits 0 the state is already right and `cmd` does not run (Puppet's `unless`).",
  },
  nifshell: { type: 'string', emptyIsUnset: true, doc: 'A shell that runs `nifcmd` as `<shell> -c <nifcmd>`; unset: `nifcmd` is split on whitespace.' },
  nifcwd: { type: 'string', emptyIsUnset: true, doc: "Absolute working directory of `nifcmd`; unset: the engine's own." },
  creates: {
    type: 'string',
    emptyIsUnset: true,
    doc: 'Absolute path: `cmd` does not run while it exists; the path is watched, so removing it makes `cmd` run again.',
  },
  watchcmd: {
    type: 'string',
    emptyIsUnset: true,
    doc: 'A long-running command whose every output line means the state may have drifted; its exit (even with code 0) is a watch error, retried per the `retry` metaparam.',
  },
  watchshell: { type: 'string', emptyIsUnset: true, doc: 'A shell that runs `watchcmd` as `<shell> -c <watchcmd>`; unset: `watchcmd` is split on whitespace.' },
  watchcwd: { type: 'string', emptyIsUnset: true, doc: "Absolute working directory of `watchcmd`; unset: the engine's own." },
  refreshonly: {
    type: 'boolean',
    default: false,
    doc: "Run `cmd` only when a refresh arrives over a notify edge (Puppet's `refreshonly`); the guards still apply then.",
  },
  timeout: {
    type: 'integer',
    minimum: 0,
    maximum: TIMER_MAX_S,
    doc: 'Old mgmt spelling of the run deadline, in seconds.',
    deprecated: 'use meta: {timeout: <milliseconds>}',
    toMeta: (v: unknown) => (typeof v === 'number' && v > 0 ? { timeout: v * 1000 } : undefined),
  },
  pollint: {
    type: 'integer',
    minimum: 0,
    maximum: TIMER_MAX_S,
    doc: 'Old mgmt spelling of the polling interval, in seconds.',
    deprecated: 'use meta: {poll: <seconds>}',
    toMeta: (v: unknown) => (typeof v === 'number' && v > 0 ? { poll: v } : undefined),
  },
  state: {
    type: 'string',
    enum: ['present', 'exists', ''],
    doc: 'Old mgmt parameter without effect.',
    deprecated: 'exec has no state; remove it',
    toMeta: () => undefined,
  },
} as const;

/** The parameters of an exec resource as a spec writes them (the registry's kind is type-erased). */
export type ExecParams = WrittenParamsOf<typeof params>;

const ABSOLUTE_PARAMS = ['cwd', 'ifcwd', 'nifcwd', 'watchcwd', 'creates'] as const;

/**
 * What one run of a command may cost us: at most LOG_LINES of its output lines are logged (then one line says how
 * many more there were), each at most LINE_MAX characters (the launcher drops the rest of a longer line), and the
 * launcher keeps its last 20 lines per stream for the error message. 100 MB of output costs no more memory than
 * a few lines.
 */
const LOG_LINES = 100;
const LINE_MAX = 4096;

/** Logs the first LOG_LINES output lines of one command, counts the rest; `done()` logs the count. */
function boundedLog(log: (line: string) => void): { onLine: OnLine; done: () => void } {
  let seen = 0;
  return {
    onLine: (stream, line) => {
      if (++seen <= LOG_LINES) log(`${stream}: ${line}`);
    },
    done: () => {
      if (seen > LOG_LINES) log(`... ${seen - LOG_LINES} more output lines not logged (the last lines of each stream are in its messages)`);
    },
  };
}

export const execKind = defineKind({
  kind: 'exec',
  doc: "Runs a command when its guards (`ifcmd`, `nifcmd`, `creates`) say the state is wrong; a zero exit counts as a change and a non-zero exit is an error. Without guards it runs once per watch event: once at start, then on each `watchcmd` line, change of `creates`, refresh, or `meta.poll` tick. It is refreshable: a refresh over a notify edge makes it run (still subject to its guards), and `refreshonly` makes it run only then. Cancelling or timing out (`meta.timeout`) kills the command's whole process group, as does the command's exit: anything it left running in the background is killed, so start daemons through a service manager or `setsid`.",
  params,
  nameParam: 'cmd',
  refreshable: true,
  reach: { touches: ['commands'], collect: 'explicit' },
  validate: (_name, p) => {
    const out: Problem[] = [];
    if (p.cmd.trim() === '') out.push({ param: 'cmd', message: 'exec needs a command: `cmd` (or else the name) is empty' });
    if (p.shell !== undefined && p.args !== undefined && p.args.length > 0) {
      out.push({ param: 'args', message: '`args` cannot be used with `shell`: put the arguments in `cmd`' });
    }
    for (const key of ['ifcmd', 'nifcmd', 'watchcmd'] as const) {
      const v = p[key];
      if (v?.trim() === '') out.push({ param: key, message: `\`${key}\` is blank` });
    }
    for (const key of ABSOLUTE_PARAMS) {
      const v = p[key];
      const bad = v === undefined ? undefined : pathProblem(v);
      if (bad !== undefined) out.push({ param: key, message: `\`${key}\` ${bad}` });
      else if (v !== undefined && !isAbsolute(v)) out.push({ param: key, message: `\`${key}\` must be an absolute path, got '${v}'` });
    }
    for (const [k, v] of Object.entries(p.env ?? {})) {
      if (k === '' || k.includes('=') || k.includes('\0')) out.push({ param: 'env', message: `invalid environment variable name '${k}'` });
      if (v.includes('\0')) out.push({ param: 'env', message: `environment variable '${k}' contains a NUL byte` });
    }
    for (const key of ['user', 'group'] as const) {
      const v = p[key];
      const why = v === undefined ? undefined : accountRefProblem(key, v);
      if (why) out.push({ param: key, message: `\`${key}\` ${why}` });
    }
    if ((p.user !== undefined || p.group !== undefined) && process.getuid?.() !== 0) {
      out.push({ param: p.user !== undefined ? 'user' : 'group', message: '`user` and `group` need the engine to run as root' });
    }
    return out;
  },
  autoEdges: (_name, { cwd, user, group }) => {
    const hints: { afterPath?: string[]; afterVertex?: { kind: string; name: string }[] } = {};
    if (cwd !== undefined) {
      const dir = posix.normalize(cwd);
      hints.afterPath = [dir.endsWith('/') ? dir : `${dir}/`];
    }
    // After the user and group it runs as, when the graph manages them by name (Puppet's autorequire).
    const vertices = [
      ...(user !== undefined && !/^[0-9]+$/.test(user) ? [{ kind: 'user', name: user }] : []),
      ...(group !== undefined && !/^[0-9]+$/.test(group) ? [{ kind: 'group', name: group }] : []),
    ];
    if (vertices.length) hints.afterVertex = vertices;
    return hints;
  },
  create: (_name, p, ctx) => {
    const cmdText = p.cmd;
    const display = p.shell === undefined && p.args?.length ? `${cmdText} ${p.args.join(' ')}` : cmdText;
    const main = commandOf(cmdText, p.shell, p.args);
    // Output derived from a secret (`echo $TOKEN` with a sensitive `env`) cannot be redacted by value: with any
    // sensitive parameter, no output of this resource's commands is printed (the log redacts the values).
    const hidden = (ctx.sensitive?.size ?? 0) > 0;
    const output = {
      debug: (m: string) => {
        if (!hidden) ctx.log.debug(m);
      },
      info: (m: string) => {
        if (!hidden) ctx.log.info(m);
      },
    };
    const tail = (r: ProcessResult) => (hidden ? '; its output is not shown (sensitive parameters)' : suffix(r));

    /** Options shared by every command this resource runs. */
    const base = async (signal: AbortSignal): Promise<Pick<ProcessOptions, 'env' | 'uid' | 'gid' | 'signal' | 'lineMax'>> => ({
      env: p.env,
      ...(await credentials(p.user, p.group, signal)),
      signal,
      lineMax: LINE_MAX,
    });

    /** Runs a guard; returns its exit code (null when killed by a signal). */
    const guard = async (which: 'ifcmd' | 'nifcmd', cmd: string, shell: string | undefined, cwd: string | undefined, signal: AbortSignal) => {
      const out = boundedLog((l) => output.debug(`${which} ${l}`));
      const r = await runOrExplain(which, { ...(await base(signal)), command: commandOf(cmd, shell), cwd }, out.onLine);
      out.done();
      if (r.aborted) throw new Error(`${which} '${cmd}' ${describeOutcome(r)}`);
      return r.code;
    };

    return {
      async watch(w) {
        const stops: (() => unknown)[] = [];
        try {
          let failed: Promise<never> | undefined;
          if (p.watchcmd !== undefined) {
            const watchcmd = p.watchcmd;
            let fail: (e: Error) => void = () => undefined;
            failed = new Promise<never>((_, reject) => (fail = reject));
            void failed.catch(() => undefined); // it may fail after the watch has already ended
            const proc = await startOrExplain(
              'watchcmd',
              { ...(await base(w.signal)), command: commandOf(watchcmd, p.watchshell), cwd: p.watchcwd },
              (s, l) => {
                output.debug(`watchcmd ${s}: ${l}`);
                w.event();
              },
              (r) => {
                if (!r.aborted) fail(new Error(`watchcmd '${watchcmd}' ${describeOutcome(r)}${tail(r)} (a watch command must keep running)`));
              },
            );
            stops.push(() => proc.stop());
          }
          if (p.creates !== undefined) stops.push(watchPath(p.creates, () => w.event()));
          w.event();
          await (failed ? Promise.race([untilAborted(w.signal), failed]) : untilAborted(w.signal));
        } finally {
          await Promise.all(stops.map((stop) => stop()));
        }
      },

      async checkApply(c) {
        if (p.refreshonly && !c.refresh) {
          ctx.log.debug('refreshonly and no refresh: not running');
          return true;
        }
        if (!c.apply && (p.user !== undefined || p.group !== undefined)) {
          const pending = await pendingAccount(p.user, p.group, c.signal);
          if (pending !== undefined) {
            // Under noop, an account the run has not created yet (applying, the autoedge has created it by now):
            // the guards cannot run as it, so the plan is reported without them, as Puppet's noop reports it.
            if (p.creates !== undefined && (await exists(p.creates))) {
              ctx.log.debug(`${p.creates} exists: not running`);
              return true;
            }
            const skipped = [p.ifcmd !== undefined ? 'ifcmd' : '', p.nifcmd !== undefined ? 'nifcmd' : ''].filter((x) => x !== '');
            ctx.log.info(`would run: ${display} (as ${pending}, not yet created${skipped.length ? `; ${skipped.join(' and ')} not run` : ''})`);
            return false;
          }
        }
        if (p.ifcmd !== undefined) {
          const code = await guard('ifcmd', p.ifcmd, p.ifshell, p.ifcwd, c.signal);
          if (code !== 0) {
            ctx.log.debug(`ifcmd exited with ${code ?? 'a signal'}: state is right, not running`);
            return true;
          }
        }
        if (p.nifcmd !== undefined) {
          const code = await guard('nifcmd', p.nifcmd, p.nifshell, p.nifcwd, c.signal);
          if (code === 0) {
            ctx.log.debug('nifcmd exited with 0: state is right, not running');
            return true;
          }
        }
        if (p.creates !== undefined && (await exists(p.creates))) {
          ctx.log.debug(`${p.creates} exists: not running`);
          return true;
        }
        if (!c.apply) {
          ctx.log.info(`would run: ${display}`);
          return false;
        }
        const out = boundedLog((l) => output.info(l));
        const r = await runOrExplain('cmd', { ...(await base(c.signal)), command: main, cwd: p.cwd }, out.onLine);
        out.done();
        if (r.aborted) throw new Error(`'${display}' ${describeOutcome(r)}; its process group was killed${tail(r)}`);
        if (r.code !== 0) throw new Error(`'${display}' ${describeOutcome(r)}${tail(r)}`);
        ctx.log.info(`ran: ${display}`);
        return false;
      },
    };
  },
});

/** mgmt's argv: the command split on whitespace (no quoting) plus `args`, or `[shell, '-c', cmd]`. */
function commandOf(cmd: string, shell: string | undefined, args?: readonly string[]): Command {
  if (shell !== undefined) return { shell, cmd };
  return { argv: [...cmd.split(/\s+/).filter((f) => f !== ''), ...(args ?? [])] };
}

function suffix(r: ProcessResult): string {
  const tail = outputTail(r);
  return tail === '' ? '' : `; ${tail}`;
}

/** Runs a command; a start failure (command not found...) becomes an error naming the parameter. */
async function runOrExplain(which: string, opts: ProcessOptions, onLine: OnLine): Promise<ProcessResult> {
  try {
    return await run(opts, onLine);
  } catch (e) {
    throw new Error(`${which}: ${errorText(e)}`, { cause: e });
  }
}

async function startOrExplain(which: string, opts: ProcessOptions, onLine: OnLine, onExit: (r: ProcessResult) => void): Promise<LineProcess> {
  try {
    return await startLines(opts, onLine, onExit);
  } catch (e) {
    throw new Error(`${which}: ${errorText(e)}`, { cause: e });
  }
}

/**
 * uid and gid for `user`/`group`, resolved at run time (a user created earlier in the run is found; names the local
 * files lack are asked of NSS). Only `user`: its primary group, as Puppet does.
 */
async function credentials(
  user: string | undefined,
  group: string | undefined,
  signal: AbortSignal,
): Promise<{ uid?: number | undefined; gid?: number | undefined }> {
  if (user === undefined) return group === undefined ? {} : { gid: await resolveGroup(group, signal) };
  if (group !== undefined) return { uid: await resolveUser(user, signal), gid: await resolveGroup(group, signal) };
  return userAndPrimaryGroup(user, signal);
}

/** `user 'x'` or `group 'x'` when that account does not exist (yet); undefined when every account given exists. */
async function pendingAccount(user: string | undefined, group: string | undefined, signal: AbortSignal): Promise<string | undefined> {
  const missing = (what: 'user' | 'group', name: string, resolve: (n: string, s: AbortSignal) => Promise<number>) =>
    resolve(name, signal).then(
      () => undefined,
      (e: unknown) => {
        if (e instanceof UnknownAccountError) return `${what} '${name}'`;
        throw e;
      },
    );
  return (
    (user !== undefined ? await missing('user', user, resolveUser) : undefined) ??
    (group !== undefined ? await missing('group', group, resolveGroup) : undefined)
  );
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
