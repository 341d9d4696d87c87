/**
 * A real Puppet Server (Debian's puppetserver 7) for tests, on loopback with private configuration, code, SSL,
 * CA and data directories (environment notes §9): a free port, `dns_alt_names` for localhost and 127.0.0.1 set
 * before the first start (the CA and the server certificate are made then), `autosign` for test nodes, reports
 * stored under its vardir. It takes 100 s or more to start on two busy cores and its first compile is slow, so a
 * test file starts one and shares it; it is stopped by PID (waiting until it is gone) and its directory removed
 * at cleanup. `stop()` / `start()` keep the port and the data (a server that goes down and comes back).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, cpSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './etcd.js';

export interface TestPuppetServer {
  /** The HTTPS port on 127.0.0.1 (the server's certificate also names localhost). */
  readonly port: number;
  readonly dir: string;
  /** The server's own puppet.conf directory (its `confdir`). */
  readonly confdir: string;
  /** `codedir`: environments live in `codedir/environments/<env>`. */
  readonly codedir: string;
  readonly vardir: string;
  readonly ssldir: string;
  pid(): number | undefined;
  /** Writes `manifests/site.pp` of an environment (default production). */
  writeSite(code: string, env?: string): void;
  /** Writes a file under an environment (`modules/m/lib/facter/f.rb`). */
  writeCode(rel: string, text: string, env?: string): void;
  /**
   * The report files `reports = store` wrote for a node (full paths, oldest first by modification time). The store
   * processor names them by the minute (`YYYYMMDDhhmm.yaml`): a second report in the same minute replaces the first.
   */
  storedReports(node: string): string[];
  /** What the server logged so far. */
  log(): string;
  /**
   * With `versionedCode`: makes `id` the code version the server stamps on catalogs (their `code_id`, so catalogs
   * are static) and keeps a copy of the environments as they are now as that version's content.
   */
  setCodeVersion(id: string): void;
  /** With `versionedCode`: the static file contents the server was asked for, `ENV CODE_ID PATH` each. */
  staticContentCalls(): string[];
  /** Stops it by PID and waits until it is gone; configuration, CA and data stay. */
  stop(): Promise<void>;
  /** Starts it again on the same port, with the same CA and data. */
  start(): Promise<void>;
  /** Stops it and removes its directory. */
  cleanup(): Promise<void>;
}

export const PUPPETSERVER_JAR = '/usr/share/puppetserver/puppetserver.jar';
const READY = 'Puppet Server has successfully started and is now ready to handle requests';
/** Two busy cores and seven other engineers' JVMs: the notes measured ~107 s; give it room. */
const START_TIMEOUT_MS = 600_000;

/** Fails loudly when the package is missing (scripts/system-deps.mjs installs it). */
export function puppetServerMissing(): string | undefined {
  return existsSync(PUPPETSERVER_JAR) ? undefined : 'puppetserver is not installed (Debian package puppetserver; scripts/system-deps.mjs installs it)';
}

export interface PuppetServerOptions {
  /** puppet.conf `reports` (default `store`). */
  readonly reports?: string;
  /** Extra lines for the server's puppet.conf `[server]` section. */
  readonly serverSettings?: readonly string[];
  /**
   * Versioned code (static catalogs): Puppet Server's code-id-command prints the version `setCodeVersion` set, and
   * its code-content-command serves files from that version's copy of the environments (and logs each call).
   */
  readonly versionedCode?: boolean;
}

