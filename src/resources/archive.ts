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
import { basename, isAbsolute, posix } from 'node:path';
import type { ParamsOf } from './params.js';
import { TIMER_MAX_S } from './params.js';
import { defineKind, type AutoEdgeHints, type Problem } from './resource.js';
import { deferredResource } from './deferred-resource.js';
import { pathProblem } from '../system/fs/path-check.js';
import { shownSource, sourceProblem } from '../system/net/source-url.js';
import { EXTRACTABLE, extractionCommand } from '../system/tools/extraction-command.js';

/** The largest checksum file read from `checksum_url`. */
export const CHECKSUM_FILE_MAX = 1024 * 1024;
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
  create: (name, p, ctx) =>
    deferredResource(
      () => import('./archive-resource.js'),
      (m) => m.archiveResource(name, p, ctx),
    ),
});
