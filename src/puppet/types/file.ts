/**
 * Puppet `file` → `file`. The vertex is `file[<title>]` with an explicit `path` (`/` appended for directories).
 * Content or source without ensure still creates the file (as Puppet does); a property-only file manages
 * nothing while the path is absent (no `state`).
 */
import { REFUSED, type RuleContext, type TypeRules, truthy } from '../rules.js';

const MSG_NO_BACKUP = 'no filebucket: backups are not made';

const MODULES = 'puppet:///modules/';

function localSource(v: unknown, ctx: RuleContext): string | typeof REFUSED {
  const list = Array.isArray(v) ? v : [v];
  if (list.length > 0 && list.every((s) => typeof s === 'string' && s.startsWith(MODULES))) return moduleSource(list as string[], ctx);
  if (list.length !== 1 || typeof list[0] !== 'string') {
    ctx.refuse('source', 'several sources (first found wins) are not supported unless all are puppet:///modules/ sources');
    return REFUSED;
  }
  const s = list[0];
  if (s.startsWith('file://')) {
    const p = decodeURI(s.replace(/^file:\/\/(localhost)?/, ''));
    if (p.startsWith('/')) return p;
  } else if (s.startsWith('/')) return s;
  if (s.startsWith('puppet:'))
    ctx.refuse('source', 'only puppet:///modules/<module>/<path> sources are copied natively; Puppet serves other mounts and named servers');
  else ctx.refuse('source', 'only local sources (a path or file:///) are supported');
  return REFUSED;
}

/**
 * `puppet:///modules/<module>/<path>` is the module's `files/<path>` on the host that compiled the catalog, as
 * `puppet apply` serves it; the face resolved it (`sourcePaths`). Of several, the first that exists wins, as in
 * Puppet (its default sourceselect).
 */
function moduleSource(list: readonly string[], ctx: RuleContext): string | typeof REFUSED {
  const paths = ctx.resource.sourcePaths ?? {};
  const found = list.find((s) => paths[s] !== undefined);
  if (found !== undefined) return paths[found]!;
  ctx.refuse(
    'source',
    'no module file found for it: puppet:///modules/ sources resolve only in a catalog the mgmtgraph face compiled on this host, to files that exist in the module path',
  );
  return REFUSED;
}

const withSlash = (p: string) => (p.endsWith('/') ? p : `${p}/`);

