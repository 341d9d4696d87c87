/**
 * What an archive resource does on the system (the kind, its parameters and checks: archive.ts): downloads, verifies
 * and extracts the archive, and watches its path.
 */
import { CHECKSUM_FILE_MAX, checksumIn, type ArchiveParams } from './archive.js';
import { createReadStream } from 'node:fs';
import { chmod, rename, stat, unlink } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { untilAborted } from '../system/proc/abort.js';
import { watchPath } from '../system/fs/path-watcher.js';
import { openDirSync, openParentSync } from '../system/fs/safe-path.js';
import { tempPathFor } from '../system/fs/atomic-write.js';
import { shownSource } from '../system/net/source-url.js';
import { extractArchive } from '../system/tools/extract.js';
import { resolveGroup, userAndPrimaryGroup } from '../system/tools/ids.js';
import { isErrno } from '../observe/errors.js';
import { type Resource, type ResourceContext } from './resource.js';

/** No byte for this long ends a transfer. */
const IDLE_TIMEOUT_MS = 60_000;

/** The hex digest of a file, or undefined when it does not exist. */
async function fileDigest(path: string, algorithm: string, signal: AbortSignal): Promise<string | undefined> {
  const h = createHash(algorithm);
  try {
    for await (const chunk of createReadStream(path, { signal }) as AsyncIterable<Buffer>) h.update(chunk);
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return undefined;
    throw e;
  }
  return h.digest('hex');
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (e) {
    if (isErrno(e, 'ENOENT', 'ENOTDIR')) return false;
    throw e;
  }
}

export function archiveResource(_name: string, p: ArchiveParams, ctx: ResourceContext): Resource {
  const path = p.path;
  const algorithm = p.checksum_type === 'none' ? undefined : p.checksum_type;
  const headers: Record<string, string> = {};
  for (const h of p.headers ?? []) {
    const i = h.indexOf(':');
    headers[h.slice(0, i).trim()] = h.slice(i + 1).trim();
  }
  if (p.cookie !== undefined) headers.Cookie = p.cookie;
  const transfer = (signal: AbortSignal) => ({
    maxBytes: p.max_size,
    timeoutMs: p.download_timeout * 1000,
    idleTimeoutMs: IDLE_TIMEOUT_MS,
    insecure: p.allow_insecure,
    headers,
    username: p.username,
    password: p.password,
    signal,
  });

  /** The expected checksum: given, or read from `checksum_url`. */
  const expected = async (signal: AbortSignal): Promise<string> => {
    if (p.checksum !== undefined) return p.checksum.toLowerCase();
    const { fetchText } = await import('../system/net/download.js');
    const text = await fetchText(p.checksum_url!, { ...transfer(signal), maxBytes: CHECKSUM_FILE_MAX });
    const sum = checksumIn(text);
    if (sum === undefined) throw new Error(`no checksum (32 to 128 hex digits) in ${shownSource(p.checksum_url!)}; check checksum_url`);
    return sum;
  };

  /** The file is there and right (any file without a checksum type). */
  const archiveRight = async (signal: AbortSignal): Promise<boolean> => {
    if (algorithm === undefined) return exists(path);
    const have = await fileDigest(path, algorithm, signal);
    return have !== undefined && have === (await expected(signal));
  };

  const extract = async (signal: AbortSignal) => {
    if (!p.extract) return;
    const into = p.extract_path!;
    let uid: number | undefined;
    let gid: number | undefined;
    if (p.user !== undefined) ({ uid, gid } = await userAndPrimaryGroup(p.user, signal));
    if (p.group !== undefined) gid = await resolveGroup(p.group, signal);
    // the directory is reached under safe-path's owner rule before the tool runs in it
    openDirSync(into).release();
    if (uid !== undefined || gid !== undefined) await chmod(path, 0o644);
    await extractArchive({ archive: path, into, uid, gid, signal });
  };

  const cleanup = async () => {
    if (!(p.cleanup && p.extract)) return;
    await unlink(path).catch((e: unknown) => {
      if (!isErrno(e, 'ENOENT')) throw e;
    });
  };

  const fetchInPlace = async (signal: AbortSignal) => {
    const entry = openParentSync(path, { sweep: true, mkdirMode: 0o755 });
    try {
      const tmp = tempPathFor(entry.at);
      let ok = false;
      try {
        const { download } = await import('../system/net/download.js');
        const got = await download(tmp, { source: p.source!, ...transfer(signal), hash: algorithm });
        if (algorithm !== undefined && p.checksum_verify) {
          const want = await expected(signal);
          if (got.digest !== want) {
            throw new Error(
              `the download of ${shownSource(p.source!)} does not match its checksum (${algorithm} expected ${want}, got ${got.digest ?? '?'}); the file was not replaced: check source and checksum`,
            );
          }
        }
        await chmod(tmp, 0o644);
        await rename(tmp, entry.at);
        ok = true;
      } finally {
        if (!ok) await unlink(tmp).catch(() => undefined);
      }
    } catch (e) {
      throw entry.dir.explain(e);
    } finally {
      entry.dir.release();
    }
  };

  return {
    async watch(w) {
      const stops = [watchPath(path, () => w.event())];
      try {
        if (p.creates !== undefined) stops.push(watchPath(p.creates, () => w.event()));
        w.event();
        await untilAborted(w.signal);
      } finally {
        for (const stop of stops) stop();
      }
    },

    async checkApply(c) {
      if (p.state === 'absent') {
        if (!(await exists(path))) return true;
        if (!c.apply) {
          ctx.log.info(`would remove ${path}`);
          return false;
        }
        await unlink(path);
        ctx.log.info(`removed ${path}`);
        return false;
      }
      const extracted = p.extract && p.creates !== undefined && (await exists(p.creates));
      const present = await exists(path);
      if (extracted && !present) return true;
      const source = shownSource(p.source!);
      if (present && (await archiveRight(c.signal))) {
        if (!p.extract || p.creates === undefined || extracted) return true;
        if (!c.apply) {
          ctx.log.info(`would extract ${path} into ${p.extract_path!} (${p.creates} is missing)`);
          return false;
        }
        await extract(c.signal);
        ctx.log.info(`extracted ${path} into ${p.extract_path!} (${p.creates} was missing)`);
        return false;
      }
      const then = p.extract ? ` and extract it into ${p.extract_path!}${p.cleanup ? ', then remove it' : ''}` : '';
      const why = present ? ' (its checksum differs)' : '';
      if (!c.apply) {
        ctx.log.info(`would download ${source} to ${path}${why}${then}`);
        return false;
      }
      try {
        await fetchInPlace(c.signal);
        await extract(c.signal);
      } finally {
        await cleanup();
      }
      ctx.log.info(`downloaded ${source} to ${path}${why}${then.replace('and extract it', 'and extracted it').replace('then remove it', 'then removed it')}`);
      return false;
    },
  };
}
