/**
 * The archive resource: a file downloaded from http(s) or copied from a local file, checked against a checksum,
 * and optionally extracted with tar or unzip, as voxpupuli-archive's `archive` type does (its ruby provider's
 * state machine, followed step by step):
 *
 * - in sync when the file is there and its checksum matches (any file when `checksum_type` is none), or when
 *   `creates` exists after an extraction and the file is gone (cleaned up);
 * - otherwise the file is downloaded into a temp file next to it (created O_EXCL through its directory held by
 *   safe-path.ts), hashed while written, verified, renamed into place (never a half-downloaded file at the path),
 *   extracted into `extract_path`, and removed again with `cleanup`;
 * - when the file is right but `creates` is missing, it is extracted again (Puppet's `creates` property).
 *
 * Safe defaults: TLS certificates are verified, the size is bounded (`max_size`), the transfer has a deadline
 * and an idle timeout, redirects never go from https to http, and credentials never reach another host.
 */
import { createReadStream } from 'node:fs';
import { chmod, rename, stat, unlink } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { basename, isAbsolute, posix } from 'node:path';
import type { ParamsOf } from './params.js';
import { TIMER_MAX_S } from './params.js';
import { defineKind, type AutoEdgeHints, type Problem } from './resource.js';
import { untilAborted } from '../system/proc/abort.js';
import { watchPath } from '../system/fs/path-watcher.js';
import { pathProblem } from '../system/fs/path-check.js';
import { openDirSync, openParentSync } from '../system/fs/safe-path.js';
import { tempPathFor } from '../system/fs/atomic-write.js';
import { shownSource, sourceProblem } from '../system/net/source-url.js';
import { EXTRACTABLE, extractArchive, extractionCommand } from '../system/tools/extract.js';
import { resolveGroup, userAndPrimaryGroup } from '../system/tools/ids.js';
import { isErrno } from '../observe/errors.js';

/** The largest checksum file read from `checksum_url`. */
const CHECKSUM_FILE_MAX = 1024 * 1024;
/** No byte for this long ends a transfer. */
const IDLE_TIMEOUT_MS = 60_000;

