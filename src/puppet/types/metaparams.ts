/** Metaparameters every Puppet type accepts; a type's own table takes precedence. */
import { REFUSED, type Rule, truthy } from '../rules.js';

export const metaparamRules: Readonly<Record<string, Rule>> = {
  before: { do: 'drop', doc: 'becomes edges' },
  require: { do: 'drop', doc: 'becomes edges' },
  notify: { do: 'drop', doc: 'becomes edges with `notify: true`' },
  subscribe: { do: 'drop', doc: 'becomes edges with `notify: true`' },
  stage: { do: 'drop', doc: 'stage order becomes edges' },
  tag: { do: 'drop' },
  alias: { do: 'drop' },
  noop: {
    do: 'toMeta',
    meta: 'noop',
    fn: (v, ctx) => {
      if (typeof v === 'boolean' || v === 'true' || v === 'false') return truthy(v);
      ctx.refuse('noop', 'noop is not a boolean');
      return REFUSED;
    },
  },
  schedule: { do: 'refuse', reason: 'schedules are not supported' },
  audit: { do: 'note', message: 'audit is not supported' },
  loglevel: { do: 'note', message: 'loglevel is not supported (our log levels are fixed)' },
};
