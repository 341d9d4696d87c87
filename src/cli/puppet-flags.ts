/** The flags `mgmt puppet` and `mgmt puppet translate` share: where the catalog comes from, and how to compile. */
import type { ParseArgsConfig } from 'node:util';
import { settingFlagOptions } from '../puppet/runtime/puppet-settings.js';
import { UsageError } from './usage.js';

export const puppetFlagOptions = {
  catalog: { type: 'string' },
  manifest: { type: 'string' },
  code: { type: 'string' },
  facts: { type: 'string' },
  'puppet-bin': { type: 'string' },
  node: { type: 'string' },
  runinterval: { type: 'string' },
  strict: { type: 'boolean' },
  report: { type: 'string' },
  // Puppet's own settings (--confdir, --environment, --hiera_config, --modulepath, --certname...): puppet-settings.ts
  ...settingFlagOptions(),
} as const satisfies ParseArgsConfig['options'];

/** Checks that exactly one input is given and reads --runinterval (seconds; undefined: the default). */
export function checkPuppetFlags(v: { catalog?: string; manifest?: string; code?: string; runinterval?: string }): { runinterval?: number } {
  const inputs = [v.catalog, v.manifest, v.code].filter((x) => x !== undefined);
  if (inputs.length !== 1) throw new UsageError('give exactly one of --manifest FILE, --code TEXT or --catalog FILE');
  if (v.runinterval === undefined) return {};
  const runinterval = Number(v.runinterval);
  if (!Number.isInteger(runinterval) || runinterval <= 0) throw new UsageError('--runinterval takes a positive number of seconds');
  return { runinterval };
}