const params = {
  path: { type: 'string', doc: 'Absolute path of the archive file (default: the name).' },
  state: {
    type: 'string',
    enum: ['exists', 'absent'],
    default: 'exists',
    doc: '`exists`: the file is downloaded (and extracted); `absent`: the archive file is removed (what was extracted stays).',
  },
  source: {
    type: 'string',
    doc: 'Where the file comes from: an `http://` or `https://` URL, a `file://` URL or an absolute path. Required with state exists.',
  },
  checksum: { type: 'string', pattern: '^[0-9a-fA-F]{5,128}$', doc: 'The expected checksum (hex) of the file, of type `checksum_type`.' },
  checksum_type: {
    type: 'string',
    enum: ['none', 'md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512'],
    default: 'none',
    doc: '`none`: any file at the path is right and a download is not verified; otherwise the hash compared with `checksum`.',
  },
  checksum_url: {
    type: 'string',
    doc: 'Where to read the checksum instead of `checksum` (its first hex string of 32 to 128 digits), read at each check that needs it (at most 1 MiB).',
  },
  checksum_verify: { type: 'boolean', default: true, doc: 'Verify a download against the checksum before it replaces the file.' },
  extract: { type: 'boolean', default: false, doc: `Extract the archive into \`extract_path\` after a download (${EXTRACTABLE}, with tar or unzip).` },
  extract_path: { type: 'string', doc: 'The existing directory to extract into (absolute); required with `extract`.' },
  creates: {
    type: 'string',
    doc: 'A path the extraction creates: while it exists, the archive is not downloaded again (even once cleaned up); while it is missing and the archive is right, the archive is extracted again.',
  },
  cleanup: { type: 'boolean', default: true, doc: 'Remove the archive file after extracting it (only with `extract`).' },
  user: { type: 'string', doc: 'Extract as this user (name or uid); the archive file is then made readable (0644).' },
  group: { type: 'string', doc: "Extract as this group (name or gid); default with `user`: the user's primary group." },
  username: { type: 'string', doc: 'HTTP basic authentication user, sent to the source’s host only.' },
  password: { type: 'string', doc: 'HTTP basic authentication password, sent to the source’s host only; never logged.' },
  headers: { type: 'string[]', pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+:.*$", doc: 'Extra request headers, each `Name: value`.' },
  cookie: { type: 'string', doc: 'A `Cookie` header value, sent to the source’s host only.' },
  allow_insecure: { type: 'boolean', default: false, doc: 'Accept any TLS certificate (not recommended).' },
  max_size: { type: 'integer', minimum: 1, default: 4 * 1024 ** 3, doc: 'The largest file downloaded, in bytes (default 4 GiB); a larger one fails.' },
  download_timeout: {
    type: 'integer',
    minimum: 1,
    maximum: TIMER_MAX_S,
    default: 3600,
    doc: 'The deadline of one transfer, in seconds (default one hour); a transfer also stops after 60 s without data.',
  },
} as const;

export type ArchiveParams = ParamsOf<typeof params, 'path'>;

const absoluteProblem = (what: string, v: string): string | undefined => {
  const bad = pathProblem(v);
  if (bad !== undefined) return `\`${what}\` ${bad}`;
  if (!isAbsolute(v)) return `\`${what}\` must be an absolute path, got "${v}"`;
  if (posix.normalize(v) !== v) return `\`${what}\` is not normalized; write "${posix.normalize(v)}"`;
  return undefined;
};

function validate(_name: string, p: ArchiveParams): Problem[] {
  const out: Problem[] = [];
  const bad = absoluteProblem('path', p.path);
  if (bad !== undefined) out.push({ param: 'path', message: bad });
  else if (p.path.endsWith('/')) out.push({ param: 'path', message: `\`path\` "${p.path}" ends with "/": the archive is a file` });
  for (const key of ['extract_path', 'creates'] as const) {
    const v = p[key];
    const why = v === undefined ? undefined : absoluteProblem(key, v);
    if (why !== undefined) out.push({ param: key, message: why });
  }
  if (p.state === 'exists' && p.source === undefined) out.push({ param: 'source', message: '`source` is required (the URL or path to download from)' });
  for (const key of ['source', 'checksum_url'] as const) {
    const v = p[key];
    const why = v === undefined ? undefined : sourceProblem(v);
    if (why !== undefined) out.push({ param: key, message: `\`${key}\` ${shownSource(v!)} ${why}` });
  }
  if (p.checksum_type !== 'none' && p.checksum === undefined && p.checksum_url === undefined) {
    out.push({
      param: 'checksum_type',
      message: `\`checksum_type\` is ${p.checksum_type} but neither \`checksum\` nor \`checksum_url\` is set: give the expected checksum`,
    });
  }
  if (p.extract) {
    if (p.extract_path === undefined) out.push({ param: 'extract_path', message: '`extract` needs `extract_path` (the directory to extract into)' });
    if (extractionCommand(basename(p.path)) === undefined) {
      out.push({ param: 'extract', message: `cannot extract "${basename(p.path)}": the file name must end with one of ${EXTRACTABLE}` });
    }
  }
  return out;
}

function autoEdges(_name: string, p: ArchiveParams): AutoEdgeHints {
  const after = p.extract_path !== undefined ? [p.extract_path] : [];
  return {
    manages: [p.path],
    // Puppet's archive shares its path with a File that sets the download's mode (php's composer, archive's own examples)
    sharesPath: true,
    afterNearestAncestor: [p.path, ...after],
    afterPath: after,
    afterVertex: [...(p.user !== undefined ? [{ kind: 'user', name: p.user }] : []), ...(p.group !== undefined ? [{ kind: 'group', name: p.group }] : [])],
  };
}

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

/** The first hex string of 32 to 128 digits in a checksum file (`<hash>  <name>` or the hash alone). */
export function checksumIn(text: string): string | undefined {
  return /\b[0-9a-fA-F]{32,128}\b/.exec(text)?.[0]?.toLowerCase();
}

export const archiveKind = defineKind({
  kind: 'archive',
  doc: "A file downloaded from http(s) or copied from a local file, verified against a checksum and optionally extracted with tar or unzip, as voxpupuli-archive's `archive` does. The download goes to a temp file next to the path and is renamed into place once complete and verified, so the path never holds a partial file. TLS certificates are verified, the size is bounded (`max_size`), a transfer has a deadline (`download_timeout`) and stops after 60 s without data, a redirect from https to http is refused, and credentials go to the source's host only. The file and `creates` are watched.",
  params,
  nameParam: 'path',
  refreshable: false,
  // it runs tar or unzip (as `user`), whose archive may write anywhere below `extract_path`
  reach: { touches: ['files', 'commands'], collect: 'explicit' },
  validate,
  autoEdges,
  create: (_name, p, ctx) => {
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
  },
});
