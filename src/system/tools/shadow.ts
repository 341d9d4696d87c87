/**
 * Local accounts: reading /etc/passwd and /etc/group into records, and changing them through the shadow tools
 * (useradd, usermod, userdel, groupadd, groupmod, groupdel) from Debian's `passwd` package. We never edit the
 * files ourselves: the tools keep /etc/shadow and /etc/gshadow in step, take the system's locks and write by
 * rename.
 *
 * The files' root is `/` unless a caller passes another one (tests use a scratch root); the tools then get
 * `--root <dir>`, which makes them chroot there.
 *
 * Tool runs in this process are serialised: the tools lock the account files with a retry loop of about 15 s, and
 * ten parallel resources would otherwise contend for that lock. Each run has a deadline (`TOOL_TIMEOUT_MS`).
 * Only the local files are read here, on purpose: the user and group kinds manage local accounts, so an account
 * from LDAP or SSSD neither exists nor is missing for them. Names that stand for an owner (a file's owner, an exec's
 * user) are resolved in ids.ts, which falls back to NSS.
 */
import { MAX_ID } from './account-names.js';
import { readFile } from 'node:fs/promises';
import { readRegular } from '../fs/no-follow.js';
import { join } from 'node:path';
import { describeOutcome, run, SpawnError, startLines, type ProcessResult } from '../proc/launcher.js';
import { errnoCode, errorText } from '../../observe/errors.js';
import { SYSTEM_TOOL_PATH } from './tool-path.js';

/** One line of /etc/passwd. */
export interface PasswdEntry {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  /** The GECOS field, whole (commas included). */
  readonly comment: string;
  readonly home: string;
  readonly shell: string;
}

/** One line of /etc/group. */
export interface GroupEntry {
  readonly name: string;
  readonly gid: number;
  /** Supplementary members, as listed on the line (users whose primary group this is are not listed). */
  readonly members: readonly string[];
}

/** Where the account files are. */
export interface AccountFiles {
  /** `/` for the real system; another directory for a scratch root (the tools get `--root`). */
  readonly root: string;
  readonly passwd: string;
  readonly group: string;
  /** The shadow file (password hashes), read only when a password is managed. */
  readonly shadow: string;
}

export function accountFiles(root = '/'): AccountFiles {
  return { root, passwd: join(root, 'etc/passwd'), group: join(root, 'etc/group'), shadow: join(root, 'etc/shadow') };
}

/** The real system's files. */
export const SYSTEM_ACCOUNTS: AccountFiles = accountFiles('/');

/** Lines that are not entries: blank, comments, NIS `+`/`-` includes. */
const skipped = (line: string) => line === '' || line.startsWith('#') || line.startsWith('+') || line.startsWith('-');

const idOf = (s: string | undefined): number | undefined => (s !== undefined && /^[0-9]+$/.test(s) && Number(s) <= MAX_ID ? Number(s) : undefined);

/** Parses /etc/passwd text; malformed lines are skipped. */
export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of text.split('\n')) {
    if (skipped(line)) continue;
    const f = line.split(':');
    if (f.length !== 7 || f[0] === '') continue;
    const uid = idOf(f[2]);
    const gid = idOf(f[3]);
    if (uid === undefined || gid === undefined) continue;
    out.push({ name: f[0]!, uid, gid, comment: f[4]!, home: f[5]!, shell: f[6]! });
  }
  return out;
}

/** Parses /etc/group text; malformed lines are skipped. */
export function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const line of text.split('\n')) {
    if (skipped(line)) continue;
    const f = line.split(':');
    if (f.length !== 4 || f[0] === '') continue;
    const gid = idOf(f[2]);
    if (gid === undefined) continue;
    out.push({ name: f[0]!, gid, members: f[3] === '' ? [] : f[3]!.split(',').filter((m) => m !== '') });
  }
  return out;
}

/** A snapshot of both files. */
export interface Accounts {
  readonly users: readonly PasswdEntry[];
  readonly groups: readonly GroupEntry[];
}

async function readOrExplain(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    const code = errnoCode(e);
    throw new Error(`cannot read ${path}${code ? ` (${code})` : ''}: ${errorText(e)}`, { cause: e });
  }
}

export async function readUsers(files: AccountFiles = SYSTEM_ACCOUNTS): Promise<PasswdEntry[]> {
  return parsePasswd(await readOrExplain(files.passwd));
}

export async function readGroups(files: AccountFiles = SYSTEM_ACCOUNTS): Promise<GroupEntry[]> {
  return parseGroup(await readOrExplain(files.group));
}

export async function readAccounts(files: AccountFiles = SYSTEM_ACCOUNTS): Promise<Accounts> {
  const [users, groups] = await Promise.all([readUsers(files), readGroups(files)]);
  return { users, groups };
}

