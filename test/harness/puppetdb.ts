/**
 * A real PuppetDB (Debian's puppetdb 7.12) on a private PostgreSQL 15, both on loopback with private directories and
 * free ports, for tests: started once per test file (about 50 s on two cores), stopped by PID (java, then
 * `pg_ctl stop`), its directories removed. Tests fill it through PuppetDB's command API (replace catalog v9,
 * replace facts v5, store report v8, deactivate node v3), each submission waiting until PuppetDB has processed it,
 * and with catalogs compiled by the real Puppet for a node through the real PuppetDB terminus (`compileInto`).
 * Environment notes §9 hold the recipe this follows.
 */
import { randomUUID } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { makeTestCa, RSA_KEY, signTestCert } from './test-ca.js';
import { chownSync, copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRunning, type LineProcess, run, startLines } from '../../src/system/proc/launcher.js';
import { freePort } from './etcd.js';

const PG_BIN = '/usr/lib/postgresql/15/bin';
const PDB_JAR = '/usr/share/puppetdb/puppetdb.jar';
const PDB_ETC = '/etc/puppetdb';
const PATH = '/usr/sbin:/usr/bin:/sbin:/bin';
/** How long PuppetDB may take to say "running" (about 50 s on two idle cores; much more when they are busy). */
const START_MS = 420_000;
/** How long one command submission may wait for PuppetDB to process it. */
const COMMAND_WAIT_S = 120;

export interface TestPuppetDb {
  /** `http://127.0.0.1:PORT`: the plain HTTP port, loopback only. */
  readonly url: string;
  /** `https://127.0.0.1:PORT`: the TLS port (client certificates signed by the test CA; `ssldirFor` makes them). */
  readonly tlsUrl: string;
  readonly dir: string;
  /** The JVM's PID while it runs. */
  pid(): number | undefined;
  /** The last lines PuppetDB logged (for failure messages). */
  log(): string;
  /**
   * Submits a command and resolves once PuppetDB has processed it (rejects with PuppetDB's answer when refused);
   * with `wait: false`, once PuppetDB has queued it.
   */
  command(command: string, version: number, certname: string, payload: unknown, wait?: boolean): Promise<void>;
  /** `replace catalog` v9: a catalog in PuppetDB's wire format (certname, resources, edges...). */
  replaceCatalog(catalog: WireCatalog, wait?: boolean): Promise<void>;
  /** Resolves once PuppetDB holds a catalog for every one of `certnames` (after `replaceCatalog(c, false)`). */
  untilCatalogs(certnames: readonly string[], timeoutMs?: number): Promise<void>;
  /** `replace facts` v5. */
  replaceFacts(certname: string, environment: string, values: Record<string, unknown>, producerTimestamp?: string): Promise<void>;
  /** `store report` v8. */
  storeReport(report: Record<string, unknown> & { certname: string }): Promise<void>;
  /** `deactivate node` v3. */
  deactivateNode(certname: string): Promise<void>;
  /**
   * Compiles `manifest` for `node` with the real `puppet apply --noop` and the real PuppetDB terminus, which stores
   * the node's facts, catalog and (noop) report here, as a Puppet Server with `storeconfigs_backend = puppetdb` does.
   */
  compileInto(opts: CompileIntoOptions): Promise<void>;
  /**
   * A Puppet agent's ssldir for `certname` (certs/ca.pem, certs/NAME.pem, private_keys/NAME.pem), signed by the CA
   * PuppetDB trusts, made once per name.
   */
  ssldirFor(certname: string): string;
  /** GET on the query API (`/pdb/query/v4/...`), parsed. */
  query(path: string): Promise<unknown>;
  /** Stops java (by PID, waiting until it is gone), then PostgreSQL, and removes the directories. */
  cleanup(): Promise<void>;
}

export interface CompileIntoOptions {
  readonly node: string;
  /** Puppet code for the node (site.pp). */
  readonly manifest: string;
  /** Facts added to (and overriding) Facter's. */
  readonly facts?: Readonly<Record<string, string>>;
  readonly environment?: string;
}

export interface WireResource {
  readonly type: string;
  readonly title: string;
  readonly exported: boolean;
  readonly tags: readonly string[];
  readonly parameters: Readonly<Record<string, unknown>>;
  readonly file?: string;
  readonly line?: number;
}

