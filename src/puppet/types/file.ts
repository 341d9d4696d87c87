/**
 * Puppet `file` → `file`. The vertex is `file[<title>]` with an explicit `path` (`/` appended for directories).
 * Content or source without ensure still creates the file (as Puppet does); a property-only file manages
 * nothing while the path is absent (no `state`).
 */
import type { FileParams } from '../../resources/file/params.js';
import { type Converter, type Derivation, IS_TRUE, refused, type RuleContext, sourced, truthy, type TypeRules } from '../rules.js';
import { seLinuxNotes } from './selinux.js';
import { filePath as munged } from '../autorelations.js';
import { accountNamed, parentDir, str } from './auto.js';

const MSG_NAMED_BUCKET = 'backups go to the local backup bucket (mgmt bucket), not to this named filebucket';
const MSG_CHECKSUM = 'content is always compared byte by byte';
const MSG_VALIDATE = 'content is not validated before it is written';

const MODULES = 'puppet:///modules/';

/** A source as a local path (`undefined`: refused through the context). */
function localSource(v: unknown, ctx: RuleContext): string | undefined {
  const list = Array.isArray(v) ? v : [v];
  if (list.length > 0 && list.every((s) => typeof s === 'string' && s.startsWith(MODULES))) return moduleSource(list as string[], ctx);
  if (list.length !== 1 || typeof list[0] !== 'string') {
    ctx.refuse('source', 'several sources (first found wins) are not supported unless all are puppet:///modules/ sources');
    return undefined;
  }
  const s = list[0];
  if (s.startsWith('file://')) {
    const p = decodeURI(s.replace(/^file:\/\/(localhost)?/, ''));
    if (p.startsWith('/')) return p;
  } else if (s.startsWith('/')) return s;
  if (s.startsWith('puppet:'))
    ctx.refuse('source', 'only puppet:///modules/<module>/<path> sources are copied natively; Puppet serves other mounts and named servers');
  else ctx.refuse('source', 'only local sources (a path or file:///) are supported');
  return undefined;
}

/**
 * `puppet:///modules/<module>/<path>` is the module's `files/<path>` on the host that compiled the catalog, as
 * `puppet apply` serves it; the face resolved it (`sourcePaths`). Of several, the first that exists wins, as in
 * Puppet (its default sourceselect).
 */
function moduleSource(list: readonly string[], ctx: RuleContext): string | undefined {
  const paths = ctx.resource.sourcePaths ?? {};
  const found = list.find((s) => paths[s] !== undefined);
  if (found !== undefined) return paths[found]!;
  ctx.refuse(
    'source',
    'no module file found for it: puppet:///modules/ sources resolve only in a catalog the mgmtgraph face compiled on this host, to files that exist in the module path',
  );
  return undefined;
}

/** `recurse => remote` is refused; `inf` and true recurse. */
const fileRecurse: Converter = {
  doc: 'to a boolean (inf → true); remote → fallback',
  refuses: 'recurse => remote is not supported',
  convert: (v) => (v === 'remote' ? refused('recurse => remote is not supported') : v === 'inf' || truthy(v)),
};

const withSlash = (p: string) => (p.endsWith('/') ? p : `${p}/`);

/** `ensure => link`, or Puppet's shorthand `ensure => /target`. */
const isLinkEnsure = (e: unknown): boolean => e === 'link' || (typeof e === 'string' && e.startsWith('/'));
/** The link target (`target`, or the shorthand's path); not a non-empty string: none. */
const linkTarget = (ctx: RuleContext): string | undefined => {
  const e = ctx.value('ensure');
  const t = e === 'link' ? ctx.value('target') : e;
  return typeof t === 'string' && t !== '' ? t : undefined;
};

/**
 * A directory: `ensure => directory`, or a recursive copy of a source (set before `path` is derived): our file
 * kind spells directories with a trailing `/`.
 */
const isDirectory = (ctx: RuleContext): boolean =>
  ctx.value('ensure') === 'directory' ||
  ctx.get('purge') === true ||
  (ctx.get('symlink') !== true && ctx.get('source') !== undefined && ctx.get('recurse') === true);

const fileState: Derivation = {
  doc: 'file/present/directory → exists, absent → absent, link (with a target) → exists; without ensure, exists when content or source is given',
  derive: (ctx) => {
    const e = ctx.value('ensure');
    if (e === undefined) return ctx.has('content') || ctx.has('source') ? sourced('exists', 'ensure') : undefined;
    if (e === 'file' || e === 'present' || e === 'directory') return sourced('exists', 'ensure');
    if (e === 'absent') return sourced('absent', 'ensure');
    if (isLinkEnsure(e)) return linkTarget(ctx) === undefined ? refused('ensure => link needs a target') : sourced('exists', 'ensure');
    return refused('this ensure value is not supported');
  },
};

const fileSymlink: Derivation = {
  doc: 'true for ensure => link with a target; a target without ensure => link is ignored, as Puppet ignores it (native, noted)',
  derive: (ctx) => {
    // Puppet's target property is in sync whenever ensure is not link: it ignores it too, so nothing is lost.
    if (ctx.has('target') && ctx.value('ensure') !== 'link') ctx.info('target', 'target is ignored unless ensure is link, as Puppet ignores it');
    return isLinkEnsure(ctx.value('ensure')) && linkTarget(ctx) !== undefined ? sourced(true, 'ensure') : undefined;
  },
};

