/**
 * `puppet apply` in a home of its own, with the corpus's fixed facts: what the corpus compares our runs with (the
 * examples whose graph does not validate, and the --noop failures no rule explains) and what the end-to-end
 * benchmark times. The stub facts reach Puppet as the node's cached facts (`--facts_terminus yaml`), so Puppet
 * compiles with the same facts and node as the corpus's worker; every directory Puppet writes is under `base`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { load } from 'js-yaml';

/** What Puppet's output may cost us: the last bytes are kept (the errors come last). */
const OUTPUT_MAX = 256 * 1024;

export interface PuppetApplyHome {
  /** `puppet apply --noop ...` for `manifest`, its modules from `modulepath` and Debian's. */
  argv(manifest: string, modulepath: string): string[];
  readonly env: NodeJS.ProcessEnv;
}

export interface Exit {
  readonly code: number | null;
  readonly ms: number;
  readonly output: string;
}

let version: string | undefined;

/** `puppet --version`, asked once. */
function puppetVersion(): string {
  if (version === undefined) {
    const r = spawnSync('puppet', ['--version'], { encoding: 'utf8', timeout: 120_000 });
    if (r.error || r.status !== 0) throw new Error(`puppet --version failed (${r.error?.message ?? r.stderr}); install the Debian package puppet`);
    version = r.stdout.trim();
  }
  return version;
}

/**
 * Makes Puppet's directories under `base` and writes the facts of `factsFile` (YAML) as `node`'s cached facts,
 * with the facts Puppet adds to every node's where the file lacks them (clientcert, clientversion, clientnoop: our
 * Puppet worker adds them to stub facts the same way; concat::fragment reads clientversion).
 */
export function puppetApplyHome(base: string, factsFile: string, node: string): PuppetApplyHome {
  for (const d of ['var/client_yaml/facts', 'conf', 'code', 'log', 'run', 'public', 'ssl', 'ca', 'home']) mkdirSync(join(base, d), { recursive: true });
  const facts = { clientcert: node, clientversion: puppetVersion(), clientnoop: true, ...(load(readFileSync(factsFile, 'utf8')) as Record<string, unknown>) };
  writeFileSync(join(base, 'var/client_yaml/facts', `${node}.yaml`), `--- !ruby/object:Puppet::Node::Facts\nname: ${node}\nvalues: ${JSON.stringify(facts)}\n`);
  const dirs = ['vardir:var', 'confdir:conf', 'codedir:code', 'logdir:log', 'rundir:run', 'publicdir:public', 'ssldir:ssl', 'cadir:ca'].flatMap((x) => {
    const [flag, sub] = x.split(':') as [string, string];
    return [`--${flag}`, join(base, sub)];
  });
  return {
    argv: (manifest, modulepath) => [
      'puppet',
      'apply',
      '--noop',
      '--detailed-exitcodes',
      '--color=false',
      '--log_level',
      'warning',
      ...dirs,
      '--facts_terminus',
      'yaml',
      '--certname',
      node,
      '--modulepath',
      `${modulepath}:/usr/share/puppet/modules`,
      manifest,
    ],
    env: { ...process.env, HOME: join(base, 'home'), TMPDIR: base },
  };
}

/** Runs `argv` to its end (at most `timeoutMs`, then killed): exit code, wall time, the last of its output. */
export function timed(argv: readonly string[], env: NodeJS.ProcessEnv, timeoutMs = 600_000): Promise<Exit> {
  return new Promise((res, rej) => {
    const t0 = performance.now();
    const child = spawn(argv[0]!, argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (b: Buffer) => {
      output += b.toString('utf8');
      if (output.length > 2 * OUTPUT_MAX) output = output.slice(-OUTPUT_MAX);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      rej(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      res({ code, ms: performance.now() - t0, output: output.slice(-OUTPUT_MAX) });
    });
  });
}

/** A line that starts one of Puppet's log messages. */
const LEVEL = /^(Debug|Info|Notice|Warning|Error|Critical|Alert|Emergency): /;

/**
 * Puppet's `Error:` messages, without the prefix; a message that goes on over several lines (a dependency cycle
 * names its resources on the next line) is joined into one, with a space.
 */
export function puppetErrors(output: string): string[] {
  const messages: string[] = [];
  for (const line of output.split('\n')) {
    const last = messages.at(-1);
    if (LEVEL.test(line) || last === undefined) messages.push(line);
    else messages[messages.length - 1] = `${last} ${line}`;
  }
  return messages.filter((m) => m.startsWith('Error: ') && !m.startsWith('Error: Facter:')).map((m) => m.slice('Error: '.length).trim());
}

/** The error Puppet reported for the resource `ref` (`Type[title]`), from its `Error: /Stage[main]/.../Type[title]: ...` lines. */
export function errorFor(errors: readonly string[], ref: string): string | undefined {
  for (const e of errors) {
    const at = e.indexOf(`${ref}: `);
    if (at >= 0 && (at === 0 || e[at - 1] === '/')) return e.slice(at + ref.length + 2);
  }
  return undefined;
}
