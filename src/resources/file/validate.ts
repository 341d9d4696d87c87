/** The file kind's checks of its parameters, before anything runs. */
import { posix, isAbsolute } from 'node:path';
import { accountRefProblem } from '../account-ref.js';
import type { Problem } from '../resource.js';
import { parseMode } from '../../system/fs/file-mode.js';
import type { FileParams } from './params.js';
import { pathProblem } from '../../system/fs/path-check.js';

export function validate(p: FileParams): Problem[] {
  const out: Problem[] = [];
  const { path, state } = p;
  const isDirPath = path.endsWith('/');
  const bad = pathProblem(path);
  if (bad !== undefined) {
    out.push({ param: 'path', message: `path ${bad}` });
  } else if (path === '') {
    out.push({ param: 'path', message: 'path is empty; give an absolute path such as /etc/motd' });
  } else if (!path.startsWith('/')) {
    out.push({ param: 'path', message: `path "${path}" is not absolute; it must start with "/"` });
  } else {
    const normal = posix.normalize(path); // keeps one trailing slash
    if (normal !== path) {
      out.push({ param: 'path', message: `path "${path}" is not normalized (no "//", "/./" or "/../"); write "${normal}"` });
    }
  }
  if (state !== undefined && state !== 'exists' && state !== 'absent') {
    out.push({ param: 'state', message: `state "${state}" is not one of exists, absent (or unset to leave existence alone)` });
  }
  const hasContent = p.content !== undefined;
  const hasSource = p.source !== undefined;
  if (hasContent && hasSource) {
    out.push({ param: 'content', message: '`content` and `source` are both set; keep only one of them' });
  }
  if (state === 'absent') {
    // Unambiguous (the file goes), and Puppet ignores it too: the founding demo of mgmt writes it this way.
    if (hasContent)
      out.push({ param: 'content', severity: 'warning', message: '`content` is ignored: state is absent, so the file is removed; remove `content`' });
    if (hasSource) out.push({ param: 'source', message: '`source` is set but state is absent; remove `source` or set state: exists' });
    for (const k of ['mode', 'owner', 'group'] as const) {
      if (p[k] !== undefined) out.push({ param: k, message: `\`${k}\` cannot apply to an absent file; remove \`${k}\` or set state: exists` });
    }
  }
  if (isDirPath && hasContent) {
    out.push({
      param: 'content',
      message: `path "${path}" ends with "/" (a directory), which cannot take \`content\`; remove the trailing "/" or \`content\``,
    });
  }
  if (p.symlink) {
    if (!hasSource) out.push({ param: 'symlink', message: '`symlink: true` needs `source` (the link target)' });
    const badTarget = p.source === undefined ? undefined : pathProblem(p.source);
    if (badTarget !== undefined) out.push({ param: 'source', message: `source (the link target) ${badTarget}` });
    if (hasContent) out.push({ param: 'content', message: 'a symlink cannot take `content`; remove `content` or `symlink`' });
    if (isDirPath && path !== '/') {
      out.push({ param: 'path', message: `path "${path}" ends with "/" (a directory) but \`symlink\` is set; remove the trailing "/"` });
    }
  } else if (hasSource && p.source !== undefined) {
    const badSource = pathProblem(p.source);
    if (badSource !== undefined) {
      out.push({ param: 'source', message: `source ${badSource}` });
    } else if (!isAbsolute(p.source)) {
      out.push({ param: 'source', message: `source "${p.source}" is not absolute; it must start with "/" (only symlink targets may be relative)` });
    } else if (p.source.endsWith('/') && p.source !== '/' && !isDirPath) {
      out.push({ param: 'source', message: `source "${p.source}" is a directory (trailing "/") but path "${path}" is not; end path with "/" too` });
    }
    if (isDirPath && !p.recurse) {
      out.push({ param: 'recurse', message: 'copying a directory source needs `recurse: true`' });
    }
  }
  if (p.purge) {
    if (!p.recurse) out.push({ param: 'purge', message: '`purge` needs `recurse: true`' });
    if (p.symlink) out.push({ param: 'purge', message: 'a symlink cannot be purged; remove `purge` or `symlink`' });
    else if (!isDirPath) out.push({ param: 'purge', message: `\`purge\` needs a directory path; end path "${path}" with "/"` });
    if (state === 'absent') out.push({ param: 'purge', message: '`purge` cannot apply to an absent directory; remove `purge` or set state: exists' });
  }
  const purgeOnly = p.purge && !hasSource;
  for (const k of ['ignore', 'recurselimit'] as const) {
    if (p[k] !== undefined && !purgeOnly) {
      out.push({ param: k, message: `\`${k}\` applies only to a purge without \`source\` (purge: true, recurse: true); remove \`${k}\`` });
    }
  }
  if (p.maxfiles !== 0 && !purgeOnly) {
    out.push({ param: 'maxfiles', message: '`maxfiles` applies only to a purge without `source` (purge: true, recurse: true); remove `maxfiles`' });
  }
  for (const g of p.ignore ?? []) {
    if (g === '' || g.includes('/'))
      out.push({ param: 'ignore', message: `ignore pattern "${g}" must be a non-empty pattern for one entry name, without "/"` });
  }
  if (p.mode !== undefined) {
    const m = parseMode(p.mode);
    if (typeof m === 'string') out.push({ param: 'mode', message: m });
  }
  for (const k of ['owner', 'group'] as const) {
    const v = p[k];
    const why = v === undefined ? undefined : accountRefProblem(k === 'owner' ? 'user' : 'group', v);
    if (why) out.push({ param: k, message: `\`${k}\` ${why}` });
  }
  return out;
}