export const fileRules: TypeRules = {
  type: 'File',
  kind: 'file',
  doc: 'A file, directory or symlink. The vertex is `file[<title>]`; `path` is always written.',
  name: (r) => r.title,
  attributes: {
    path: { do: 'use', doc: '`path` (default: the title)' },
    ensure: { do: 'use', doc: '`state`: file/present → exists, directory → exists with a `/` path, absent → absent, link → `symlink` + `source: <target>`' },
    target: { do: 'use', doc: 'with ensure => link: `source` (the link target); otherwise ignored with a note' },
    content: { do: 'carry', doc: 'also sets `state: exists` when ensure is not given' },
    source: {
      do: 'use',
      doc: "`source` from a local path or file:/// URL, or `puppet:///modules/<module>/<path>` as the module's file on the compiling host (of several such sources, the first that exists); other puppet:/// sources → fallback; also sets `state: exists` when ensure is not given",
    },
    owner: { do: 'map', to: 'owner', fn: (v) => String(v) },
    group: { do: 'map', to: 'group', fn: (v) => String(v) },
    mode: { do: 'map', to: 'mode', fn: (v) => String(v) },
    recurse: {
      do: 'map',
      to: 'recurse',
      fn: (v, ctx) => {
        if (v === 'remote') {
          ctx.refuse('recurse', 'recurse => remote is not supported');
          return REFUSED;
        }
        return v === 'inf' || truthy(v);
      },
    },
    force: { do: 'map', to: 'force', fn: (v) => truthy(v) },
    purge: { do: 'use', doc: '`purge` with a directory source and recurse; otherwise fallback' },
    replace: { do: 'refuse', reason: 'replace => false is not supported', accept: (v) => truthy(v) },
    links: { do: 'refuse', reason: 'links other than manage are not supported', accept: (v) => v === 'manage' },
    backup: { do: 'note', message: MSG_NO_BACKUP },
    show_diff: { do: 'note', message: 'diffs are not shown' },
    checksum: { do: 'note', message: 'content is always compared byte by byte' },
    checksum_value: { do: 'note', message: 'content is always compared byte by byte' },
    validate_cmd: { do: 'note', message: 'content is not validated before it is written' },
    validate_replacement: { do: 'note', message: 'content is not validated before it is written' },
    provider: { do: 'refuse', reason: 'only the posix provider is supported', accept: (v) => v === 'posix' },
    recurselimit: { do: 'refuse', reason: 'recurselimit is not supported' },
    ignore: { do: 'refuse', reason: 'ignore patterns are not supported' },
    sourceselect: { do: 'refuse', reason: 'sourceselect is not supported', accept: (v) => v === 'first' },
    max_files: { do: 'note', message: 'max_files is not enforced' },
    selinux_ignore_defaults: { do: 'note', message: 'SELinux contexts are not managed' },
    selrange: { do: 'note', message: 'SELinux contexts are not managed' },
    selrole: { do: 'note', message: 'SELinux contexts are not managed' },
    seltype: { do: 'note', message: 'SELinux contexts are not managed' },
    seluser: { do: 'note', message: 'SELinux contexts are not managed' },
  },
  finish: (ctx) => {
    const r = ctx.resource;
    const rawPath = ctx.value('path');
    let path = typeof rawPath === 'string' ? rawPath : r.title;
    if (path.length > 1 && path.endsWith('/')) path = path.replace(/\/+$/, '');
    const ensure = ctx.value('ensure');
    const hasTarget = ctx.has('target');
    let dir = false;
    let state: string | undefined;
    if (ensure === undefined) {
      if (ctx.has('content') || ctx.has('source')) state = 'exists';
    } else if (ensure === 'file' || ensure === 'present') state = 'exists';
    else if (ensure === 'directory') {
      state = 'exists';
      dir = true;
    } else if (ensure === 'absent') state = 'absent';
    else if (ensure === 'link' || (typeof ensure === 'string' && ensure.startsWith('/'))) {
      const target = ensure === 'link' ? ctx.value('target') : ensure;
      if (typeof target !== 'string' || target === '') ctx.refuse('ensure', 'ensure => link needs a target');
      else {
        state = 'exists';
        ctx.set('symlink', true, 'ensure');
        ctx.set('source', target, ensure === 'link' ? 'target' : 'ensure');
      }
    } else ctx.refuse('ensure', 'this ensure value is not supported');
    if (hasTarget && ensure !== 'link') ctx.note('target', 'target is ignored unless ensure is link');

    if (ctx.has('source') && ctx.get('symlink') !== true) {
      const src = localSource(ctx.value('source'), ctx);
      if (src !== REFUSED) {
        // A recursive copy of a directory source: our file kind spells directories with a trailing `/`.
        const tree = dir || ctx.get('recurse') === true;
        if (tree) dir = true;
        ctx.set('source', tree ? withSlash(src) : src, 'source');
      }
    }
    if (ctx.has('purge') && truthy(ctx.value('purge'))) {
      if (dir && ctx.get('source') !== undefined && ctx.get('recurse') === true) ctx.set('purge', true, 'purge');
      else ctx.refuse('purge', 'purge needs a directory source and recurse');
    }
    if (state === 'absent') {
      for (const k of ['content', 'source', 'mode', 'owner', 'group'] as const) {
        if (ctx.get(k) !== undefined) {
          ctx.unset(k);
          ctx.note(k, 'ignored when ensure is absent');
        }
      }
    }
    const full = dir && path !== '/' ? withSlash(path) : path;
    ctx.set('path', full, typeof rawPath === 'string' ? 'path' : []);
    if (state) ctx.set('state', state, 'ensure');
    // Puppet replaces a file or link of another type without `force`; only a directory needs it.
    if (state === 'exists') ctx.set('replacenondir', true, 'ensure');
  },
};
