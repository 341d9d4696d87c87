/**
 * voxpupuli-archive's `archive` → `archive`. The vertex is `archive[<path>]` (the namevar). The type's
 * camptocamp-compatible aliases (`url`, `target`, `digest_string`, `digest_url`, `digest_type`) are read as the
 * type munges them into their main attributes. Sources Puppet's providers fetch with other tools (`puppet://`,
 * `ftp://`, `s3://`, `gs://`), a proxy, custom extraction commands or flags, and download options of curl, wget
 * or aws go to the fallback.
 */
import type { ArchiveParams } from '../../resources/archive.js';
import { sourceProblem } from '../../system/net/source-url.js';
import { extractionCommand } from '../../system/tools/extraction-command.js';
import { type Converter, type Derivation, Refusal, refused, sourced, truthy, type TypeRules } from '../rules.js';
import { parentDir, str } from './auto.js';

const MSG_SCHEME = 'only http, https and file sources (or an absolute path) are downloaded natively';

/** The first of several aliases that is given (`source` or its alias `url`). */
const firstOf = (ctx: Parameters<Derivation['derive']>[0], ...attrs: string[]): { value: unknown; from: string } | undefined => {
  for (const a of attrs) if (ctx.has(a) && ctx.value(a) !== '' && ctx.value(a) !== null) return { value: ctx.value(a), from: a };
  return undefined;
};

/** A location we fetch: http(s), file, or an absolute path. */
const location = (v: unknown): string | Refusal => {
  if (typeof v !== 'string') return refused('the location is not a string');
  return sourceProblem(v) === undefined ? v : refused(MSG_SCHEME);
};

const archiveSource: Derivation = {
  doc: '`source` (or its alias `url`); a scheme other than http, https, file or an absolute path → fallback',
  derive: (ctx) => {
    const s = firstOf(ctx, 'source', 'url');
    if (s === undefined) return undefined;
    const l = location(s.value);
    return l instanceof Refusal ? l : sourced(l, s.from);
  },
};

const archiveChecksumUrl: Derivation = {
  doc: '`checksum_url` (or its alias `digest_url`); same schemes as `source`',
  derive: (ctx) => {
    const s = firstOf(ctx, 'checksum_url', 'digest_url');
    if (s === undefined) return undefined;
    const l = location(s.value);
    return l instanceof Refusal ? l : sourced(l, s.from);
  },
};

/** The type's munge: true/false set `checksum_verify`, empty means none, otherwise a hex string. */
const archiveChecksum: Derivation = {
  doc: '`checksum` (or its alias `digest_string`): a hex string of 5 to 128 digits (compared in lower case); true/false set `checksum_verify` instead; empty: none',
  derive: (ctx) => {
    const s = firstOf(ctx, 'checksum', 'digest_string');
    if (s === undefined) return undefined;
    const v = s.value;
    if (v === true || v === false || v === 'true' || v === 'false') return undefined;
    if (typeof v === 'string' && /^[0-9a-fA-F]{5,128}$/.test(v)) return sourced(v, s.from);
    return refused('the checksum is not a hex string');
  },
};

const archiveVerify: Derivation = {
  doc: '`checksum_verify`, or `checksum => true/false` (the type munges it into `checksum_verify`); default true',
  derive: (ctx) => {
    const c = ctx.value('checksum');
    if (c === true || c === false || c === 'true' || c === 'false') return sourced(truthy(c), 'checksum');
    return ctx.has('checksum_verify') ? truthy(ctx.value('checksum_verify')) : undefined;
  },
};

const CHECKSUM_TYPES: Readonly<Record<string, string>> = {
  none: 'none',
  md5: 'md5',
  sha1: 'sha1',
  sha2: 'sha256',
  sha256: 'sha256',
  sha384: 'sha384',
  sha512: 'sha512',
};

const archiveChecksumType: Derivation = {
  doc: '`checksum_type` (or its alias `digest_type`): none, md5, sha1, sha256, sha384, sha512; sha2 (Ruby’s Digest::SHA2) → sha256',
  derive: (ctx) => {
    const s = firstOf(ctx, 'checksum_type', 'digest_type');
    if (s === undefined) return undefined;
    const t = CHECKSUM_TYPES[String(s.value)];
    return t === undefined ? refused('the checksum type is not one the type accepts') : sourced(t, s.from);
  },
};

const archiveExtractPath: Derivation = {
  doc: '`extract_path` (or its alias `target`); absolute',
  derive: (ctx) => {
    const s = firstOf(ctx, 'extract_path', 'target');
    if (s === undefined) return undefined;
    return typeof s.value === 'string' && s.value.startsWith('/') ? sourced(s.value, s.from) : refused('extract_path is not an absolute path');
  },
};

