/**
 * Copies a tree the server serves (a file_metadatas answer) into a local directory, fetching only the files whose
 * sha256 differs, and removing what the server no longer has: pluginsync (the `plugins` and `pluginfacts` mounts
 * into `libdir` and `pluginfactdest`, before facts are resolved, as `puppet agent` does) and the cache of
 * `puppet:///` sources. Paths from the server are checked: no absolute path, no `..`, nothing outside the target.
 */
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, normalize } from 'node:path';
import { sha256Hex, sha256OfDigest } from '../../system/fs/checksum.js';
import type { FileMetadata } from './server-client.js';

export interface SyncResult {
  readonly fetched: number;
  readonly removed: number;
  readonly files: number;
}

/** A relative path the server gave, made safe (undefined: refused). */
export function safeRelative(rel: string | null): string | undefined {
  if (rel === null || rel === '.' || rel === '') return '';
  const n = normalize(rel);
  if (n.startsWith('/') || n === '..' || n.startsWith('../') || n.includes('\0')) return undefined;
  return n;
}

/**
 * Mirrors `entries` under `target`; `fetch(rel)` returns a file's bytes (`rel` relative to the tree's root). Of
 * several entries with one relative path (a mount merged from many modules), the first wins, as in Puppet.
 */
export async function syncTree(
  entries: readonly FileMetadata[],
  target: string,
  fetch: (rel: string) => Promise<Buffer>,
  o: { purge: boolean; warn: (m: string) => void },
): Promise<SyncResult> {
  const wanted = new Map<string, FileMetadata>();
  for (const e of entries) {
    const rel = safeRelative(e.relative_path);
    if (rel === undefined) {
      o.warn(`ignored ${JSON.stringify(e.relative_path)} from the server: not a relative path inside the tree`);
      continue;
    }
    if (!wanted.has(rel)) wanted.set(rel, e);
  }
  await mkdir(target, { recursive: true });
  let fetched = 0;
  let files = 0;
  for (const [rel, e] of [...wanted].sort((a, b) => a[0].localeCompare(b[0]))) {
    const p = rel === '' ? target : join(target, rel);
    if (e.type === 'directory') {
      await mkdir(p, { recursive: true });
      continue;
    }
    if (e.type !== 'file') continue;
    files++;
    if (await fetchUnlessCurrent(p, e.checksum.value, () => fetch(rel))) fetched++;
  }
  let removed = 0;
  if (o.purge) {
    const walk = async (dir: string, rel: string): Promise<void> => {
      for (const d of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
        const r = rel ? `${rel}/${d.name}` : d.name;
        if (!wanted.has(r)) {
          await rm(join(dir, d.name), { recursive: true, force: true });
          removed++;
        } else if (d.isDirectory()) await walk(join(dir, d.name), r);
      }
    };
    await walk(target, '');
  }
  return { fetched, removed, files };
}

/**
 * Writes the file at `local` (0644, through a temp file and a rename) unless it already has `checksum`
 * (`{sha256}...`; any other notation always fetches); true when it was fetched.
 */
export async function fetchUnlessCurrent(local: string, checksum: string, fetch: () => Promise<Buffer>): Promise<boolean> {
  const want = sha256OfDigest(checksum);
  const have = await readFile(local).then(sha256Hex, () => undefined);
  if (want !== undefined && have === want) return false;
  const data = await fetch();
  await mkdir(dirname(local), { recursive: true });
  const tmp = `${local}.mgmt-tmp`;
  await writeFile(tmp, data, { mode: 0o644 });
  await rename(tmp, local);
  return true;
}