export async function startTestPuppetServer(opts: PuppetServerOptions = {}): Promise<TestPuppetServer> {
  const missing = puppetServerMissing();
  if (missing) throw new Error(missing);
  const dir = await mkdtemp(join(tmpdir(), 'mgmt-puppetserver-'));
  const port = await freePort();
  const confdir = join(dir, 'conf');
  const codedir = join(dir, 'code');
  const vardir = join(dir, 'var');
  const ssldir = join(dir, 'ssl');
  const cadir = join(dir, 'ca');
  const tk = join(dir, 'tk');
  for (const d of [confdir, codedir, vardir, ssldir, join(dir, 'run'), join(dir, 'log'), join(dir, 'gems'), tk, join(tk, 'conf.d'), join(tk, 'services.d')]) {
    mkdirSync(d, { recursive: true });
  }
  // Trapperkeeper's configuration: the Debian files, with our web server and our directories.
  for (const f of readdirSync('/etc/puppet/puppetserver/conf.d')) {
    if (f === 'webserver.conf' || f === 'puppetserver.conf') continue;
    cpSync(join('/etc/puppet/puppetserver/conf.d', f), join(tk, 'conf.d', f));
  }
  cpSync('/etc/puppet/puppetserver/services.d', join(tk, 'services.d'), { recursive: true });
  writeFileSync(join(tk, 'conf.d', 'webserver.conf'), `webserver: {\n  client-auth: want\n  ssl-host: 127.0.0.1\n  ssl-port: ${port}\n}\n`);
  writeFileSync(
    join(tk, 'conf.d', 'puppetserver.conf'),
    `jruby-puppet: {
  ruby-load-path: [/usr/lib/puppetserver/ruby/vendor_ruby]
  gem-home: ${join(dir, 'gems')}
  gem-path: [${join(dir, 'gems')}, "/usr/lib/puppetserver/vendored-jruby-gems"]
  server-conf-dir: ${confdir}
  server-code-dir: ${codedir}
  server-var-dir: ${vardir}
  server-run-dir: ${join(dir, 'run')}
  server-log-dir: ${join(dir, 'log')}
  max-active-instances: 1
}
http-client: {}
profiler: {}
${
  opts.versionedCode
    ? `versioned-code: {
  code-id-command: ${join(dir, 'versioned', 'code-id')}
  code-content-command: ${join(dir, 'versioned', 'code-content')}
}
`
    : ''
}`,
  );
  const versioned = join(dir, 'versioned');
  if (opts.versionedCode) {
    mkdirSync(join(versioned, 'versions'), { recursive: true });
    writeFileSync(join(versioned, 'current'), '');
    // code-id-command ENV: the current version (empty output: no code id, a plain catalog)
    writeFileSync(join(versioned, 'code-id'), `#!/bin/sh\nexec cat '${join(versioned, 'current')}'\n`, { mode: 0o755 });
    // code-content-command ENV CODE_ID PATH: that version's file, and a line in the call log
    writeFileSync(
      join(versioned, 'code-content'),
      `#!/bin/sh\necho "$1 $2 $3" >> '${join(versioned, 'calls')}'\nexec cat "${join(versioned, 'versions')}/$2/$1/$3"\n`,
      { mode: 0o755 },
    );
  }
  writeFileSync(
    join(confdir, 'puppet.conf'),
    [
      '[main]',
      'certname = puppet',
      'dns_alt_names = localhost,127.0.0.1',
      `vardir = ${vardir}`,
      `ssldir = ${ssldir}`,
      `codedir = ${codedir}`,
      '[server]',
      `vardir = ${vardir}`,
      `ssldir = ${ssldir}`,
      `cadir = ${cadir}`,
      'autosign = true',
      `reports = ${opts.reports ?? 'store'}`,
      ...(opts.serverSettings ?? []),
      '',
    ].join('\n'),
  );
  const envDir = (env: string) => join(codedir, 'environments', env);
  mkdirSync(join(envDir('production'), 'manifests'), { recursive: true });
  mkdirSync(join(envDir('production'), 'modules'), { recursive: true });
  writeFileSync(join(envDir('production'), 'manifests', 'site.pp'), 'node default {}\n');

  let child: ChildProcess | undefined;
  const logFile = join(dir, 'server.log');
  const launch = async () => {
    const fd = openSync(logFile, 'a');
    try {
      child = spawn(
        'java',
        [
          '-Xms256m',
          '-Xmx512m',
          '-XX:TieredStopAtLevel=1',
          '-Dlogappender=STDOUT',
          '-Djruby.lib=/usr/share/jruby/lib',
          '-Djruby.logger.class=com.puppetlabs.jruby_utils.jruby.Slf4jLogger',
          '-jar',
          PUPPETSERVER_JAR,
          '--config',
          join(tk, 'conf.d'),
          '--bootstrap-config',
          join(tk, 'services.d'),
        ],
        { cwd: '/usr/share/puppetserver', stdio: ['ignore', fd, fd], detached: true },
      );
    } finally {
      closeSync(fd);
    }
    const started = child;
    const exited = new Promise<never>((_, reject) =>
      started.once('exit', (code, sig) => reject(new Error(`puppetserver exited (${code ?? sig}) before it was ready; its log:\n${tail(logFile)}`))),
    );
    exited.catch(() => undefined);
    const deadline = Date.now() + START_TIMEOUT_MS;
    // The log is a file the JVM appends to: read it until the ready line (no event tells us otherwise).
    const ready = (async () => {
      while (!readFileSync(logFile, 'utf8').includes(READY)) {
        if (Date.now() > deadline) throw new Error(`puppetserver not ready within ${START_TIMEOUT_MS / 1000} s; its log:\n${tail(logFile)}`);
        await new Promise((r) => setTimeout(r, 500));
      }
    })();
    await Promise.race([ready, exited]);
  };
  const stop = async () => {
    const c = child;
    child = undefined;
    if (c === undefined) return;
    if (c.exitCode !== null || c.signalCode !== null) return;
    const gone = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill('SIGTERM');
    const t = setTimeout(() => c.kill('SIGKILL'), 20_000);
    await gone;
    clearTimeout(t);
  };
  try {
    await launch();
  } catch (e) {
    await stop();
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  // Restarts append to the same log: count ready lines from here on.
  return {
    port,
    dir,
    confdir,
    codedir,
    vardir,
    ssldir,
    pid: () => child?.pid,
    writeSite: (code, env = 'production') => {
      mkdirSync(join(envDir(env), 'manifests'), { recursive: true });
      writeFileSync(join(envDir(env), 'manifests', 'site.pp'), code);
    },
    setCodeVersion: (id) => {
      if (!opts.versionedCode) throw new Error('setCodeVersion: start the server with versionedCode');
      cpSync(join(codedir, 'environments'), join(versioned, 'versions', id), { recursive: true });
      writeFileSync(join(versioned, 'current'), id);
    },
    staticContentCalls: () => {
      const f = join(versioned, 'calls');
      return existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter(Boolean) : [];
    },
    writeCode: (rel, text, env = 'production') => {
      const p = join(envDir(env), rel);
      mkdirSync(join(p, '..'), { recursive: true });
      writeFileSync(p, text);
    },
    storedReports: (node) => {
      const d = join(vardir, 'reports', node);
      if (!existsSync(d)) return [];
      return readdirSync(d)
        .filter((f) => f.endsWith('.yaml'))
        .map((f) => ({ p: join(d, f), t: statSync(join(d, f)).mtimeMs }))
        .sort((a, b) => a.t - b.t)
        .map((x) => x.p);
    },
    log: () => readFileSync(logFile, 'utf8'),
    stop,
    start: async () => {
      writeFileSync(logFile, ''); // the ready line of the previous start must not count
      await launch();
    },
    cleanup: async () => {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-40).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * An agent's private Puppet directories for a node of this server (confdir with its puppet.conf, vardir, ssldir),
 * as `puppet agent` and `mgmt puppet agent` both read them.
 */
export function agentDirs(
  root: string,
  server: TestPuppetServer,
  node: string,
  extra: readonly string[] = [],
): { confdir: string; vardir: string; ssldir: string } {
  const confdir = join(root, 'confdir');
  const vardir = join(root, 'var');
  const ssldir = join(confdir, 'ssl');
  mkdirSync(confdir, { recursive: true });
  mkdirSync(vardir, { recursive: true });
  writeFileSync(
    join(confdir, 'puppet.conf'),
    ['[main]', `certname = ${node}`, 'server = localhost', `serverport = ${server.port}`, `vardir = ${vardir}`, `ssldir = ${ssldir}`, ...extra, ''].join('\n'),
  );
  return { confdir, vardir, ssldir };
}