const fileSource: Derivation = {
  doc: "a link: its target; otherwise `source` from a local path or file:/// URL, or `puppet:///modules/<module>/<path>` as the module's file on the compiling host (of several such sources, the first that exists; other puppet:/// sources → fallback), with a `/` for a directory or a recursive copy",
  derive: (ctx) => {
    const e = ctx.value('ensure');
    const t = isLinkEnsure(e) ? linkTarget(ctx) : undefined;
    if (t !== undefined) return sourced(t, e === 'link' ? 'target' : 'ensure');
    if (!ctx.has('source')) return undefined;
    const src = localSource(ctx.value('source'), ctx);
    if (src === undefined) return undefined;
    const tree = e === 'directory' || ctx.get('recurse') === true;
    return sourced(tree ? withSlash(src) : src, 'source');
  },
};

/** A purge without a source: Puppet removes what no File of the catalog manages (ensure directory, or unset). */
const purgesUnmanaged = (ctx: RuleContext): boolean => ctx.get('purge') === true && ctx.get('source') === undefined;

const filePurge: Derivation = {
  doc: 'true with recurse: with a directory source, entries the source lacks are removed; without one (ensure directory or unset), entries no other resource manages; without recurse, or on a file, link or absent path, purge does nothing (as in Puppet)',
  derive: (ctx) => {
    if (!truthy(ctx.value('purge')) || ctx.get('recurse') !== true || ctx.get('symlink') === true || ctx.get('state') === 'absent') return undefined;
    const e = ctx.value('ensure');
    if (ctx.get('source') !== undefined) return e === undefined || e === 'directory' || ctx.get('state') === 'exists' ? sourced(true, 'purge') : undefined;
    return e === undefined || e === 'directory' ? sourced(true, 'purge') : undefined;
  },
};

/** `ignore` and `recurselimit` shape the recursion: native for a purge without a source; with a source, refused. */
const recursionParam = (attribute: 'ignore' | 'recurselimit', convert: (v: unknown) => unknown): Derivation => ({
  doc: `carried for a purge without a source; with a recursive source → fallback; otherwise it has no effect (Puppet recurses over nothing it changes) and is consumed`,
  derive: (ctx) => {
    if (!ctx.has(attribute)) return undefined;
    if (purgesUnmanaged(ctx)) return convert(ctx.value(attribute));
    if (ctx.get('source') !== undefined && ctx.get('recurse') === true) return refused(`${attribute} with a recursive source is not supported`);
    return undefined;
  },
});

const ignorePatterns = (v: unknown): unknown => {
  const list = Array.isArray(v) ? v : [v];
  if (list.length === 1 && (list[0] === false || list[0] === null)) return undefined;
  if (!list.every((g): g is string => typeof g === 'string' && g !== '' && !g.includes('/'))) return refused('ignore patterns must be names without "/"');
  return sourced(list, 'ignore');
};

const recursionLimit = (v: unknown): unknown => {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^[0-9]+$/.test(v) ? Number(v) : NaN;
  return Number.isInteger(n) && n >= 0 ? sourced(n, 'recurselimit') : refused('recurselimit is not a whole number');
};

const fileMaxFiles: Derivation = {
  doc: 'carried for a purge without a source (-1, 0 or a positive bound); with a recursive source it is not enforced (degraded); otherwise consumed',
  derive: (ctx) => {
    if (!ctx.has('max_files')) return undefined;
    const v = ctx.value('max_files');
    const n = typeof v === 'number' ? v : typeof v === 'string' && /^(-1|[0-9]+)$/.test(v) ? Number(v) : NaN;
    if (!Number.isInteger(n) || n < -1) return refused('max_files is not -1 or a whole number');
    if (purgesUnmanaged(ctx)) return sourced(n, 'max_files');
    if (ctx.get('source') !== undefined && ctx.get('recurse') === true) ctx.note('max_files', 'max_files is not enforced on a recursive source copy');
    return undefined;
  },
};

const filePath: Derivation = {
  doc: '`path` (default: the title), trailing slashes removed, then `/` appended for a directory',
  derive: (ctx) => {
    const raw = ctx.value('path');
    let path = typeof raw === 'string' ? raw : ctx.resource.title;
    if (path.length > 1 && path.endsWith('/')) path = path.replace(/\/+$/, '');
    return sourced(isDirectory(ctx) && path !== '/' ? withSlash(path) : path, typeof raw === 'string' ? 'path' : []);
  },
};

/**
 * `backup`: false → false; true → `.puppet-bak`; a `.suffix` → that suffix; `puppet` (the local filebucket Puppet
 * creates) → our bucket; another filebucket's name → our bucket, noted. Unset: our kind's default (the bucket),
 * although Puppet 7 keeps no backup by default: keeping one changes nothing Puppet manages.
 */
