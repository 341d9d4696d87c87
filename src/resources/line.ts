/**
 * The line resource: one line of a text file that is present (appended, inserted after a line, or replacing the
 * lines a regular expression finds) or absent. The rules are those of Puppet stdlib's `file_line`
 * (src/system/formats/file-line-text.ts); several line resources may edit the same file. Event-driven: the file is watched,
 * and edits are written atomically with the file's mode and owner kept.
 */
import type { ParamsOf } from './params.js';
import { editedPathProblem } from './edited-path.js';
import { defineKind, type Problem } from './resource.js';
import { deferredResource } from './deferred-resource.js';
import { lineRulesProblems, type LineRules } from '../system/formats/file-line-text.js';

const params = {
  path: {
    type: 'string',
    required: 'the absolute path of the file to edit',
    doc: 'Absolute path of the file to edit. The file must exist (a symlink is followed).',
  },
  line: {
    type: 'string',
    doc: 'The whole line, without its line ending; required unless `state: absent` with `match`. A file line equals it when it does once its `\\n`, `\\r\\n` or `\\r` is removed.',
  },
  state: {
    type: 'string',
    enum: ['exists', 'absent'],
    default: 'exists',
    doc: '`exists`: the line is in the file; `absent`: it is not (every line equal to `line` is removed, or with `match`, every line `match` finds).',
  },
  match: {
    type: 'string',
    doc: 'A JavaScript regular expression (flag `s`), tested against each line without its `\\n`: with `exists`, the lines it finds are replaced by `line`; with `absent`, they are removed.',
  },
  after: {
    type: 'string',
    doc: 'A JavaScript regular expression (like `match`): a new line goes right after the line it finds (after each one with `multiple`); nothing found: at the end.',
  },
  multiple: {
    type: 'boolean',
    default: false,
    doc: 'Allow `match` (or `after`) to find more than one line; otherwise that is an error.',
  },
  replace: {
    type: 'boolean',
    default: true,
    doc: 'With `match`: replace what it finds; false: a line found by `match` is enough, and nothing is changed.',
  },
  replaceall: {
    type: 'boolean',
    default: false,
    doc: 'With `match`: replace every line `match` finds that is not `line`, even when `line` is already in the file (Puppet’s `replace_all_matches_not_matching_line`; several such lines need `multiple`).',
  },
  appendonnomatch: {
    type: 'boolean',
    default: true,
    doc: 'With `match`: when it finds nothing (and `line` is not there), append `line`; false: leave the file alone then.',
  },
  encoding: {
    type: 'string',
    enum: ['utf-8', 'latin1'],
    default: 'utf-8',
    doc: 'How the file is read and written: `utf-8` (a file that is not valid UTF-8 is an error) or `latin1` (ISO-8859-1: every byte is one character, so any file is edited byte for byte).',
  },
} as const;

export type LineParams = ParamsOf<typeof params>;

function regexOf(src: string | undefined): RegExp | undefined {
  return src === undefined ? undefined : new RegExp(src, 's');
}

function validate(_name: string, p: LineParams): Problem[] {
  const out: Problem[] = [];
  const pathBad = editedPathProblem(p.path, 'a line lives in a file');
  if (pathBad) out.push(pathBad);
  for (const k of ['match', 'after'] as const) {
    try {
      regexOf(p[k]);
    } catch (e) {
      out.push({ param: k, message: `\`${k}\` is not a valid JavaScript regular expression: ${(e as Error).message}` });
    }
  }
  for (const message of lineRulesProblems(rulesOf(p, true))) out.push({ message });
  if (p.encoding === 'latin1' && p.line !== undefined && /[^\0-\xff]/.test(p.line)) {
    out.push({ param: 'line', message: '`line` has characters that ISO-8859-1 cannot write; use encoding: utf-8' });
  }
  return out;
}

/** `lenient`: regexes that do not compile are left out (validate reports them). */
export function rulesOf(p: LineParams, lenient = false): LineRules {
  const re = (s: string | undefined) => {
    try {
      return regexOf(s);
    } catch (e) {
      if (lenient) return undefined;
      throw e;
    }
  };
  const match = re(p.match);
  const after = re(p.after);
  return {
    ...(p.line !== undefined ? { line: p.line } : {}),
    state: p.state === 'absent' ? 'absent' : 'exists',
    ...(match ? { match } : {}),
    ...(after ? { after } : {}),
    multiple: p.multiple,
    replace: p.replace,
    replaceall: p.replaceall,
    appendonnomatch: p.appendonnomatch,
  };
}

export const lineKind = defineKind({
  kind: 'line',
  doc: "Ensures one line of an existing text file is present or absent, with the rules of Puppet stdlib's `file_line`: a present line is appended, inserted after the line `after` finds, or replaces the lines `match` finds; an absent line is removed (or every line `match` finds). A line already in the file is left where it is, and every other line is kept as it is. Several line resources may edit one file. The file is watched; edits are written atomically and keep its mode and owner; a symlink is followed. The name is free: `path` says which file.",
  params,
  refreshable: false,
  reach: { touches: ['files'], collect: 'plain' },
  validate,
  autoEdges: (_name, { path }) => (path ? { afterPath: [path], afterNearestAncestor: [path] } : {}),
  create: (name, p, ctx) =>
    deferredResource(
      () => import('./line-resource.js'),
      (m) => m.lineResource(name, p, ctx),
    ),
});