const headerList: Converter = {
  doc: 'a list of `Name: value` strings',
  refuses: 'headers must be a list of `Name: value` strings',
  convert: (v) =>
    Array.isArray(v) && v.every((h) => typeof h === 'string' && /^[!#$%&'*+.^_`|~0-9A-Za-z-]+:/.test(h))
      ? v
      : refused('headers must be a list of `Name: value` strings'),
};

/** The namevar `path` (default: the title). */
const archivePath = (r: { readonly title: string; readonly parameters: Readonly<Record<string, unknown>> }): string => str(r.parameters.path)[0] ?? r.title;

export const archiveRules: TypeRules<ArchiveParams> = {
  type: 'Archive',
  kind: 'archive',
  doc: 'A file downloaded (http, https, file) and verified by checksum, optionally extracted with tar or unzip. The vertex is `archive[<path>]` (the namevar). TLS certificates are verified unless `allow_insecure`; the size is bounded by our kind’s `max_size` (4 GiB).',
  name: archivePath,
  attributes: {
    path: { do: 'use', doc: 'the vertex name (default: the title)' },
    ensure: { do: 'map', to: 'state', values: { present: 'exists', absent: 'absent' } },
    extract: { do: 'carry', to: 'extract', as: 'boolean' },
    creates: { do: 'carry', to: 'creates', as: 'text' },
    cleanup: { do: 'carry', to: 'cleanup', as: 'boolean' },
    user: { do: 'carry', to: 'user', as: 'string' },
    group: { do: 'carry', to: 'group', as: 'string' },
    username: { do: 'carry', to: 'username', as: 'string' },
    password: { do: 'carry', to: 'password', as: 'string' },
    headers: { do: 'carry', to: 'headers', as: headerList },
    cookie: { do: 'carry', to: 'cookie', as: 'string' },
    allow_insecure: { do: 'carry', to: 'allow_insecure', as: 'boolean' },
    filename: { do: 'drop', doc: 'the type derives it from `path` (whatever is given)' },
    temp_dir: { do: 'drop', doc: 'the download goes to a temp file next to `path`, renamed into place once verified' },
    provider: { do: 'drop', doc: 'every provider (ruby, curl, wget) downloads the same file; ours is native' },
    extract_command: { do: 'refuse', reason: 'a custom extraction command is not supported' },
    extract_flags: { do: 'refuse', reason: 'custom extraction flags are not supported', accept: ['undef'] },
    proxy_server: { do: 'refuse', reason: 'downloads through a proxy are not supported' },
    proxy_type: { do: 'refuse', reason: 'downloads through a proxy are not supported', accept: ['none'] },
    download_options: { do: 'refuse', reason: 'download options of curl, wget or aws are not supported' },
  },
  derive: {
    source: { from: ['source', 'url'], by: archiveSource },
    checksum: { from: ['checksum', 'digest_string'], by: archiveChecksum },
    checksum_verify: { from: ['checksum_verify'], by: archiveVerify },
    checksum_type: { from: ['checksum_type', 'digest_type'], by: archiveChecksumType },
    checksum_url: { from: ['checksum_url', 'digest_url'], by: archiveChecksumUrl },
    extract_path: { from: ['extract_path', 'target'], by: archiveExtractPath },
  },
  checks: [
    {
      attribute: 'source',
      outcome: 'fallback',
      message: 'an archive to download without source is not supported',
      doc: 'ensure is not absent and no source is given',
      when: (ctx) => ctx.get('state') !== 'absent' && ctx.get('source') === undefined,
    },
    {
      attribute: 'checksum_type',
      outcome: 'fallback',
      message: 'a checksum type without checksum or checksum_url is not supported',
      doc: 'a checksum type other than none, without checksum or checksum_url',
      when: (ctx) =>
        ctx.get('checksum_type') !== undefined &&
        ctx.get('checksum_type') !== 'none' &&
        ctx.get('checksum') === undefined &&
        ctx.get('checksum_url') === undefined,
    },
    {
      attribute: 'extract',
      outcome: 'fallback',
      message: 'extraction needs extract_path and a tar or zip file name',
      doc: 'extract is true without extract_path, or the file name is not .tar, .tar.gz, .tgz, .tar.bz2, .tbz, .tar.xz, .txz, .zip, .war or .jar',
      when: (ctx) => ctx.get('extract') === true && (ctx.get('extract_path') === undefined || extractionCommand(archivePath(ctx.resource)) === undefined),
    },
  ],
  // lib/puppet/type/archive.rb: autorequire(:file) { [parent of path, extract_path, '/root/.aws/config',
  // '/root/.aws/credentials'] }; of its two autorequire(:exec) blocks, the second (install_gsutil) replaces the
  // first (install_aws_cli): Puppet keeps one block per type
  autorelations: [
    {
      relation: 'require',
      type: 'File',
      doc: 'the directory of its `path`, its `extract_path` (or `target`), /root/.aws/config and /root/.aws/credentials',
      names: (r) => [
        ...str(parentDir(archivePath(r))),
        ...str(r.parameters.extract_path ?? r.parameters.target),
        '/root/.aws/config',
        '/root/.aws/credentials',
      ],
    },
    {
      relation: 'require',
      type: 'Exec',
      doc: '`Exec[install_gsutil]` (the type also declares `Exec[install_aws_cli]`, but its second `autorequire(:exec)` block replaces the first)',
      names: () => ['install_gsutil'],
    },
  ],
};