export interface WireCatalog {
  readonly certname: string;
  readonly environment: string;
  readonly resources: readonly WireResource[];
  readonly edges: readonly {
    readonly source: { readonly type: string; readonly title: string };
    readonly target: { readonly type: string; readonly title: string };
    readonly relationship: string;
  }[];
  readonly version?: string;
  readonly producer_timestamp?: string;
}

const live = new Set<TestPuppetDb>();

/** Why PuppetDB cannot run here, if it cannot (the packages are missing). */
export function puppetDbMissing(): string | undefined {
  const need: [string, string][] = [
    [PDB_JAR, 'puppetdb'],
    [join(PG_BIN, 'pg_ctl'), 'postgresql-15'],
    ['/usr/lib/ruby/vendor_ruby/puppet/indirector/catalog/puppetdb.rb', 'puppet-terminus-puppetdb'],
  ];
  const missing = need.filter(([p]) => spawnSync('test', ['-e', p]).status !== 0).map(([, pkg]) => pkg);
  return missing.length ? `PuppetDB cannot run here: install the Debian packages ${missing.join(', ')} (scripts/system-deps.mjs)` : undefined;
}

function postgresIds(): { uid: number; gid: number } {
  const r = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const g = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (r.status !== 0 || g.status !== 0) throw new Error('no postgres user: install the Debian package postgresql-15');
  return { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
}

/** Runs a PostgreSQL tool as the postgres user; throws with its output when it fails. */
async function asPostgres(ids: { uid: number; gid: number }, argv: string[], cwd: string): Promise<void> {
  const r = await run({
    command: { argv },
    cwd,
    uid: ids.uid,
    gid: ids.gid,
    env: { PATH, LC_ALL: 'C.UTF-8' },
    signal: AbortSignal.timeout(120_000),
    tailLines: 40,
  });
  if (r.code !== 0) throw new Error(`${argv.join(' ')} failed (exit ${r.code ?? r.signal}):\n${[...r.stdoutTail, ...r.stderrTail].join('\n')}`);
}

/** One HTTP request on loopback; resolves with the status and body. */
export function httpRequest(url: string, method: string, body?: string, timeoutMs = 30_000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    // A connection per request (agent: false): a kept-alive connection PuppetDB has closed meanwhile would hang up.
    const req = request(url, { agent: false, method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, timeout: timeoutMs }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

export interface PuppetDbTls {
  /** PEM files: the CA that signs PuppetDB's clients, PuppetDB's certificate (for 127.0.0.1) and its key. */
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

/**
 * Starts PuppetDB. Its TLS port uses a throwaway CA made here, or, with `tls`, certificates of another CA (a test
 * Puppet Server's, so that the server's PuppetDB terminus and its agents are trusted); `ssldirFor` then cannot sign.
 */
export async function startTestPuppetDb(opts: { tls?: PuppetDbTls } = {}): Promise<TestPuppetDb> {
  const why = puppetDbMissing();
  if (why) throw new Error(why);
  const ids = postgresIds();
  const dir = await mkdtemp(join(tmpdir(), 'mgmt-puppetdb-test-'));
  const pgData = join(dir, 'pg');
  const pgPort = await freePort();
  const ports = new Set([pgPort]);
  const another = async () => {
    let p = await freePort();
    while (ports.has(p)) p = await freePort();
    ports.add(p);
    return p;
  };
  const port = await another();
  const sslPort = await another();
  const url = `http://127.0.0.1:${port}`;
  const tlsUrl = `https://127.0.0.1:${sslPort}`;
  const pki = join(dir, 'pki');
  const lines: string[] = [];
  let java: LineProcess | undefined;
  let pgStarted = false;

  const t: TestPuppetDb = {
    url,
    tlsUrl,
    dir,
    pid: () => java?.pid,
    log: () => lines.join('\n'),
    async command(command, version, certname, payload, wait = true) {
      const q = new URLSearchParams({ command, version: String(version), certname, ...(wait ? { secondsToWaitForCompletion: String(COMMAND_WAIT_S) } : {}) });
      const r = await httpRequest(`${url}/pdb/cmd/v1?${q}`, 'POST', JSON.stringify(payload), (COMMAND_WAIT_S + 10) * 1000).catch((e: unknown) => {
        throw new Error(`submitting ${command} v${version} for ${certname} to PuppetDB: ${(e as Error).message}\n${t.log()}`);
      });
      if (r.status !== 200) throw new Error(`PuppetDB refused ${command} v${version} for ${certname} (HTTP ${r.status}): ${r.body}\n${t.log()}`);
      const answer = JSON.parse(r.body) as { processed?: boolean; error?: string };
      if (wait && answer.processed !== true) throw new Error(`PuppetDB did not process ${command} v${version} for ${certname}: ${r.body}\n${t.log()}`);
    },
    replaceCatalog: (c, wait) =>
      t.command(
        'replace catalog',
        9,
        c.certname,
        {
          version: c.version ?? String(Date.now()),
          producer_timestamp: c.producer_timestamp ?? new Date().toISOString(),
          transaction_uuid: randomUUID(),
          catalog_uuid: randomUUID(),
          code_id: null,
          job_id: null,
          producer: 'mgmt-test',
          ...c,
        },
        wait,
      ),
    async untilCatalogs(certnames, timeoutMs = 600_000) {
      const deadline = Date.now() + timeoutMs;
      const want = new Set(certnames);
      for (;;) {
        const have = (await t.query('/pdb/query/v4/catalogs?query=' + encodeURIComponent(JSON.stringify(['extract', ['certname']])))) as { certname: string }[];
        if (have.filter((c) => want.has(c.certname)).length === want.size) return;
        if (Date.now() > deadline) throw new Error(`PuppetDB did not store the catalogs of ${[...want].join(', ')} within ${timeoutMs / 1000} s\n${t.log()}`);
        // Polling the stored state: PuppetDB offers no event for "this queued command is processed".
        await new Promise((res) => setTimeout(res, 500));
      }
    },
    replaceFacts: (certname, environment, values, producerTimestamp) =>
      t.command('replace facts', 5, certname, {
        certname,
        environment,
        values,
        producer_timestamp: producerTimestamp ?? new Date().toISOString(),
        producer: 'mgmt-test',
        package_inventory: [],
      }),
    storeReport: (report) => t.command('store report', 8, report.certname, report),
    deactivateNode: (certname) => t.command('deactivate node', 3, certname, { certname, producer_timestamp: new Date().toISOString() }),
    compileInto: (opts) => compileInto(t, opts),
    ssldirFor: (certname) => {
      if (opts.tls) throw new Error('ssldirFor: this PuppetDB trusts the CA it was given (opts.tls): make agents with that CA');
      return agentSsldir(pki, join(dir, 'agents', certname, 'ssl'), certname);
    },
    async query(path) {
      const r = await httpRequest(`${url}${path}`, 'GET').catch((e: unknown) => {
        throw new Error(`GET ${path} from PuppetDB: ${(e as Error).message}\n${t.log()}`);
      });
      if (r.status !== 200) throw new Error(`GET ${path}: HTTP ${r.status}: ${r.body}`);
      return JSON.parse(r.body) as unknown;
    },
    async cleanup() {
      live.delete(t);
      const j = java;
      java = undefined;
      if (j) {
        await j.stop();
        if (isRunning(j.pid)) throw new Error(`PuppetDB pid ${j.pid} still running after stop`);
      }
      if (pgStarted) {
        pgStarted = false;
        await asPostgres(ids, [join(PG_BIN, 'pg_ctl'), '-D', pgData, '-m', 'fast', '-w', 'stop'], dir);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
  live.add(t);
  try {
    chownSync(dir, ids.uid, ids.gid);
    await asPostgres(ids, [join(PG_BIN, 'initdb'), '-D', pgData, '-A', 'trust', '-U', 'postgres', '--no-sync'], dir);
    const pgOpts = `-p ${pgPort} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
    await asPostgres(ids, [join(PG_BIN, 'pg_ctl'), '-D', pgData, '-o', pgOpts, '-l', join(dir, 'pg.log'), '-w', '-t', '120', 'start'], dir);
    pgStarted = true;
    const psql = (db: string, ...sql: string[]) =>
      asPostgres(
        ids,
        [join(PG_BIN, 'psql'), '-h', '127.0.0.1', '-p', String(pgPort), '-U', 'postgres', '-d', db, '-v', 'ON_ERROR_STOP=1', ...sql.flatMap((s) => ['-c', s])],
        dir,
      );
    await psql('postgres', "create role puppetdb login password 'pdb'", 'create database puppetdb owner puppetdb');
    await psql('puppetdb', 'create extension pg_trgm');

    const conf = join(dir, 'conf.d');
    mkdirSync(conf);
    mkdirSync(join(dir, 'var'));
    writeFileSync(join(dir, 'logback.xml'), LOGBACK);
    writeFileSync(
      join(conf, 'config.ini'),
      `[global]\nvardir = ${join(dir, 'var')}\nlogging-config = ${join(dir, 'logback.xml')}\n\n[command-processing]\nthreads = 1\n`,
    );
    if (!opts.tls) makeCa(pki);
    const tls = opts.tls ?? { ca: join(pki, 'ca.pem'), cert: join(pki, 'server.pem'), key: join(pki, 'server-key.pem') };
    writeFileSync(
      join(conf, 'jetty.ini'),
      `[jetty]\nhost = 127.0.0.1\nport = ${port}\nssl-host = 127.0.0.1\nssl-port = ${sslPort}\n` +
        `ssl-cert = ${tls.cert}\nssl-key = ${tls.key}\nssl-ca-cert = ${tls.ca}\n`,
    );
    writeFileSync(
      join(conf, 'database.ini'),
      `[database]\nsubname = //127.0.0.1:${pgPort}/puppetdb\nusername = puppetdb\npassword = pdb\nmaximum-pool-size = 4\n`,
    );
    copyFileSync(join(PDB_ETC, 'conf.d', 'auth.conf'), join(conf, 'auth.conf'));
    java = await startLines(
      {
        command: {
          argv: [
            'java',
            '-Xmx384m',
            '-XX:+UseSerialGC',
            '-XX:TieredStopAtLevel=1',
            '-cp',
            PDB_JAR,
            'clojure.main',
            '-m',
            'puppetlabs.puppetdb.core',
            'services',
            '--config',
            conf,
            '--bootstrap-config',
            join(PDB_ETC, 'bootstrap.cfg'),
          ],
        },
        cwd: '/usr/share/puppetdb',
        env: { PATH, HOME: dir, LC_ALL: 'C.UTF-8' },
        killGraceMs: 10_000,
        tailLines: 40,
      },
      (_stream, line) => {
        lines.push(line);
        if (lines.length > 60) lines.shift();
      },
      () => {},
    );
    await untilRunning(t, () => java);
  } catch (e) {
    const log = t.log();
    await t.cleanup();
    throw new Error(`${(e as Error).message}${log ? `\nPuppetDB's last lines:\n${log}` : ''}`);
  }
  return t;
}

/** Polls PuppetDB's status service until it says "running" (the readiness PuppetDB offers; no log line to await). */
async function untilRunning(t: TestPuppetDb, proc: () => LineProcess | undefined): Promise<void> {
  const deadline = Date.now() + START_MS;
  const state = { exited: false };
  void proc()?.exited.then(() => (state.exited = true));
  for (;;) {
    if (state.exited) throw new Error('PuppetDB exited while starting');
    const r = await httpRequest(`${t.url}/status/v1/services/puppetdb-status`, 'GET', undefined, 5000).catch(() => undefined);
    if (r?.status === 200 && (JSON.parse(r.body) as { state?: string }).state === 'running') return;
    if (Date.now() > deadline) throw new Error(`PuppetDB did not say "running" within ${START_MS / 1000} s`);
    await new Promise((res) => setTimeout(res, 500));
  }
}

/** A throwaway CA and PuppetDB's server certificate (for 127.0.0.1 and localhost), valid one day. */
function makeCa(pki: string): void {
  makeTestCa(pki, 'mgmt-test-puppet-ca', RSA_KEY);
  signed(pki, 'server', 'puppetdb.test', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
}

function signed(pki: string, name: string, cn: string, ext: string): void {
  signTestCert(pki, name, cn, ext, RSA_KEY);
}

/** Puppet's ssldir layout for `certname`, its certificate signed by the test CA. */
function agentSsldir(pki: string, ssldir: string, certname: string): string {
  if (existsSync(join(ssldir, 'certs', `${certname}.pem`))) return ssldir;
  if (!/^[a-z0-9._-]+$/.test(certname)) throw new Error(`not a certname this harness signs: ${JSON.stringify(certname)}`);
  signed(pki, `agent-${certname}`, certname, 'extendedKeyUsage=clientAuth\n');
  mkdirSync(join(ssldir, 'certs'), { recursive: true, mode: 0o755 });
  mkdirSync(join(ssldir, 'private_keys'), { recursive: true, mode: 0o750 });
  copyFileSync(join(pki, 'ca.pem'), join(ssldir, 'certs', 'ca.pem'));
  copyFileSync(join(pki, `agent-${certname}.pem`), join(ssldir, 'certs', `${certname}.pem`));
  copyFileSync(join(pki, `agent-${certname}-key.pem`), join(ssldir, 'private_keys', `${certname}.pem`));
  return ssldir;
}

async function compileInto(t: TestPuppetDb, opts: CompileIntoOptions): Promise<void> {
  const base = await mkdtemp(join(t.dir, 'agent-'));
  const confdir = join(base, 'conf');
  const env = opts.environment ?? 'production';
  mkdirSync(join(confdir, 'environments', env, 'manifests'), { recursive: true });
  writeFileSync(join(confdir, 'environments', env, 'manifests', 'site.pp'), opts.manifest);
  writeFileSync(
    join(confdir, 'puppet.conf'),
    [
      '[main]',
      `certname = ${opts.node}`,
      `environment = ${env}`,
      `environmentpath = ${join(confdir, 'environments')}`,
      'storeconfigs = true',
      'storeconfigs_backend = puppetdb',
      'report = true',
      'reports = puppetdb',
      `route_file = ${join(confdir, 'routes.yaml')}`,
      `ssldir = ${t.ssldirFor(opts.node)}`,
      'certificate_revocation = false',
      '',
    ].join('\n'),
  );
  writeFileSync(join(confdir, 'puppetdb.conf'), `[main]\nserver_urls = ${t.tlsUrl}\nsoft_write_failure = false\n`);
  writeFileSync(
    join(confdir, 'routes.yaml'),
    '---\napply:\n  catalog:\n    terminus: compiler\n    cache: puppetdb\n  facts:\n    terminus: facter\n    cache: puppetdb_apply\n',
  );
  const factEnv = Object.fromEntries(Object.entries(opts.facts ?? {}).map(([k, v]) => [`FACTER_${k}`, v]));
  const r = await run({
    command: {
      argv: [
        'puppet',
        'apply',
        '--noop',
        '--detailed-exitcodes',
        '--confdir',
        confdir,
        '--vardir',
        join(base, 'var'),
        '--codedir',
        confdir,
        '--logdir',
        join(base, 'log'),
        '--rundir',
        join(base, 'run'),
        join(confdir, 'environments', env, 'manifests', 'site.pp'),
      ],
    },
    env: { PATH, HOME: base, LC_ALL: 'C.UTF-8', ...factEnv },
    signal: AbortSignal.timeout(300_000),
    tailLines: 60,
  });
  // --detailed-exitcodes: 0 nothing to do, 2 changes (noop: would change); 1, 4 and 6 are failures.
  if (r.code !== 0 && r.code !== 2) {
    throw new Error(`puppet apply for ${opts.node} failed (exit ${r.code ?? r.signal}):\n${[...r.stdoutTail, ...r.stderrTail].join('\n')}`);
  }
  await rm(base, { recursive: true, force: true });
}

/** Stops every PuppetDB a test left running. */
export async function cleanupAllPuppetDb(): Promise<void> {
  await Promise.all([...live].map((t) => t.cleanup()));
}

const LOGBACK = `<configuration>
  <appender name="STDOUT" class="ch.qos.logback.core.ConsoleAppender">
    <encoder><pattern>%d{HH:mm:ss.SSS} %-5p [%c{2}] %m%n</pattern></encoder>
  </appender>
  <root level="warn"><appender-ref ref="STDOUT" /></root>
</configuration>
`;
