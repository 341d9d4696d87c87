/**
 * The augeas resource: changes to configuration files through Augeas's lenses, as Puppet's `augeas` type makes
 * them, run by augtool (src/system/tools/augtool.ts):
 *
 * - `onlyif` (one `get` or `match` condition) false: nothing to do;
 * - otherwise the changes are run with Augeas's save mode `noop`, which reports the files a save would write
 *   without writing them: none means in sync (unless `force`), as Puppet's provider decides;
 * - applying runs them again and saves; Augeas writes each file by rename. A command that fails, or a tree the
 *   lens cannot write back (`put_failed`), is an error that names the file and Augeas's message.
 *
 * Relative paths in the changes and in `onlyif` are joined to `context` (default `/files<incl>` with `incl`), as
 * in Puppet. The changes themselves are never logged (they may hold secrets); the files they touch are.
 */
import { isAbsolute } from 'node:path';
import type { ParamsOf } from './params.js';
import { defineKind, type Problem } from './resource.js';
import { deferredResource } from './deferred-resource.js';
import { CHANGE_COMMANDS, changeCommand, parseCondition } from '../system/formats/augeas-commands.js';

const params = {
  changes: {
    type: 'string[]',
    required: 'the Augeas commands to run, such as `set /files/etc/hosts/1/ipaddr 127.0.0.1`',
    doc: `The commands, one per item, in order: ${CHANGE_COMMANDS}. Relative paths are joined to \`context\`. Never logged.`,
  },
  onlyif: {
    type: 'string',
    doc: 'Run the changes only when this condition holds: `get PATH OP VALUE` (OP: == != < <= > >= =~) or `match PATH size OP N`, `match PATH include VALUE`, `match PATH not_include VALUE`.',
  },
  context: { type: 'string', doc: 'Joined in front of relative paths; default: `/files<incl>` when `incl` is set, else nothing.' },
  incl: { type: 'string', doc: 'Load only this file (or glob) with `lens`, instead of every lens with its default files (much faster).' },
  lens: { type: 'string', doc: 'The lens for `incl`, such as `Hosts.lns`; give both or neither.' },
  load_path: { type: 'string[]', doc: 'More directories of lenses.' },
  force: { type: 'boolean', default: false, doc: 'Run the changes (when `onlyif` holds) even when they would change nothing.' },
  root: { type: 'string', default: '/', doc: 'The file system root Augeas works under (augtool `--root`).' },
} as const;

export type AugeasParams = ParamsOf<typeof params>;

export function contextOf(p: AugeasParams): string {
  return p.context ?? (p.incl !== undefined ? `/files${p.incl}` : '');
}

function validate(_name: string, p: AugeasParams): Problem[] {
  const out: Problem[] = [];
  if ((p.incl === undefined) !== (p.lens === undefined))
    out.push({ param: p.incl === undefined ? 'lens' : 'incl', message: 'give both `incl` and `lens`, or neither' });
  if (p.incl !== undefined && !isAbsolute(p.incl)) out.push({ param: 'incl', message: `\`incl\` must be an absolute path (or glob), got "${p.incl}"` });
  if (!isAbsolute(p.root)) out.push({ param: 'root', message: `\`root\` must be an absolute path, got "${p.root}"` });
  for (const d of p.load_path ?? []) if (!isAbsolute(d)) out.push({ param: 'load_path', message: `\`load_path\` entries must be absolute paths, got "${d}"` });
  const context = contextOf(p);
  if (p.changes.length === 0) out.push({ param: 'changes', message: '`changes` is empty: give at least one command' });
  p.changes.forEach((line, i) => {
    if (/[\r\n]/.test(line)) out.push({ param: 'changes', message: `change ${i + 1} contains a line break: give one command per item` });
    else {
      const c = changeCommand(line, context);
      if (typeof c !== 'string') out.push({ param: 'changes', message: `change ${i + 1}: ${c.error}` });
    }
  });
  if (p.onlyif !== undefined) {
    const c = parseCondition(p.onlyif, context);
    if ('error' in c) out.push({ param: 'onlyif', message: `\`onlyif\`: ${c.error}` });
  }
  return out;
}

export const augeasKind = defineKind({
  kind: 'augeas',
  doc: "Changes to configuration files through Augeas's lenses, as Puppet's `augeas` type makes them, run by augtool (Debian package `augeas-tools`). The changes run first with Augeas's save mode `noop`: when no file would be written, the resource is in sync (unless `force`); `onlyif` can make it skip. Files are written by Augeas (by rename). Not watched: as in Puppet, the changes are checked once per run (or every `poll` seconds), since many are not idempotent (`alias[last()+1]` appends each time they run). The changes are never logged; the files they touch are.",
  params,
  refreshable: false,
  reach: { touches: ['files'], collect: 'plain' },
  validate,
  autoEdges: (_name, p) => (p.incl !== undefined && !/[*?[]/.test(p.incl) && p.root === '/' ? { afterPath: [p.incl], afterNearestAncestor: [p.incl] } : {}),
  create: (name, p, ctx) =>
    deferredResource(
      () => import('./augeas-resource.js'),
      (m) => m.augeasResource(name, p, ctx),
    ),
});
