/**
 * The node's Puppet identity and agent settings, read by Puppet itself (`puppet config print --section agent`)
 * from the node's own `puppet.conf` (`--confdir`, `--config`): certname, server, ports, environment, the SSL
 * files, where the last-run files, the cached catalog and the locks live, runinterval and splay. Asking Puppet
 * (one short Ruby process) rather than parsing puppet.conf ourselves keeps every default, section rule and
 * `$vardir` interpolation exactly Puppet's, distribution patches included (Debian's `publicdir`).
 */
import { run, inheritedEnv, outputTail } from '../../system/proc/launcher.js';

export interface AgentSettings {
  readonly certname: string;
  readonly server: string;
  readonly serverport: number;
  readonly ca_server: string;
  readonly ca_port: number;
  readonly environment: string;
  readonly ssldir: string;
  readonly hostcert: string;
  readonly hostprivkey: string;
  readonly localcacert: string;
  readonly hostcrl: string;
  readonly vardir: string;
  readonly statedir: string;
  readonly client_datadir: string;
  readonly lastrunfile: string;
  readonly lastrunreport: string;
  readonly agent_catalog_run_lockfile: string;
  readonly agent_disabled_lockfile: string;
  readonly libdir: string;
  readonly pluginfactdest: string;
  readonly pluginsync: boolean;
  readonly runinterval: number;
  readonly splay: boolean;
  readonly splaylimit: number;
  readonly usecacheonfailure: boolean;
  readonly waitforcert: number;
  readonly report: boolean;
  readonly noop: boolean;
  readonly tags: string;
}

const STRINGS = [
  'certname',
  'server',
  'ca_server',
  'environment',
  'ssldir',
  'hostcert',
  'hostprivkey',
  'localcacert',
  'hostcrl',
  'vardir',
  'statedir',
  'client_datadir',
  'lastrunfile',
  'lastrunreport',
  'agent_catalog_run_lockfile',
  'agent_disabled_lockfile',
  'libdir',
  'pluginfactdest',
  'tags',
] as const;
const NUMBERS = ['serverport', 'ca_port', 'runinterval', 'splaylimit', 'waitforcert'] as const;
const BOOLEANS = ['pluginsync', 'splay', 'usecacheonfailure', 'report', 'noop'] as const;

/** Where Puppet's configuration comes from: `--confdir DIR` and/or `--config FILE`, and the Puppet executable. */
export interface PuppetConfigSource {
  readonly puppetBin: string;
  readonly confdir?: string | undefined;
  readonly config?: string | undefined;
}

/** Puppet's global flags for the node's configuration (`--confdir`, `--config`). */
export function configArgs(src: PuppetConfigSource): string[] {
  return [...(src.confdir !== undefined ? ['--confdir', src.confdir] : []), ...(src.config !== undefined ? ['--config', src.config] : [])];
}

export class AgentSettingsError extends Error {}

export async function readAgentSettings(src: PuppetConfigSource, signal?: AbortSignal): Promise<AgentSettings> {
  const names = [...STRINGS, ...NUMBERS, ...BOOLEANS];
  const argv = [src.puppetBin, 'config', 'print', ...names, '--render-as', 'json', '--section', 'agent', ...configArgs(src)];
  const r = await run({ command: { argv }, env: inheritedEnv(), captureStdout: true, signal });
  const where = src.config ?? src.confdir ?? "Puppet's default confdir";
  if (r.code !== 0) throw new AgentSettingsError(`could not read the Puppet settings of ${where} (${argv.join(' ')}): ${outputTail(r)}`);
  let data: Record<string, unknown>;
  try {
    data = JSON.parse(r.stdout?.toString('utf8') ?? '') as Record<string, unknown>;
  } catch {
    throw new AgentSettingsError(`puppet config print gave no JSON for ${where}: ${outputTail(r)}`);
  }
  const out: Record<string, unknown> = {};
  for (const k of STRINGS) {
    const v = data[k];
    out[k] = typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : '';
  }
  for (const k of NUMBERS) {
    const n = Number(data[k]);
    if (!Number.isFinite(n)) throw new AgentSettingsError(`${where}: setting ${k} is ${JSON.stringify(data[k])}, not a number`);
    out[k] = n;
  }
  for (const k of BOOLEANS) out[k] = data[k] === true || data[k] === 'true';
  const s = out as unknown as AgentSettings;
  if (!s.certname) throw new AgentSettingsError(`${where}: no certname; set certname in puppet.conf`);
  if (!s.server) throw new AgentSettingsError(`${where}: no server; set server in puppet.conf`);
  return s;
}
