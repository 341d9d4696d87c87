/** The flags `mgmt puppet` and `mgmt puppet translate` share: where the catalog comes from, and how to compile. */
import type { ParseArgsConfig } from 'node:util';
import { checkSettings, type PuppetSettings, settingFlagOptions, settingsFromFlags } from '../puppet/runtime/puppet-settings.js';
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

/**
 * Checks that at most one input is given (none: the environment's main manifest, as `puppet agent` compiles it)
 * and reads --runinterval (seconds; undefined: the default).
 */
export function checkPuppetFlags(v: { catalog?: string; manifest?: string; code?: string; puppetdb?: string; runinterval?: string }): { runinterval?: number } {
  const inputs = [v.catalog, v.manifest, v.code, v.puppetdb].filter((x) => x !== undefined);
  if (inputs.length > 1) {
    throw new UsageError(
      `give one of --manifest FILE, --code TEXT${'puppetdb' in v ? ', --catalog FILE or --puppetdb URL' : ' or --catalog FILE'} (or none, for the environment's main manifest)`,
    );
  }
  if (v.runinterval === undefined) return {};
  const runinterval = Number(v.runinterval);
  if (!Number.isInteger(runinterval) || runinterval <= 0) throw new UsageError('--runinterval takes a positive number of seconds');
  return { runinterval };
}

/** What the input is called in messages. */
export function inputName(v: { catalog?: string; manifest?: string; code?: string }): string {
  return v.manifest ?? v.catalog ?? (v.code !== undefined ? '--code' : "the environment's main manifest");
}

/**
 * The Puppet settings of the flags, checked (puppet-settings.ts: a `--config` or `--hiera_config` that does not
 * exist is an error here, where Puppet would silently ignore it). Problems are printed; undefined then.
 */
export function readPuppetSettings(values: Readonly<Record<string, unknown>>): PuppetSettings | undefined {
  const settings = settingsFromFlags(values);
  const problems = checkSettings(settings);
  for (const p of problems) process.stderr.write(`mgmt puppet: ${p}\n`);
  return problems.length === 0 ? settings : undefined;
}
