/**
 * User and group names ⇄ numeric ids, read from /etc/passwd and /etc/group. A parsed file is cached and reused
 * while its mtime, size and inode stay the same, so a `user` resource that edits /etc/passwd is seen at once.
 * (NSS sources such as LDAP are not consulted: this is what a config-management run on the local files needs.)
 */
import { readFile, stat } from 'node:fs/promises';

export const PASSWD_FILE = '/etc/passwd';
export const GROUP_FILE = '/etc/group';

interface IdTable {
  readonly byName: ReadonlyMap<string, number>;
  readonly byId: ReadonlyMap<number, string>;
  /** The first line's fields for each name (for passwd: the primary gid and the home directory). */
  readonly fields: ReadonlyMap<string, readonly string[]>;
}

interface CacheEntry {
  readonly key: string;
  readonly table: IdTable;
}

const cache = new Map<string, CacheEntry>();
const MAX_ID = 0xfffffffe; // (uid_t)-1 means "unchanged" to chown, so it is not a valid id

async function load(file: string): Promise<IdTable> {
  const st = await stat(file);
  const key = `${st.mtimeMs}:${st.ctimeMs}:${st.size}:${st.ino}`;
  const hit = cache.get(file);
  if (hit?.key === key) return hit.table;
  const byName = new Map<string, number>();
  const byId = new Map<number, string>();
  const fields = new Map<string, readonly string[]>();
  for (const line of (await readFile(file, 'utf8')).split('\n')) {
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
  const table: IdTable = { byName, byId, fields };
  cache.set(file, { key, table });
  return table;
}

function numeric(s: string): number | undefined {
  if (!/^[0-9]+$/.test(s)) return undefined;
  const n = Number(s);
  return n <= MAX_ID ? n : undefined;
}

/** An account name that is not in the passwd or group file (yet). */
export class NoSuchAccount extends Error {}

async function resolve(nameOrId: string, file: string, what: 'user' | 'group'): Promise<number> {
  const n = numeric(nameOrId);
  if (n !== undefined) return n;
  if (/^[0-9]+$/.test(nameOrId)) throw new Error(`${what} id ${nameOrId} is out of range (0..${MAX_ID})`);
  const id = (await load(file)).byName.get(nameOrId);
  if (id === undefined) throw new NoSuchAccount(`no such ${what} '${nameOrId}' (in ${file})`);
  return id;
}

/** The uid for a user name or a numeric string; throws "no such user 'x' (in /etc/passwd)" for unknown names. */
export function resolveUser(nameOrId: string, passwdFile: string = PASSWD_FILE): Promise<number> {
  return resolve(nameOrId, passwdFile, 'user');
}

/** The gid for a group name or a numeric string; throws "no such group 'x' (in /etc/group)" for unknown names. */
export function resolveGroup(nameOrId: string, groupFile: string = GROUP_FILE): Promise<number> {
  return resolve(nameOrId, groupFile, 'group');
}

async function nameOf(id: number, file: string): Promise<string> {
  try {
    return (await load(file)).byId.get(id) ?? String(id);
  } catch {
    return String(id);
  }
}

/** The user name for a uid, or the number as a string when it has no name (for messages). */
export function userName(uid: number, passwdFile: string = PASSWD_FILE): Promise<string> {
  return nameOf(uid, passwdFile);
}

/** The group name for a gid, or the number as a string when it has no name (for messages). */
export function groupName(gid: number, groupFile: string = GROUP_FILE): Promise<string> {
  return nameOf(gid, groupFile);
}

/** A user's passwd entry: uid, primary gid and home directory. */
export interface PasswdEntry {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
}

/**
 * The passwd entry of a user name (read now, so a user created earlier in the run is found). Throws "no such user
 * 'x' (in /etc/passwd)" for unknown names; a numeric string is looked up as a uid.
 */
export async function passwdEntry(nameOrId: string, passwdFile: string = PASSWD_FILE): Promise<PasswdEntry> {
  const t = await load(passwdFile);
  const n = numeric(nameOrId);
  const name = n !== undefined ? t.byId.get(n) : nameOrId;
  const f = name !== undefined ? t.fields.get(name) : undefined;
  if (name === undefined || f === undefined) throw new Error(`no such user '${nameOrId}' (in ${passwdFile})`);
  const gid = Number(f[3]);
  if (!Number.isInteger(gid)) throw new Error(`user '${name}' has no valid primary group id in ${passwdFile}`);
  return { name, uid: t.byName.get(name)!, gid, home: f[5] ?? '' };
}
