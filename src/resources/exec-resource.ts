/**
 * What an exec resource does on the system (the kind, its parameters and checks: exec.ts): runs its guards and its
 * command as its user, and its watch command.
 */
import { type ExecRunParams } from './exec.js';
import { stat } from 'node:fs/promises';
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
import { type Resource, type ResourceContext } from './resource.js';

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

export function execResource(_name: string, p: ExecRunParams, ctx: ResourceContext): Resource {
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
        c.change?.({ property: 'returns', previous: 'notrun', desired: ['0'], message: `would run: ${display}` });
        return false;
      }
      const out = boundedLog((l) => output.info(l));
      const r = await runOrExplain('cmd', { ...(await base(c.signal)), command: main, cwd: p.cwd }, out.onLine);
      out.done();
      if (r.aborted) throw new Error(`'${display}' ${describeOutcome(r)}; its process group was killed${tail(r)}`);
      if (r.code !== 0) throw new Error(`'${display}' ${describeOutcome(r)}${tail(r)}`);
      ctx.log.info(`ran: ${display}`);
      // Puppet's event for a command that ran: `returns` from notrun to the accepted exit codes
      c.change?.({ property: 'returns', previous: 'notrun', desired: ['0'], message: 'executed successfully' });
      return false;
    },
  };
}
