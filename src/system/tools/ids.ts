/**
 * User and group names ⇄ numeric ids, for ownership (a file's owner and group, the user an exec runs as, the owner
 * of an authorized_keys file...), as every other tool on the host resolves them:
 *
 * 1. /etc/passwd and /etc/group first, read directly: a parsed file is cached and reused while its mtime, ctime,
 *    size and inode stay the same, so a `user` resource that edits /etc/passwd is seen at once, and the common case
 *    starts no process.
 * 2. A name (or id) not found there is asked of the name service switch (nss.ts: getent, batched, with a deadline,
 *    answers cached for a short time), so users and groups from LDAP, SSSD or any other NSS source are known.
 *
 * The user and group kinds do not use this: they manage local accounts and read the local files (shadow.ts).
 */
import { readFile, stat } from 'node:fs/promises';
import { MAX_ID } from './account-names.js';
import type { NssDatabase, NssFields, NssLookup } from './nss.js';

export const PASSWD_FILE = '/etc/passwd';
export const GROUP_FILE = '/etc/group';

interface IdTable {
  readonly byName: ReadonlyMap<string, number>;
  readonly byId: ReadonlyMap<number, string>;
  /** The first line's fields for each name (for passwd: the primary gid and the home directory). */
  readonly fields: ReadonlyMap<string, readonly string[]>;
}

/** The account named does not exist, locally or through NSS (as opposed to a lookup that could not be made). */
export class UnknownAccountError extends Error {
  override readonly name = 'UnknownAccountError';
}

function numeric(s: string): number | undefined {
  if (!/^[0-9]+$/.test(s)) return undefined;
  const n = Number(s);
  return n <= MAX_ID ? n : undefined;
}

function parseTable(text: string): IdTable {
  const byName = new Map<string, number>();
  const byId = new Map<number, string>();
  const fields = new Map<string, readonly string[]>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#') || line.startsWith('+') || line.startsWith('-')) continue;
    const f = line.split(':');
    const name = f[0];
    const id = Number(f[2]);
    if (!name || !Number.isInteger(id)) continue;
    if (!byName.has(name)) {
      byName.set(name, id);
      fields.set(name, f);
    }
    if (!byId.has(id)) byId.set(id, name);
  }
  return { byName, byId, fields };
}

/** A user's passwd entry: uid, primary gid and home directory. */
export interface PasswdEntry {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
}

export interface IdSources {
  readonly passwdFile: string;
  readonly groupFile: string;
  /** Where names the files do not hold are looked up; undefined: nowhere (the files only). */
  readonly nss: Pick<NssLookup, 'lookup'> | undefined;
}

/** Names ⇄ ids from local files, then NSS (see the module comment). */
export class IdResolver {
  private readonly tables = new Map<string, { readonly key: string; readonly table: Promise<IdTable> }>();

  constructor(readonly sources: IdSources) {}

  private fileOf(db: NssDatabase): string {
    return db === 'passwd' ? this.sources.passwdFile : this.sources.groupFile;
  }

  /** The parsed file, reused while the file is unchanged (one read shared by concurrent callers). */
  private async load(file: string): Promise<IdTable> {
    const st = await stat(file);
    const key = `${st.mtimeMs}:${st.ctimeMs}:${st.size}:${st.ino}`;
    const hit = this.tables.get(file);
    if (hit?.key === key) return hit.table;
    const table = readFile(file, 'utf8').then(parseTable);
    this.tables.set(file, { key, table });
    table.catch(() => {
      if (this.tables.get(file)?.table === table) this.tables.delete(file);
    });
    return table;
  }

  /** The NSS entry for a key, or undefined (also when NSS is not consulted). */
  private async fromNss(db: NssDatabase, key: string, signal?: AbortSignal): Promise<NssFields | undefined> {
    return this.sources.nss ? this.sources.nss.lookup(db, key, signal) : undefined;
  }

  private unknown(what: 'user' | 'group', key: string): UnknownAccountError {
    const db = what === 'user' ? 'passwd' : 'group';
    const where = this.sources.nss ? `not in ${this.fileOf(db)}, and \`getent ${db} ${key}\` finds nothing` : `in ${this.fileOf(db)}`;
    return new UnknownAccountError(`no such ${what} '${key}' (${where}): create it first, or correct the name`);
  }

  private async resolve(nameOrId: string, what: 'user' | 'group', signal: AbortSignal | undefined): Promise<number> {
    const n = numeric(nameOrId);
    if (n !== undefined) return n;
    if (/^[0-9]+$/.test(nameOrId)) throw new Error(`${what} id ${nameOrId} is out of range (0..${MAX_ID})`);
    const db = what === 'user' ? 'passwd' : 'group';
    const local = (await this.load(this.fileOf(db))).byName.get(nameOrId);
    if (local !== undefined) return local;
    const f = await this.fromNss(db, nameOrId, signal);
    if (f === undefined) throw this.unknown(what, nameOrId);
    const id = numeric(f[2] ?? '');
    if (id === undefined) throw new Error(`the name service's entry for ${what} '${nameOrId}' has no valid id: ${f.join(':')}`);
    return id;
  }