/** The supplementary groups whose member lists name `user`, sorted. */
export function supplementaryGroups(groups: readonly GroupEntry[], user: string): string[] {
  return groups
    .filter((g) => g.members.includes(user))
    .map((g) => g.name)
    .sort();
}

export type ShadowTool = 'useradd' | 'usermod' | 'userdel' | 'groupadd' | 'groupmod' | 'groupdel';

/** The deadline of one tool run: the tools' own lock retries take up to about 15 s. */
export const TOOL_TIMEOUT_MS = 120_000;

/** The exit codes documented in the tools' manual pages (shadow 4.13). */
const EXIT_MEANINGS: Readonly<Record<ShadowTool, Readonly<Record<number, string>>>> = {
  useradd: {
    1: 'could not update the password file',
    2: 'invalid command syntax',
    3: 'invalid argument to an option (a name the tool refuses, a bad shell or path...)',
    4: 'the uid is already in use (set allowduplicateuid to allow it)',
    6: 'a group given does not exist (create it first; a group resource in the graph is ordered before the user)',
    9: 'the user name is already in use',
    10: 'could not update the group file',
    12: 'could not create the home directory',
    14: 'could not update the SELinux user mapping',
  },
  usermod: {
    1: 'could not update the password file',
    2: 'invalid command syntax',
    3: 'invalid argument to an option',
    4: 'the uid is already in use (set allowduplicateuid to allow it)',
    6: 'the user or a group given does not exist',
    8: 'the user is logged in or has running processes (stop them first)',
    10: 'could not update the group file',
    11: 'not enough space to move the home directory',
    12: 'could not move the home directory',
  },
  userdel: {
    1: 'could not update the password file',
    2: 'invalid command syntax',
    6: 'the user does not exist',
    8: 'the user is logged in or has running processes (stop them first)',
    10: 'could not update the group file',
    12: 'could not remove the home directory',
  },
  groupadd: {
    2: 'invalid command syntax',
    3: 'invalid argument to an option (a name the tool refuses...)',
    4: 'the gid is already in use',
    9: 'the group name is already in use',
    10: 'could not update the group file',
  },
  groupmod: {
    2: 'invalid command syntax',
    3: 'invalid argument to an option',
    4: 'the gid is already in use',
    6: 'the group does not exist',
    9: 'the group name is already in use',
    10: 'could not update the group file',
  },
  groupdel: {
    2: 'invalid command syntax',
    6: 'the group does not exist',
    8: "it is a user's primary group (remove or change that user first)",
    10: 'could not update the group file',
  },
};

/** What an exit code of a tool means, per its manual page; undefined for codes it does not document. */
export function exitMeaning(tool: ShadowTool, code: number): string | undefined {
  return EXIT_MEANINGS[tool][code];
}

/** A tool failed: the message names the command line, the exit code and its meaning, and the tool's stderr. */
export class ShadowToolError extends Error {
  override readonly name = 'ShadowToolError';
  constructor(
    message: string,
    readonly tool: ShadowTool,
    /** The exit code; null when the tool did not exit by itself (killed, timed out, not started). */
    readonly code: number | null,
    readonly stderr: readonly string[],
  ) {
    super(message);
  }
}

export interface ToolOptions {
  /** The files' root; `/` (the default) is the real system. */
  readonly root?: string;
  /** Cancels the run (the tool's process group is killed). */
  readonly signal?: AbortSignal;
  /** Default `TOOL_TIMEOUT_MS`. */
  readonly timeoutMs?: number;
}

let queue: Promise<unknown> = Promise.resolve();

/** Runs `fn` after every earlier tool run of this process has finished. */
function serialised<T>(fn: () => Promise<T>): Promise<T> {
  const next = queue.then(fn, fn);
  queue = next.catch(() => undefined);
  return next;
}