export const fileBackup: Derivation = {
  doc: 'false → false, true → .puppet-bak, a .suffix → that suffix, puppet → bucket (the local bucket), another filebucket name → bucket (degraded: kept locally); unset → bucket (Puppet 7 keeps no backup by default; ours is kept under the state directory)',
  derive: (ctx) => {
    if (!ctx.has('backup')) return undefined;
    const raw = ctx.value('backup');
    const v = Array.isArray(raw) ? (raw as unknown[])[0] : raw;
    if (v === false || v === 'false' || v === undefined) return sourced('false', 'backup');
    if (v === true || v === 'true') return sourced('.puppet-bak', 'backup');
    if (typeof v !== 'string' || v === '') return refused('backup is not false, a .suffix or a filebucket name');
    if (v.startsWith('.')) return v.length > 1 && !v.includes('/') ? sourced(v, 'backup') : refused('a backup suffix must be a name without "/"');
    if (v !== 'puppet') ctx.note('backup', MSG_NAMED_BUCKET);
    return sourced('bucket', 'backup');
  },
};

/** Puppet replaces a file or link of another type without `force`; only a directory needs it. */
export const replacesOtherTypes: Derivation = {
  doc: 'true when the file exists (Puppet replaces a file or link of another type; only a directory needs `force`)',
  derive: (ctx) => (ctx.get('state') === 'exists' ? sourced(true, 'ensure') : undefined),
};

export const fileRules: TypeRules<FileParams> = {
  type: 'File',
  kind: 'file',
  doc: 'A file, directory or symlink. The vertex is `file[<title>]`; `path` is always written.',
  name: (r) => r.title,
  attributes: {
    content: { do: 'carry', to: 'content', doc: 'also sets `state: exists` when ensure is not given' },
    owner: { do: 'carry', to: 'owner', as: 'string' },
    group: { do: 'carry', to: 'group', as: 'string' },
    mode: { do: 'carry', to: 'mode', as: 'string' },
    recurse: { do: 'carry', to: 'recurse', as: fileRecurse },
    force: { do: 'carry', to: 'force', as: 'boolean' },
    replace: { do: 'refuse', reason: 'replace => false is not supported', accept: IS_TRUE },
    links: { do: 'refuse', reason: 'links other than manage are not supported', accept: ['manage'] },
    show_diff: { do: 'info', message: 'only shapes output: diffs are not shown' },
    checksum: { do: 'note', message: MSG_CHECKSUM },
    checksum_value: { do: 'note', message: MSG_CHECKSUM },
    validate_cmd: { do: 'note', message: MSG_VALIDATE },
    validate_replacement: { do: 'note', message: MSG_VALIDATE },
    provider: { do: 'refuse', reason: 'only the posix provider is supported', accept: ['posix'] },
    sourceselect: { do: 'refuse', reason: 'sourceselect is not supported', accept: ['first'] },
    ...seLinuxNotes,
  },
  derive: {
    state: { from: ['ensure', 'content', 'source', 'target'], by: fileState },
    symlink: { from: ['ensure', 'target'], by: fileSymlink },
    source: { from: ['source', 'ensure', 'target', 'recurse'], by: fileSource },
    purge: { from: ['purge', 'source', 'recurse', 'ensure'], by: filePurge },
    ignore: { from: ['ignore', 'purge', 'source'], by: recursionParam('ignore', ignorePatterns) },
    recurselimit: { from: ['recurselimit', 'purge', 'source'], by: recursionParam('recurselimit', recursionLimit) },
    maxfiles: { from: ['max_files', 'purge', 'source'], by: fileMaxFiles },
    path: { from: ['path', 'ensure', 'source', 'recurse'], by: filePath },
    replacenondir: { from: ['ensure'], by: replacesOtherTypes },
    backup: { from: ['backup'], by: fileBackup },
  },
  ignoredWhenAbsent: ['content', 'source', 'mode', 'owner', 'group'],
  checks: [
    {
      attribute: ['owner', 'group', 'mode'],
      outcome: 'fallback',
      message: 'recurse without a source or purge applies owner, group and mode to every entry below: not supported',
      doc: 'recurse is true on a directory without a source and without purge',
      when: (ctx, a) =>
        ctx.has(a) && ctx.get('recurse') === true && ctx.get('source') === undefined && ctx.get('purge') !== true && ctx.get('state') !== 'absent',
    },
  ],
  autorelations: [
    {
      relation: 'require',
      type: 'File',
      doc: "its nearest ancestor directory that the catalog manages as a File; a link's `target`",
      names: (r, catalog) => {
        const out: string[] = [];
        const p = typeof r.parameters.path === 'string' ? r.parameters.path : r.title;
        for (let d = parentDir(munged(p)); d !== undefined; d = parentDir(d)) {
          if (catalog.has('File', d)) {
            out.push(d);
            break;
          }
        }
        return [...out, ...str(r.parameters.target)];
      },
    },
    { relation: 'require', type: 'User', doc: 'its `owner`, unless numeric', names: (r) => accountNamed(r.parameters.owner) },
    { relation: 'require', type: 'Group', doc: 'its `group`, unless numeric', names: (r) => accountNamed(r.parameters.group) },
  ],
};