  /**
   * The uid for a user name or a numeric string; throws UnknownAccountError for unknown names. `signal` gives up
   * waiting for the name service (a check that is cancelled).
   */
  resolveUser(nameOrId: string, signal?: AbortSignal): Promise<number> {
    return this.resolve(nameOrId, 'user', signal);
  }

  /** The gid for a group name or a numeric string; throws UnknownAccountError for unknown names. */
  resolveGroup(nameOrId: string, signal?: AbortSignal): Promise<number> {
    return this.resolve(nameOrId, 'group', signal);
  }

  /** The name for an id, or the number as a string when it has none or it cannot be found out (for messages). */
  async nameOf(id: number, db: NssDatabase, signal?: AbortSignal): Promise<string> {
    try {
      const local = (await this.load(this.fileOf(db))).byId.get(id);
      if (local !== undefined) return local;
      return (await this.fromNss(db, String(id), signal))?.[0] ?? String(id);
    } catch {
      return String(id);
    }
  }

  /**
   * The passwd entry of a user name, or of a uid given as a numeric string (the files are read now, so a user
   * created earlier in the run is found). Throws UnknownAccountError when there is none.
   */
  async passwdEntry(nameOrId: string, signal?: AbortSignal): Promise<PasswdEntry> {
    const file = this.sources.passwdFile;
    const t = await this.load(file);
    const n = numeric(nameOrId);
    const name = n !== undefined ? t.byId.get(n) : nameOrId;
    const local = name !== undefined ? t.fields.get(name) : undefined;
    const f = local ?? (await this.fromNss('passwd', nameOrId, signal));
    if (f === undefined) throw this.unknown('user', nameOrId);
    const where = local ? file : 'the name service';
    const uid = numeric(f[2] ?? '');
    const gid = numeric(f[3] ?? '');
    if (uid === undefined || gid === undefined) throw new Error(`user '${f[0] ?? nameOrId}' has no valid uid or primary group id in ${where}: ${f.join(':')}`);
    return { name: f[0] ?? nameOrId, uid, gid, home: f[5] ?? '' };
  }
}

/** The host's NSS; its client (nss.ts, which runs getent) is loaded at the first name the local files lack. */
function systemNss(): Pick<NssLookup, 'lookup'> {
  let nss: Promise<NssLookup> | undefined;
  return {
    lookup: async (db, key, signal) => (await (nss ??= import('./nss.js').then((m) => new m.NssLookup()))).lookup(db, key, signal),
  };
}

/** The process's lookups: the system's files, then NSS through getent. */
export const systemIds = new IdResolver({ passwdFile: PASSWD_FILE, groupFile: GROUP_FILE, nss: systemNss() });

/** The uid for a user name or a numeric string; throws UnknownAccountError ("no such user 'x' ...") for unknown names. */
export function resolveUser(nameOrId: string, signal?: AbortSignal): Promise<number> {
  return systemIds.resolveUser(nameOrId, signal);
}

/** The gid for a group name or a numeric string; throws UnknownAccountError ("no such group 'x' ...") for unknown names. */
export function resolveGroup(nameOrId: string, signal?: AbortSignal): Promise<number> {
  return systemIds.resolveGroup(nameOrId, signal);
}

/** The user name for a uid, or the number as a string when it has no name (for messages). */
export function userName(uid: number, signal?: AbortSignal): Promise<string> {
  return systemIds.nameOf(uid, 'passwd', signal);
}

/** The group name for a gid, or the number as a string when it has no name (for messages). */
export function groupName(gid: number, signal?: AbortSignal): Promise<string> {
  return systemIds.nameOf(gid, 'group', signal);
}

/** The passwd entry of a user name or uid (see IdResolver.passwdEntry). */
export function passwdEntry(nameOrId: string, signal?: AbortSignal): Promise<PasswdEntry> {
  return systemIds.passwdEntry(nameOrId, signal);
}

/**
 * The uid of `user` and its primary gid, as an exec runs it: a name must exist; a uid without an entry runs with
 * no primary group known (undefined).
 */
export async function userAndPrimaryGroup(user: string, signal?: AbortSignal): Promise<{ uid: number; gid: number | undefined }> {
  if (!/^[0-9]+$/.test(user)) {
    const e = await passwdEntry(user, signal);
    return { uid: e.uid, gid: e.gid };
  }
  const uid = await resolveUser(user, signal);
  try {
    return { uid, gid: (await passwdEntry(user, signal)).gid };
  } catch (e) {
    if (e instanceof UnknownAccountError) return { uid, gid: undefined };
    throw e;
  }
}