/** `usermod -s /bin/sh u`, with arguments quoted where needed (for messages). */
export function commandLine(tool: ShadowTool, args: readonly string[]): string {
  return [tool, ...args].map((a) => (/^[A-Za-z0-9_/.,:=+@%-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/**
 * Runs one shadow tool to completion. Resolves with what it printed on stderr despite succeeding (warnings such
 * as "missing or non-executable shell"); rejects with a ShadowToolError otherwise.
 */
export function runShadowTool(tool: ShadowTool, args: readonly string[], opts: ToolOptions = {}): Promise<string[]> {
  const root = opts.root ?? '/';
  const argv = root === '/' ? [...args] : ['--root', root, ...args];
  const shown = commandLine(tool, argv);
  return serialised(async () => {
    if (opts.signal?.aborted) throw new ShadowToolError(`${shown} was cancelled before it started`, tool, null, []);
    const deadline = AbortSignal.timeout(opts.timeoutMs ?? TOOL_TIMEOUT_MS);
    const signal = opts.signal ? AbortSignal.any([opts.signal, deadline]) : deadline;
    let r;
    try {
      r = await run({ command: { argv: [tool, ...argv] }, env: { PATH: SYSTEM_TOOL_PATH, LC_ALL: 'C' }, signal });
    } catch (e) {
      if (e instanceof SpawnError && e.code === 'ENOENT') {
        throw new ShadowToolError(`${tool} is not installed (searched ${SYSTEM_TOOL_PATH}); install the Debian package "passwd"`, tool, null, []);
      }
      throw new ShadowToolError(`${shown}: ${errorText(e)}`, tool, null, []);
    }
    const stderr = [...r.stderrTail];
    if (r.code === 0 && !r.aborted) return stderr;
    const said = stderr.length ? `: ${stderr.join(' | ')}` : '';
    if (r.aborted) {
      const why = r.timedOut && !opts.signal?.aborted ? `timed out after ${(opts.timeoutMs ?? TOOL_TIMEOUT_MS) / 1000} s` : describeOutcome(r);
      throw new ShadowToolError(`${shown} ${why}; it was killed${said}`, tool, null, stderr);
    }
    const meaning = r.code !== null ? exitMeaning(tool, r.code) : undefined;
    throw new ShadowToolError(`${shown} ${describeOutcome(r)}${meaning ? ` (${meaning})` : ''}${said}`, tool, r.code, stderr);
  });
}

/**
 * The password field of each user in the shadow file, by name. The file is read through an O_NOFOLLOW descriptor
 * (a symlink there is an error, never followed); its values are secrets: callers compare them and never print them.
 */
export async function readPasswordHashes(files: AccountFiles = SYSTEM_ACCOUNTS): Promise<Map<string, string>> {
  let text: string;
  try {
    text = (await readRegular(files.shadow)).toString('utf8');
  } catch (e) {
    const code = errnoCode(e);
    throw new Error(`cannot read ${files.shadow}${code ? ` (${code})` : ''}: ${errorText(e)}; managing passwords needs root`, { cause: e });
  }
  return parseShadowHashes(text);
}

/** The password field of each well-formed line of shadow text, by user name. */
export function parseShadowHashes(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (skipped(line)) continue;
    const f = line.split(':');
    if (f.length !== 9 || f[0] === '') continue;
    out.set(f[0]!, f[1]!);
  }
  return out;
}

/**
 * Sets a user's password field to `hash` as it is (`chpasswd --encrypted`), the `name:hash` line written on the
 * tool's stdin so that the hash never appears on a command line (ps, /proc) or in a message. Serialised with the
 * other tool runs; rejects with a ShadowToolError that never contains the hash.
 */
export function setPasswordHash(name: string, hash: string, opts: ToolOptions = {}): Promise<void> {
  const root = opts.root ?? '/';
  const argv = ['chpasswd', '--encrypted', ...(root === '/' ? [] : ['--root', root])];
  const shown = `${argv.join(' ')} (for user ${name})`;
  const clean = (l: string) => (hash === '' ? l : l.split(hash).join('[redacted]'));
  return serialised(async () => {
    if (opts.signal?.aborted) throw new ShadowToolError(`${shown} was cancelled before it started`, 'usermod', null, []);
    const deadline = AbortSignal.timeout(opts.timeoutMs ?? TOOL_TIMEOUT_MS);
    const signal = opts.signal ? AbortSignal.any([opts.signal, deadline]) : deadline;
    let r: ProcessResult;
    try {
      const p = await startLines(
        { command: { argv }, env: { PATH: SYSTEM_TOOL_PATH, LC_ALL: 'C' }, signal, stdin: 'pipe' },
        () => undefined,
        () => undefined,
      );
      p.stdin?.end(`${name}:${hash}\n`);
      r = await p.exited;
    } catch (e) {
      if (e instanceof SpawnError && e.code === 'ENOENT') {
        throw new ShadowToolError(`chpasswd is not installed (searched ${SYSTEM_TOOL_PATH}); install the Debian package "passwd"`, 'usermod', null, []);
      }
      throw new ShadowToolError(`${shown}: ${clean(errorText(e))}`, 'usermod', null, []);
    }
    if (r.code === 0 && !r.aborted) return;
    const stderr = r.stderrTail.map(clean);
    const said = stderr.length ? `: ${stderr.join(' | ')}` : '';
    throw new ShadowToolError(`${shown} ${describeOutcome(r)}${said}`, 'usermod', r.code, stderr);
  });
}
