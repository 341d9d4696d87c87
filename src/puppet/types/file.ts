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

const MSG_NO_BACKUP = 'no filebucket: backups are not made';
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
  ctx.value('ensure') === 'directory' || (ctx.get('symlink') !== true && ctx.get('source') !== undefined && ctx.get('recurse') === true);

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
  doc: 'true for ensure => link with a target; a target without ensure => link is ignored (degraded)',
  derive: (ctx) => {
    if (ctx.has('target') && ctx.value('ensure') !== 'link') ctx.note('target', 'target is ignored unless ensure is link');
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

const filePurge: Derivation = {
  doc: 'true with a directory source and recurse; purge without them → fallback',
  derive: (ctx) => {
    if (!truthy(ctx.value('purge'))) return undefined;
    return isDirectory(ctx) && ctx.get('source') !== undefined && ctx.get('recurse') === true
      ? sourced(true, 'purge')
      : refused('purge needs a directory source and recurse');
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
    backup: { do: 'note', message: MSG_NO_BACKUP },
    show_diff: { do: 'info', message: 'only shapes output: diffs are not shown' },
    checksum: { do: 'note', message: MSG_CHECKSUM },
    checksum_value: { do: 'note', message: MSG_CHECKSUM },
    validate_cmd: { do: 'note', message: MSG_VALIDATE },
    validate_replacement: { do: 'note', message: MSG_VALIDATE },
    provider: { do: 'refuse', reason: 'only the posix provider is supported', accept: ['posix'] },
    recurselimit: { do: 'refuse', reason: 'recurselimit is not supported' },
    ignore: { do: 'refuse', reason: 'ignore patterns are not supported' },
    sourceselect: { do: 'refuse', reason: 'sourceselect is not supported', accept: ['first'] },
    max_files: { do: 'note', message: 'max_files is not enforced' },
    ...seLinuxNotes,
  },
  derive: {
    state: { from: ['ensure', 'content', 'source', 'target'], by: fileState },
    symlink: { from: ['ensure', 'target'], by: fileSymlink },
    source: { from: ['source', 'ensure', 'target', 'recurse'], by: fileSource },
    purge: { from: ['purge', 'source', 'recurse'], by: filePurge },
    path: { from: ['path', 'ensure', 'source', 'recurse'], by: filePath },
    replacenondir: { from: ['ensure'], by: replacesOtherTypes },
  },
  ignoredWhenAbsent: ['content', 'source', 'mode', 'owner', 'group'],
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
