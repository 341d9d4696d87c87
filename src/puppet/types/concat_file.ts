/**
 * puppetlabs-concat's `concat_file` → `file`, with its content assembled from the `concat_fragment` resources
 * that target it (src/puppet/concat.ts). The vertex is `file[<path>]`. These rules translate the file's own
 * attributes; the fragments' are in concat_fragment.ts. Facts from concat 9 (`lib/puppet/type/concat_file.rb`).
 */
import type { FileParams } from '../../resources/file/params.js';
import { type Derivation, IS_TRUE, refused, sourced, type TypeRules } from '../rules.js';
import { seLinuxNotes } from './selinux.js';
import { fileBackup, replacesOtherTypes } from './file.js';

/** The namevar: `path`, else the title. */
export function concatPathOf(parameters: Readonly<Record<string, unknown>>, title: string): string {
  return typeof parameters.path === 'string' ? parameters.path : title;
}

const concatPath: Derivation = {
  doc: '`path` (default: the title); not absolute → fallback',
  derive: (ctx) => {
    const path = concatPathOf(ctx.resource.parameters, ctx.resource.title);
    if (!path.startsWith('/')) ctx.refuse('path', 'the path is not absolute');
    return path;
  },
};

/** The file concat generates is `ensure => file` (present, the default) or absent. */
const concatState: Derivation = {
  doc: 'present (the default) → exists, absent → absent; other values → fallback',
  derive: (ctx) => {
    const ensure = ctx.value('ensure') ?? 'present';
    if (ensure === 'present') return sourced('exists', 'ensure');
    if (ensure === 'absent') return sourced('absent', 'ensure');
    return refused('this ensure value is not supported');
  },
};

export const concatFileRules: TypeRules<FileParams> = {
  type: 'Concat_file',
  kind: 'file',
  doc:
    'A file whose content is the concat_fragment resources that target it (by the file’s path or title, or by an equal `tag`), sorted by ' +
    'their `order` then title (numerically or alphabetically, per the file’s `order`), joined. The vertex is `file[<path>]` with `content`; ' +
    'the fragments get no vertex, and a relationship to a fragment means this file (unless that makes a cycle: then relationships through fragments are bridged, as Puppet sees them). `format` json, json-array and their -pretty forms merge or list the fragments as concat does. When the file or one of its fragments cannot be ' +
    'translated, the file goes to the fallback together with its fragments, so that Puppet assembles it.',
  name: (r) => concatPathOf(r.parameters, r.title),
  attributes: {
    tag: { do: 'use', doc: 'which fragments belong to the file (an equal `tag`)' },
    owner: { do: 'carry', to: 'owner', as: 'string' },
    group: { do: 'carry', to: 'group', as: 'string' },
    mode: { do: 'carry', to: 'mode', as: 'string' },
    order: { do: 'use', doc: 'how fragments are sorted: numeric (the type’s default) or alpha' },
    ensure_newline: { do: 'use', doc: 'adds a newline to each fragment that does not end with one' },
    format: {
      do: 'refuse',
      reason: 'format => yaml is not supported (Ruby’s YAML output is not reproduced)',
      accept: ['plain', 'json', 'json-array', 'json-pretty', 'json-array-pretty'],
      doc: 'plain joins the fragments; the json formats merge or list them as concat does (src/puppet/concat-format.ts)',
    },
    force: { do: 'use', doc: 'json and json-pretty: a key two fragments give different values keeps the earlier one (without force, Puppet fails)' },
    create_empty_file: { do: 'use', doc: 'false: no fragment content (an empty assembly) makes the file absent, as concat does' },
    replace: { do: 'refuse', reason: 'replace => false is not supported', accept: IS_TRUE },
    backup: { do: 'use', doc: 'as File’s backup: the local bucket, a .suffix, or false' },
    show_diff: { do: 'info', message: 'only shapes output: diffs are not shown' },
    validate_cmd: { do: 'note', message: 'content is not validated before it is written' },
    ...seLinuxNotes,
  },
  derive: {
    path: { from: ['path'], by: concatPath },
    state: { from: ['ensure'], by: concatState },
    // The file concat generates is `ensure => file`, which replaces a file or link of another type.
    replacenondir: { from: ['ensure'], by: replacesOtherTypes },
    backup: { from: ['backup'], by: fileBackup },
  },
  ignoredWhenAbsent: ['mode', 'owner', 'group'],
  checks: [
    {
      attribute: 'order',
      outcome: 'fallback',
      message: 'order must be alpha or numeric',
      when: (ctx) => ctx.has('order') && ctx.value('order') !== 'alpha' && ctx.value('order') !== 'numeric',
    },
  ],
  autorelations: [
    { relation: 'require', type: 'File', doc: 'a File of its own `path` (default: the title)', names: (r) => [concatPathOf(r.parameters, r.title)] },
  ],
};
