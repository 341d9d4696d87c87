/**
 * Users' crontabs through crontab(1) (Debian's package `cron`; the cron daemon need not run): `crontab -l -u USER`
 * reads one ("no crontab for USER" is an empty one), `crontab -u USER -` checks a whole new text read from its
 * stdin and installs it atomically (a temp file in the spool directory renamed over the user's file). We never
 * write the spool file ourselves: crontab(1) validates the text, sets the owner and mode, and tells the daemon.
 * The text goes through a pipe, never a temp file of ours: no path that anyone could swap or read.
 *
 * Every run has a deadline (CRONTAB_TIMEOUT_MS) and an environment of its own (PATH, LC_ALL=C, so that its
 * messages can be recognised). The text is read whole, byte for byte (a lone `\r` in a command is kept); a crontab
 * that is not UTF-8 is refused rather than rewritten with replacement characters.
 */
import { join } from 'node:path';
import { describeOutcome, run, SpawnError, startLines, type ProcessResult } from '../proc/launcher.js';
import { errorText } from '../../observe/errors.js';

/** Where crontab(1) keeps each user's crontab on Debian (the file is named after the user; the directory is 1730 root:crontab). */
export const CRONTAB_SPOOL = '/var/spool/cron/crontabs';
export const CRONTAB_PATH = '/usr/bin:/bin';
/** The deadline of one crontab(1) run. */
export const CRONTAB_TIMEOUT_MS = 30_000;

/** The user's spool file: what to watch for changes made by `crontab -e`, `crontab -r` or another `crontab FILE`. */
export function spoolFile(user: string): string {
  return join(CRONTAB_SPOOL, user);
}

/** crontab(1) said the user does not exist. */
export class UnknownCrontabUser extends Error {
  override readonly name = 'UnknownCrontabUser';
}

function deadline(signal?: AbortSignal): AbortSignal {
  const t = AbortSignal.timeout(CRONTAB_TIMEOUT_MS);
  return signal ? AbortSignal.any([signal, t]) : t;
}

async function crontab(args: readonly string[], signal: AbortSignal | undefined, captureStdout: boolean, input?: string): Promise<ProcessResult> {
  const shown = ['crontab', ...args].join(' ');
  const opts = { command: { argv: ['crontab', ...args] }, env: { PATH: CRONTAB_PATH, LC_ALL: 'C' }, signal: deadline(signal), captureStdout };
  try {
    if (input === undefined) return await run(opts);
    const p = await startLines(
      { ...opts, stdin: 'pipe' },
      () => undefined,
      () => undefined,
    );
    p.stdin?.end(input);
    return await p.exited;
  } catch (e) {
    if (e instanceof SpawnError && e.code === 'ENOENT')
      throw new Error(`crontab is not installed (searched ${CRONTAB_PATH}); install the Debian package "cron"`);
    throw new Error(`${shown}: ${errorText(e)}`);
  }
}

/** The error for a failed run: what crontab said, and what to do about it where we know. */
function failure(user: string, shown: string, r: ProcessResult, signal: AbortSignal | undefined): Error {
  const said = r.stderrTail.map((l) => l.replace(/^crontab:\s*/, '')).join(' | ');
  if (r.aborted) {
    const why = r.timedOut && !signal?.aborted ? `timed out after ${CRONTAB_TIMEOUT_MS / 1000} s` : describeOutcome(r);
    return new Error(`${shown} ${why}; it was killed${said ? `: ${said}` : ''}`);
  }
  if (/user .* unknown|unknown user/i.test(said)) {
    return new UnknownCrontabUser(
      `no such user '${user}' (crontab: ${said}): create the user first (a user[${user}] resource in the graph comes before this one)`,
    );
  }
  if (/not allowed/i.test(said)) return new Error(`${user} may not use cron (crontab: ${said}): see /etc/cron.allow and /etc/cron.deny`);
  if (/errors in crontab file/i.test(said)) {
    return new Error(
      `crontab refused ${user}'s new crontab (${said}); our entry is valid, so look for an invalid line among the others with \`crontab -l -u ${user}\``,
    );
  }
  return new Error(`${shown} ${describeOutcome(r)}${said ? `: ${said}` : ''}`);
}

/** The user's crontab text ('' when the user has none); throws UnknownCrontabUser when the user does not exist. */
export async function readCrontab(user: string, signal?: AbortSignal): Promise<string> {
  const args = ['-l', '-u', user];
  const r = await crontab(args, signal, true);
  if (r.code === 0 && !r.aborted) {
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(r.stdout ?? Buffer.alloc(0));
    } catch {
      // rewriting it would turn the bytes that are not UTF-8 into U+FFFD
      throw new Error(
        `${user}'s crontab is not valid UTF-8, so it is not edited; convert it (crontab -l -u ${user} | iconv -f latin1 -t utf-8 | crontab -u ${user} -)`,
      );
    }
  }
  if (!r.aborted && r.stderrTail.some((l) => l.startsWith('no crontab for '))) return '';
  throw failure(user, `crontab ${args.join(' ')}`, r, signal);
}

/**
 * Installs `text` as the user's crontab with `crontab -u USER -`, the text on its stdin (no temp file: commands may
 * hold secrets). A text without a final newline gets one (crontab(1) refuses it otherwise). crontab(1)'s own
 * complaint ("bad hour") is in the error.
 */
export async function writeCrontab(user: string, text: string, signal?: AbortSignal): Promise<void> {
  const r = await crontab(['-u', user, '-'], signal, false, text === '' || text.endsWith('\n') ? text : `${text}\n`);
  if (r.code === 0 && !r.aborted) return;
  throw failure(user, `crontab -u ${user}`, r, signal);
}
