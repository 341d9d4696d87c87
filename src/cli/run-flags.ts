/** The flags every command that runs a graph shares (`mgmt run`, and later `mgmt puppet`). */
import { mkdtemp } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ParseArgsConfig } from 'node:util';
import { checkHostname, defaultHostname } from '../system/hostname.js';
import { UsageError } from './usage.js';

export const runFlagOptions = {
  hostname: { type: 'string' },
  'converged-timeout': { type: 'string' },
  noop: { type: 'boolean' },
  sema: { type: 'string' },
  graphviz: { type: 'string' },
  'no-autoedges': { type: 'boolean' },
  'no-autogroup': { type: 'boolean' },
  'tmp-prefix': { type: 'boolean' },
  prefix: { type: 'string' },
  verbose: { type: 'boolean', short: 'v' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

export const runFlagsHelp = `  --hostname NAME           this host's name (default: the machine's hostname)
  --converged-timeout N     exit once nothing has changed for N seconds (0: as soon as converged);
                            exit code 1 if a resource failed. Without it, keep running and repairing.
  --noop                    check only: report what would change, change nothing
  --sema N                  at most N resources check/apply at the same time
  --graphviz FILE           write the running graph as DOT to FILE (after each graph swap)
  --no-autoedges            do not add automatic edges (file after its directory, exec after its cwd)
  --no-autogroup            run every resource as its own vertex (no grouping of packages into one transaction)
  --prefix DIR              state directory (default: /var/lib/mgmt as root, else ~/.local/state/mgmt)
  --tmp-prefix              use a new temporary state directory
  -v, --verbose             debug logging (events, pokes, timings)`;

export interface RunFlags {
  readonly hostname: string;
  readonly convergedTimeout: number | undefined;
  readonly noop: boolean;
  readonly sema: number | undefined;
  readonly graphviz: string | undefined;
  readonly autoEdges: boolean;
  readonly autoGroup: boolean;
  readonly prefix: string;
  readonly verbose: boolean;
}

type Values = { [K in keyof typeof runFlagOptions]?: (typeof runFlagOptions)[K]['type'] extends 'boolean' ? boolean : string };

export async function resolveRunFlags(v: Values): Promise<RunFlags> {
  const hostname = v.hostname ?? defaultHostname();
  const bad = checkHostname(hostname);
  if (bad) throw new UsageError(`--hostname ${JSON.stringify(hostname)}: ${bad}`);
  if (v['tmp-prefix'] && v.prefix) throw new UsageError('--tmp-prefix and --prefix exclude each other: choose one');
  const prefix = v['tmp-prefix']
    ? await mkdtemp(join(tmpdir(), 'mgmt-'))
    : (v.prefix ?? (process.getuid?.() === 0 ? '/var/lib/mgmt' : join(process.env.XDG_STATE_HOME ?? join(homedir(), '.local', 'state'), 'mgmt')));
  return {
    hostname,
    convergedTimeout: v['converged-timeout'] === undefined ? undefined : number('--converged-timeout', v['converged-timeout'], 0),
    noop: v.noop ?? false,
    sema: v.sema === undefined ? undefined : number('--sema', v.sema, 1),
    graphviz: v.graphviz,
    autoEdges: !v['no-autoedges'],
    autoGroup: !v['no-autogroup'],
    prefix,
    verbose: v.verbose ?? false,
  };
}

function number(flag: string, text: string, min: number): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n < min) throw new UsageError(`${flag} ${text}: expected a number >= ${min}`);
  return n;
}
