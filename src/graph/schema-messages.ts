/** How a schema error about a value reads, for YAML graphs and translated specs alike. */
import type { ErrorObject } from 'ajv';
import { TIMER_MAX_MS, TIMER_MAX_S } from '../resources/params.js';

/**
 * `prefix` names the subject (`parameter \`mode\`: `), `got` shows the offending value (` (got "x")`) or is
 * empty. Unknown keys (additionalProperties) are worded by the callers, who know the candidates.
 */
export function valueMessage(err: ErrorObject, prefix: string, got: string): string {
  switch (err.keyword) {
    case 'required':
      return `${prefix}missing \`${(err.params as { missingProperty: string }).missingProperty}\``;
    case 'type':
      return `${prefix}must be ${article((err.params as { type: string | string[] }).type)}${got}`;
    case 'enum':
      return `${prefix}must be one of ${((err.params as { allowedValues?: unknown[] }).allowedValues ?? []).map((v) => JSON.stringify(v)).join(', ')}${got}`;
    case 'pattern':
      return `${prefix}does not match ${(err.params as { pattern: string }).pattern}${got}`;
    case 'minimum':
      return `${prefix}must be >= ${(err.params as { limit: number }).limit}${got}`;
    case 'maximum': {
      const limit = (err.params as { limit: number }).limit;
      const why = limit === TIMER_MAX_MS || limit === TIMER_MAX_S ? ' (the longest a timer can wait: about 24.8 days)' : '';
      return `${prefix}must be <= ${limit}${why}${got}`;
    }
    case 'minLength':
      return `${prefix}must not be empty`;
    default:
      return `${prefix}${err.message ?? 'is invalid'}${got}`;
  }
}

function article(type: string | string[]): string {
  const names = (Array.isArray(type) ? type : type.split(',')).filter((t) => t !== 'null');
  const word = (t: string) =>
    ({ string: 'a string', boolean: 'a boolean (true/false)', integer: 'an integer', number: 'a number', array: 'a list', object: 'a map' })[t] ?? t;
  return names.map(word).join(' or ');
}
