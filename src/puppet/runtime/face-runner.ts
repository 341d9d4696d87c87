/**
 * Runs our Puppet face (`puppet mgmtgraph catalog`, puppet-module/) to compile a manifest or inline code into
 * a catalog document. Puppet reads the node's configuration as `puppet apply` does, with the user's Puppet
 * settings on top (puppet-settings.ts); what it writes goes to a temporary directory (puppet-home.ts).
 * Puppet runs in a process group of its own (the launcher's): cancelling the compile kills it and everything it
 * started, and no process outlives `compileCatalog`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeOutcome, inheritedEnv, run, SpawnError } from '../../system/proc/launcher.js';
import { findModuleDir, preparePrivateDirs, privateArgs, PUPPET_HOME_PREFIX, puppetEnv, stripColour } from './puppet-home.js';
import { type PuppetSettings, settingsArgs, withNodeCertname } from './puppet-settings.js';

export interface FaceInput {
  readonly manifest?: string;
  readonly code?: string;
  readonly facts?: string;
  readonly node?: string;
  /** Puppet settings the user gave (confdir, environment, modulepath, certname...). */
  readonly settings?: PuppetSettings;
  readonly puppetBin?: string;
  /** Aborting kills Puppet's whole process group (SIGTERM, SIGKILL after 2 s); the result is then a failure. */
  readonly signal?: AbortSignal;
}

export interface FaceCommand {
  readonly bin: string;
  readonly args: string[];
}

/** Puppet settings that send exported-resource collectors to our module's storeconfigs backend (puppet-module/README.md). */
export const STORECONFIGS: readonly string[] = ['--storeconfigs', '--storeconfigs_backend', 'mgmtgraph'];

/** The command line, given the temp dir that receives what Puppet writes. */
export function faceCommand(input: FaceInput, tmp: string): FaceCommand {
  const args = ['mgmtgraph', 'catalog'];
  if (input.manifest !== undefined) args.push(input.manifest);
  if (input.code !== undefined) args.push('--code', input.code);
  if (input.facts !== undefined) args.push('--facts', input.facts);
  if (input.node !== undefined) args.push('--node', input.node);
  args.push(...settingsArgs(withNodeCertname(input.settings ?? {}, input.node)), ...privateArgs(tmp), '--log_level', 'warning', ...STORECONFIGS);
  return { bin: input.puppetBin ?? 'puppet', args };
}

export type FaceResult =
  { readonly ok: true; readonly catalog: string; readonly stderr: string } | { readonly ok: false; readonly code: number | null; readonly stderr: string };

/** Sandbox noise facter prints many times per run when /proc/1/environ is unreadable; the compile is unaffected. */
const NOISE = 'Facter: Permission denied @ rb_sysopen - /proc/1/environ';

export function cleanStderr(text: string): string {
  return text
    .split('\n')
    .filter((l) => !l.includes(NOISE))
    .map(stripColour)
    .join('\n');
}

export async function compileCatalog(input: FaceInput, moduleDir = findModuleDir()): Promise<FaceResult> {
  const tmp = await mkdtemp(join(tmpdir(), PUPPET_HOME_PREFIX));
  try {
    await preparePrivateDirs(tmp);
    const { bin, args } = faceCommand(input, tmp);
    let r;
    try {
      r = await run({
        command: { argv: [bin, ...args] },
        env: puppetEnv(moduleDir, inheritedEnv()), // Puppet needs ours (HOME, PATH, locale)
        captureStdout: true,
        captureStderr: true,
        ...(input.signal ? { signal: input.signal } : {}),
      });
    } catch (e) {
      if (e instanceof SpawnError) return { ok: false, code: null, stderr: `cannot run ${bin}: ${e.message}\n` };
      throw e;
    }
    const stderr = cleanStderr(r.stderr?.toString('utf8') ?? '');
    if (r.aborted) return { ok: false, code: null, stderr: `${stderr}${stderr === '' || stderr.endsWith('\n') ? '' : '\n'}puppet ${describeOutcome(r)}\n` };
    return r.code === 0 ? { ok: true, catalog: r.stdout?.toString('utf8') ?? '', stderr } : { ok: false, code: r.code, stderr };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
