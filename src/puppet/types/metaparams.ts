/** Metaparameters every Puppet type accepts; a type's own table takes precedence. */
import { type Converter, type Rule, refused, truthy } from '../rules.js';

/** `noop` as Puppet takes it: a boolean, possibly spelled as a string. */
const noopFlag: Converter = {
  doc: 'a boolean (true/false or "true"/"false")',
  refuses: 'noop is not a boolean',
  convert: (v) => (typeof v === 'boolean' || v === 'true' || v === 'false' ? truthy(v) : refused('noop is not a boolean')),
};

export const metaparamRules: Readonly<Record<string, Rule>> = {
  before: { do: 'drop', doc: 'becomes edges' },
  require: { do: 'drop', doc: 'becomes edges' },
  notify: { do: 'drop', doc: 'becomes edges with `notify: true`' },
  subscribe: { do: 'drop', doc: 'becomes edges with `notify: true`' },
  stage: { do: 'drop', doc: 'stage order becomes edges' },
  tag: { do: 'drop' },
  alias: { do: 'drop' },
  noop: { do: 'toMeta', meta: 'noop', as: noopFlag },
  schedule: { do: 'refuse', reason: 'schedules are not supported' },
  audit: { do: 'info', message: 'only reports: audited values are not recorded (our log names every change)' },
  loglevel: { do: 'info', message: 'only sets the level of Puppet’s own messages (our log levels are fixed)' },
};
