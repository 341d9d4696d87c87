/**
 * Runs our Puppet face (`puppet mgmtgraph catalog`, puppet-module/) to compile a manifest or inline code into
 * a catalog document. Hermetic: a temp dir holds confdir/vardir/codedir and a modulepath entry `mgmtgraph`
 * pointing at the repository's module; `/usr/share/puppet/modules` (Debian's stdlib and core types) comes last.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, symlink, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const DEBIAN_MODULES = '/usr/share/puppet/modules';

/** dist/src/puppet/runtime/face-runner.js → <repo>/puppet-module */
export const MODULE_DIR = fileURLToPath(new URL('../../../../puppet-module', import.meta.url));

export interface FaceInput {
  readonly manifest?: string;
  readonly code?: string;
  readonly facts?: string;
  readonly node?: string;
  /** User module paths, searched before Debian's. */
  readonly modulepath?: readonly string[];
  readonly puppetBin?: string;
}

export interface FaceCommand {
  readonly bin: string;
  readonly args: string[];
}

/** Puppet settings that send exported-resource collectors to our module's storeconfigs backend (puppet-module/README.md). */
export const STORECONFIGS: readonly string[] = ['--storeconfigs', '--storeconfigs_backend', 'mgmtgraph'];

/** The command line, given the temp dir that holds the hermetic Puppet dirs and our module's symlink. */
export function faceCommand(input: FaceInput, tmp: string): FaceCommand {
  const modulepath = [join(tmp, 'modules'), ...(input.modulepath ?? []), DEBIAN_MODULES].join(':');
  const args = ['mgmtgraph', 'catalog'];
  if (input.manifest !== undefined) args.push(input.manifest);
  if (input.code !== undefined) args.push('--code', input.code);
  if (input.facts !== undefined) args.push('--facts', input.facts);
  // The node is Puppet's certname too, as with `puppet apply --certname` (mgmt puppet's worker does the same).
  if (input.node !== undefined) args.push('--node', input.node, '--certname', input.node);
  args.push(
    '--modulepath',
    modulepath,
    '--confdir',
    join(tmp, 'conf'),
    '--vardir',
    join(tmp, 'var'),
    '--codedir',
    join(tmp, 'code'),
    '--log_level',
    'warning',
    ...STORECONFIGS,
  );
  return { bin: input.puppetBin ?? 'puppet', args };
}

export type FaceResult =
  { readonly ok: true; readonly catalog: string; readonly stderr: string } | { readonly ok: false; readonly code: number | null; readonly stderr: string };

/** Sandbox noise facter prints many times per run when /proc/1/environ is unreadable; the compile is unaffected. */
const NOISE = 'Facter: Permission denied @ rb_sysopen - /proc/1/environ';

export function cleanStderr(text: string): string {
  return (
    text
      .split('\n')
      .filter((l) => !l.includes(NOISE))
      // eslint-disable-next-line no-control-regex -- strips ANSI colour codes (ESC [ ... m)
      .map((l) => l.replace(/\x1b\[[0-9;]*m/g, ''))
      .join('\n')
  );
}

export async function compileCatalog(input: FaceInput, moduleDir = MODULE_DIR): Promise<FaceResult> {
  const tmp = await mkdtemp(join(tmpdir(), 'mgmt-puppet-'));
  try {
    await mkdir(join(tmp, 'modules'));
    await symlink(moduleDir, join(tmp, 'modules', 'mgmtgraph'));
    const { bin, args } = faceCommand(input, tmp);
    return await new Promise<FaceResult>((resolve) => {
      const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (d: Buffer) => out.push(d));
      child.stderr.on('data', (d: Buffer) => err.push(d));
      child.on('error', (e) => resolve({ ok: false, code: null, stderr: `cannot run ${bin}: ${e.message}\n` }));
      child.on('close', (code) => {
        const stderr = cleanStderr(Buffer.concat(err).toString('utf8'));
        resolve(code === 0 ? { ok: true, catalog: Buffer.concat(out).toString('utf8'), stderr } : { ok: false, code, stderr });
      });
    });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
