/**
 * Puppet's `augeas` (puppetlabs-augeas_core) → `augeas`. The vertex is `augeas[<title>]`. `changes` (a string of
 * lines or an array) become one command per item; relative paths are joined to the context by our kind exactly as
 * the provider does (default `/files<incl>`). A change or an `onlyif` our kind does not run (`values`, `match ==
 * [...]`, a command outside Puppet's set) goes to the fallback, as does `type_check`.
 */
import type { AugeasParams } from '../../resources/augeas.js';
import { changeCommand, parseCondition } from '../../system/formats/augeas-commands.js';
import { type Converter, type Derivation, IS_FALSE, refused, sourced, type TypeRules } from '../rules.js';

const MSG_CHANGE = 'a change uses a command or syntax that is not run natively';
const MSG_ONLYIF = 'an onlyif condition that is not evaluated natively (only get, match size, match include/not_include)';

/** The context as the type munges it: empty with `incl` → `/files<incl>`. */
const contextOf = (ctx: Parameters<Derivation['derive']>[0]): string => {
  const c = ctx.value('context');
  const incl = ctx.value('incl');
  if ((c === undefined || c === '') && typeof incl === 'string') return `/files${incl}`;
  return typeof c === 'string' ? c : '';
};

const augeasChanges: Derivation = {
  doc: 'one command per line (a string is split at line breaks, as the provider does); a command we do not run → fallback',
  derive: (ctx) => {
    const v = ctx.value('changes');
    const items: unknown[] = Array.isArray(v) ? v : [v];
    if (items.some((x) => typeof x !== 'string')) return refused('changes must be strings');
    const lines = (items as string[])
      .flatMap((x) => x.split('\n'))
      .map((l) => l.trim())
      .filter((l) => l !== '');
    if (lines.length === 0) return refused('changes is empty');
    const context = contextOf(ctx);
    return lines.every((l) => typeof changeCommand(l, context) === 'string') ? sourced(lines, 'changes') : refused(MSG_CHANGE);
  },
};

const augeasOnlyif: Derivation = {
  doc: '`get PATH OP VALUE`, `match PATH size OP N`, `match PATH include|not_include VALUE`; empty: none; other forms → fallback',
  derive: (ctx) => {
    const v = ctx.value('onlyif');
    if (v === undefined || v === '') return undefined;
    if (typeof v !== 'string') return refused(MSG_ONLYIF);
    return 'error' in parseCondition(v, contextOf(ctx)) ? refused(MSG_ONLYIF) : sourced(v, 'onlyif');
  },
};

/** Puppet's load_path: a colon-separated string or an array of them. */
const loadPath: Converter = {
  doc: 'a colon-separated string or an array, to a list of directories',
  refuses: 'load_path must be a string or an array of strings',
  convert: (v) => {
    const items: unknown[] = Array.isArray(v) ? v : [v];
    if (items.some((x) => typeof x !== 'string')) return refused('load_path must be a string or an array of strings');
    const dirs = (items as string[]).flatMap((x) => x.split(':')).filter((d) => d !== '');
    return dirs.length > 0 ? dirs : undefined;
  },
};

const nonEmpty: Converter = {
  doc: 'a string; empty: unset',
  refuses: 'the value is not a string',
  convert: (v) => (typeof v === 'string' ? (v === '' ? undefined : v) : refused('the value is not a string')),
};

export const augeasRules: TypeRules<AugeasParams> = {
  type: 'Augeas',
  kind: 'augeas',
  doc: 'Changes through Augeas, run by augtool: in sync when the changes would write no file (Augeas’s save mode `noop`), as Puppet’s provider decides. The vertex is `augeas[<title>]`.',
  name: (r) => r.title,
  attributes: {
    name: { do: 'drop', doc: 'a name for uniqueness only (the vertex is named after the title)' },
    context: { do: 'carry', to: 'context', as: nonEmpty },
    incl: { do: 'carry', to: 'incl', as: nonEmpty },
    lens: { do: 'carry', to: 'lens', as: nonEmpty },
    root: { do: 'carry', to: 'root', as: 'text' },
    load_path: { do: 'carry', to: 'load_path', as: loadPath },
    force: { do: 'carry', to: 'force', as: 'boolean' },
    show_diff: { do: 'drop', doc: 'it only shapes Puppet’s own output (our messages never show the changes)' },
    returns: { do: 'drop', doc: 'the provider’s internal result property' },
    type_check: { do: 'refuse', reason: 'type checking of lenses is not supported', accept: IS_FALSE },
    provider: { do: 'refuse', reason: 'only the augeas provider is supported', accept: ['augeas'] },
  },
  derive: {
    changes: { from: ['changes'], by: augeasChanges },
    onlyif: { from: ['onlyif'], by: augeasOnlyif },
  },
  checks: [
    {
      attribute: ['incl', 'lens'],
      outcome: 'fallback',
      message: 'incl and lens must be given together',
      doc: 'one of incl and lens is given without the other (Puppet fails on it)',
      when: (ctx) => (ctx.get('incl') === undefined) !== (ctx.get('lens') === undefined),
    },
  ],
  // puppetlabs-augeas_core's type declares no automatic relationship
  autorelations: [],
};
