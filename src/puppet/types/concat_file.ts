/**
 * puppetlabs-concat's `concat_file` → `file`, with its content assembled from the `concat_fragment` resources
 * that target it (src/puppet/concat.ts). The vertex is `file[<path>]`. These rules translate the file's own
 * attributes; the fragments' are in concat_fragment.ts.
 */
import { type TypeRules, truthy } from '../rules.js';

const MSG_NO_BACKUP = 'no filebucket: backups are not made';
const MSG_SELINUX = 'SELinux contexts are not managed';

/** The namevar: `path`, else the title. */
export function concatPathOf(parameters: Readonly<Record<string, unknown>>, title: string): string {
  return typeof parameters.path === 'string' ? parameters.path : title;
}

export const concatFileRules: TypeRules = {
  type: 'Concat_file',
  kind: 'file',
  doc:
    'A file whose content is the concat_fragment resources that target it (by the file’s path or title, or by an equal `tag`), sorted by ' +
    'their `order` then title (numerically or alphabetically, per the file’s `order`), joined. The vertex is `file[<path>]` with `content`; ' +
    'the fragments get no vertex, and a relationship to a fragment means this file. When the file or one of its fragments cannot be ' +
    'translated, the file goes to the fallback together with its fragments, so that Puppet assembles it.',
  name: (r) => concatPathOf(r.parameters, r.title),
  attributes: {
    path: { do: 'use', doc: '`path` (default: the title)' },
    tag: { do: 'use', doc: 'which fragments belong to the file (an equal `tag`)' },
    ensure: { do: 'use', doc: '`state`: present → exists, absent → absent' },
    owner: { do: 'map', to: 'owner', fn: (v) => String(v) },
    group: { do: 'map', to: 'group', fn: (v) => String(v) },
    mode: { do: 'map', to: 'mode', fn: (v) => String(v) },
    order: { do: 'use', doc: 'numeric (the type’s default) or alpha: how fragments are sorted' },
    ensure_newline: { do: 'use', doc: 'adds a newline to each fragment that does not end with one' },
    format: { do: 'refuse', reason: 'only the plain format is supported (yaml and json merging is not)', accept: (v) => v === 'plain' },
    force: { do: 'drop', doc: 'only used by the yaml and json formats' },
    replace: { do: 'refuse', reason: 'replace => false is not supported', accept: (v) => truthy(v) },
    backup: { do: 'use', doc: `dropped; degraded unless false: ${MSG_NO_BACKUP}` },
    show_diff: { do: 'drop', doc: 'diffs are never shown' },
    validate_cmd: { do: 'note', message: 'content is not validated before it is written' },
    selinux_ignore_defaults: { do: 'note', message: MSG_SELINUX },
    selrange: { do: 'note', message: MSG_SELINUX },
    selrole: { do: 'note', message: MSG_SELINUX },
    seltype: { do: 'note', message: MSG_SELINUX },
    seluser: { do: 'note', message: MSG_SELINUX },
  },
  finish: (ctx) => {
    const r = ctx.resource;
    const path = concatPathOf(r.parameters, r.title);
    if (!path.startsWith('/')) ctx.refuse('path', 'the path is not absolute');
    ctx.set('path', path, ctx.has('path') ? 'path' : []);
    const ensure = ctx.value('ensure') ?? 'present';
    if (ensure === 'present') {
      ctx.set('state', 'exists', 'ensure');
      // The file concat generates is `ensure => file`, which replaces a file or link of another type.
      ctx.set('replacenondir', true, 'ensure');
    } else if (ensure === 'absent') {
      ctx.set('state', 'absent', 'ensure');
      for (const k of ['mode', 'owner', 'group'] as const) {
        if (ctx.get(k) !== undefined) {
          ctx.unset(k);
          ctx.note(k, 'ignored when ensure is absent');
        }
      }
    } else ctx.refuse('ensure', 'this ensure value is not supported');
    const backup = ctx.value('backup');
    if (backup !== undefined && backup !== false && backup !== 'false') ctx.note('backup', MSG_NO_BACKUP);
    const order = ctx.value('order');
    if (order !== undefined && order !== 'alpha' && order !== 'numeric') ctx.refuse('order', 'order must be alpha or numeric');
  },
};
