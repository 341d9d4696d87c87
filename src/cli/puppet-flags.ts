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
  strict: { type: 'string' },
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

/** What `--strict` refuses: fallback resources only, or degraded ones too. */
export type StrictLevel = 'fallback' | 'degraded';

/**
 * `--strict` alone means `--strict=degraded` (refuse anything not native); parseArgs needs a value for a string
 * flag, so a bare `--strict` is spelled out before parsing.
 */
export function withStrictDefault(argv: readonly string[]): string[] {
  return argv.map((a) => (a === '--strict' ? '--strict=degraded' : a));
}

export function strictLevel(v: string | undefined): StrictLevel | undefined {
  if (v === undefined) return undefined;
  if (v === 'fallback' || v === 'degraded') return v;
  throw new UsageError(
    `--strict takes fallback (refuse resources Puppet would apply) or degraded (refuse those too that lose attributes), not ${JSON.stringify(v)}`,
  );
}

/** The resources `--strict=LEVEL` refuses, as one message naming the first few (undefined: none). */
export function strictRefusal(
  report: {
    readonly resources: readonly {
      readonly ref: string;
      readonly status: string;
      readonly reason?: string;
      readonly notes: readonly { attribute: string; message: string }[];
    }[];
  },
  level: StrictLevel | undefined,
): string | undefined {
  if (level === undefined) return undefined;
  const refused = report.resources.filter((r) => r.status === 'fallback' || (level === 'degraded' && r.status === 'degraded'));
  if (refused.length === 0) return undefined;
  const fallback = refused.filter((r) => r.status === 'fallback').length;
  const shown = refused.slice(0, 5).map((r) => {
    const n = r.notes[0];
    return `${r.ref} (${r.status}: ${n ? `${n.attribute}: ${n.message}` : (r.reason ?? '')})`;
  });
  const more = refused.length > shown.length ? `, and ${refused.length - shown.length} more (see the report)` : '';
  return (
    `--strict=${level}: ${fallback} fallback${level === 'degraded' ? ` and ${refused.length - fallback} degraded` : ''} resource(s): ${shown.join('; ')}${more}. ` +
    `Translate them natively, or relax it (${level === 'degraded' ? '--strict=fallback refuses fallback only' : 'drop --strict'})`
  );
}
