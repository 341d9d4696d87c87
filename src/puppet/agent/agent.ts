/**
 * `mgmt puppet agent`: one node's Puppet agent run on our engine, against the node's Puppet Server, with the
 * node's own identity (settings.ts). A run does what `puppet agent` does over the v3 API: the node object (the
 * ENC may change the environment), pluginsync (`plugins`, `pluginfacts`) before facts, facts (Puppet's own
 * `puppet facts`, which loads the synced custom facts), the catalog with a transaction UUID, `puppet:///`
 * sources into a cache, then translate, validate and apply on the engine (the live graph stays up between runs:
 * a new catalog is swapped in, unchanged resources keep running), and the report: `PUT report/<node>` and
 * `last_run_summary.yaml` / `last_run_report.yaml`. The server down: the cached catalog
 * (`client_datadir/catalog/<node>.json`) keeps running, and the report says `cached_catalog_status: on_failure`.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { CheckRecord } from '../../engine/check-record.js';
import { Engine } from '../../engine/engine.js';
import type { Vertex } from '../../engine/vertex.js';
import { checkSpec } from '../../graph/check-spec.js';
import { diagnosticLogText, hasErrors } from '../../graph/diagnostics.js';
import type { GraphSpec } from '../../graph/spec.js';
import { errorText } from '../../observe/errors.js';
import type { Logger } from '../../observe/logger.js';
import type { Registry } from '../../resources/registry.js';
import { writeLastRun } from '../../report/last-run.js';
import { puppetReport, type PuppetReport, type ReportLog, type ReportResource } from '../../report/puppet-report.js';
import { inheritedEnv, outputTail, run } from '../../system/proc/launcher.js';
import { type Catalog, catalogFromData, parseCatalogText, refOf } from '../catalog.js';
import { translateCatalog } from '../translate.js';
import { syncTree } from './file-sync.js';
import { PuppetServerClient } from './server-client.js';
import { type AgentSettings, configArgs, type PuppetConfigSource } from './settings.js';
import { fetchSources, staticSources } from './sources.js';

export interface AgentOptions {
  readonly settings: AgentSettings;
  readonly source: PuppetConfigSource;
  readonly registry: Registry;
  /** mgmt's own state directory (resources' state, the source cache). */
  readonly prefix: string;
  readonly noop: boolean;
  /** `--tags`: only resources with one of these tags are applied (the others stay in the report, unchanged). */
  readonly tags?: readonly string[];
  readonly log: Logger;
  /** Seconds between polls of fallback resources (Puppet's runinterval). */
  readonly runinterval?: number;
}

/** What one run did. */
export interface AgentRunResult {
  readonly report: PuppetReport | undefined;
  /** The catalog came from the cache because the server could not be reached. */
  readonly cached: boolean;
  /** The run failed before anything was applied (no catalog at all, or it did not translate). */
  readonly error?: string;
  /** The report could not be handed to the server (it is still in last_run_report.yaml). */
  readonly reportError?: string;
}

/** Reports kept for a server that is down; older ones are dropped (last_run_report.yaml keeps the newest). */
const MAX_UNDELIVERED = 20;

/** Container types: flattened into edges, not resources of the report (as in Puppet's). */
const CONTAINERS = new Set(['Class', 'Stage', 'Node']);

export class PuppetAgent {
  readonly engine: Engine;
  private records: CheckRecord[] = [];
  /** The last run's `puppetversion` fact; `puppet --version`'s answer when asked (see puppetVersion()). */
  private factVersion: string | undefined;
  private askedVersion: Promise<string> | undefined;
  private convergedWaiters: (() => void)[] = [];
  private current: { spec: GraphSpec; catalog: Catalog; version: CatalogVersion; resources: ReportResource[]; refs: Map<string, string> } | undefined;
  private client: PuppetServerClient | undefined;
  private readonly s: AgentSettings;
  /** Reports not yet taken by the server (at most MAX_UNDELIVERED, the newest). */
  private readonly undelivered: { report: PuppetReport; environment: string }[] = [];
  /** A catalog run is under way: its changes go into its own report, not a drift report. */
  private running = false;

  constructor(private readonly o: AgentOptions) {
    this.s = o.settings;
    this.engine = new Engine({
      registry: o.registry,
      hostname: o.settings.certname,
      prefix: o.prefix,
      noop: o.noop,
      convergedTimeout: 0,
      onConverged: () => {
        const w = this.convergedWaiters;
        this.convergedWaiters = [];
        for (const f of w) f();
      },
      onCheck: (r) => this.records.push(r),
    });
  }

  private converged(): Promise<void> {
    return new Promise((resolve) => this.convergedWaiters.push(resolve));
  }

  private async serverClient(): Promise<PuppetServerClient> {
    this.client ??= await PuppetServerClient.open({
      host: this.s.server,
      port: this.s.serverport,
      cert: this.s.hostcert,
      key: this.s.hostprivkey,
      ca: this.s.localcacert,
    });
    return this.client;
  }

  /** One run: fetch (or fall back to the cached catalog), apply until converged, report. */
  async run(): Promise<AgentRunResult> {
    this.running = true;
    try {
      return await this.runOnce();
    } finally {
      this.running = false;
    }
  }

  private async runOnce(): Promise<AgentRunResult> {
    const startedAt = Date.now();
    const times: Record<string, number> = {};
    const logs: ReportLog[] = [];
    const say = (level: ReportLog['level'], message: string) => {
      logs.push({ level, message, source: 'Puppet', time: Date.now() });
      if (level === 'err') this.o.log.error(message);
      else if (level === 'warning') this.o.log.warn(message);
      else this.o.log.info(message);
    };
    const timed = async <T>(name: string, f: () => Promise<T>): Promise<T> => {
      const t0 = performance.now();
      try {
        return await f();
      } finally {
        times[name] = (performance.now() - t0) / 1000;
      }
    };
    const s = this.s;
    const transactionUuid = randomUUID();
    let environment = s.environment;
    let catalogText: string | undefined;
    let cached = false;
    try {
      const client = await this.serverClient();
      const node = await timed('node_retrieval', () => client.node(s.certname, environment));
      if (node.environment && node.environment !== environment) {
        say(
          'notice',
          `Local environment: '${environment}' doesn't match server specified node environment '${node.environment}', switching agent to '${node.environment}'.`,
        );
        environment = node.environment;
      }
      say('info', `Using environment '${environment}'`);
      if (s.pluginsync) {
        await timed('plugin_sync', async () => {
          for (const [mount, dir] of [
            ['pluginfacts', s.pluginfactdest],
            ['plugins', s.libdir],
          ] as const) {
            say('info', `Retrieving ${mount}`);
            const entries = await client.fileMetadatas(mount, environment);
            await syncTree(entries, dir, (rel) => client.fileContent(`${mount}/${rel}`, environment), { purge: true, warn: (m) => say('warning', m) });
          }
        });
      }
      const facts = await timed('fact_generation', () => this.facts());
      catalogText = await timed('config_retrieval', () => client.catalog(s.certname, { environment, facts, transactionUuid }));
      await this.cacheCatalog(catalogText);
    } catch (e) {
      const why = errorText(e);
      if (!s.usecacheonfailure) {
        say('err', `Could not retrieve catalog from remote server: ${why}`);
        return { report: undefined, cached: false, error: why };
      }
      catalogText = await readFile(this.cachedCatalogPath(), 'utf8').catch(() => undefined);
      if (catalogText === undefined) {
        say('err', `Could not retrieve catalog from remote server: ${why}; no cached catalog to fall back on`);
        return { report: undefined, cached: false, error: why };
      }
      cached = true;
      say('warning', `Could not retrieve catalog from remote server: ${why}`);
      say('notice', `Using cached catalog from environment '${environment}'`);
    }

    let catalog: Catalog;
    let doc: unknown; // the catalog's JSON, parsed once: its shape, its static sources, its version
    try {
      const name = `catalog of ${s.certname} from ${s.server}:${s.serverport}`;
      doc = parseCatalogText(catalogText, name);
      catalog = catalogFromData(doc, name);
      if (!cached) {
        catalog = await timed('convert_catalog', async () => {
          const client = await this.serverClient();
          const r = await fetchSources(catalog, client, environment, join(this.o.prefix, 'puppet-sources', environment), {
            warn: (m) => say('warning', m),
            pinned: staticSources(doc),
          });
          return r.catalog;
        });
      } else if (this.current) catalog = this.current.catalog; // the cached catalog is what runs already: keep its fetched sources
    } catch (e) {
      say('err', `Could not use the catalog: ${errorText(e)}`);
      return { report: undefined, cached, error: errorText(e) };
    }
    const { spec } = translateCatalog(this.o.registry, catalog, this.o.runinterval !== undefined ? { runinterval: this.o.runinterval } : {});
    const tagged = this.o.tags && this.o.tags.length > 0 ? selectTags(spec, catalog, this.o.tags) : spec;
    const diagnostics = checkSpec(this.o.registry, tagged);
    for (const d of diagnostics) this.o.log[d.severity === 'error' ? 'error' : 'warn'](diagnosticLogText(d));
    if (hasErrors(diagnostics)) {
      say('err', 'the translated catalog has errors; nothing was applied (the running graph is unchanged)');
      return { report: undefined, cached, error: 'the translated catalog has errors' };
    }
    const version = catalogVersion(doc);
    say('info', `Applying configuration version '${String(version.version ?? '')}'`);
    // Drift repaired since the last report (not yet reported) goes into this run's report, with the run's changes.
    const t0 = performance.now();
    let done = this.converged();
    const swapped = await this.engine.swap(tagged);
    if (hasErrors(swapped.diagnostics)) {
      for (const d of swapped.diagnostics) this.o.log.error(diagnosticLogText(d));
      say('err', 'the catalog could not be swapped in; the running graph is unchanged');
      return { report: undefined, cached, error: 'swap failed' };
    }
    await done;
    // A convergence can come from before the swap took effect: wait until every resource of this catalog has run
    // (or failed, or waits behind a failure), so that its changes are in this run's report.
    while (this.unsettled(tagged)) {
      done = this.converged();
      if (!this.unsettled(tagged)) break;
      await done;
    }
    const applied = (performance.now() - t0) / 1000;
    times.transaction_evaluation = applied;
    times.catalog_application = applied;
    say('notice', `Applied catalog in ${applied.toFixed(2)} seconds`);
    this.current = { spec: tagged, catalog, version, ...reportResources(catalog, tagged) };
    times.total = (Date.now() - startedAt) / 1000;
    const records = this.records;
    this.records = [];
    const report = this.report({ startedAt, records, logs, times, transactionUuid, environment, cached, version, puppetVersion: await this.puppetVersion() });
    return { report, cached, ...(await this.deliver(report, environment)) };
  }

  /** Some resource of `spec` has not reached its state yet, and does not wait behind a failed one. */
  private unsettled(spec: GraphSpec): boolean {
    const blocked = (v: Vertex, seen = new Set<Vertex>()): boolean =>
      v.parents.some((e) => {
        if (seen.has(e.from)) return false;
        seen.add(e.from);
        return e.from.failed || blocked(e.from, seen);
      });
    return spec.resources.some((r) => {
      const v = this.engine.vertex(`${r.kind}[${r.name}]`);
      return v !== undefined && v.convergedSince === undefined && !v.failed && !blocked(v);
    });
  }

  /**
   * A report of the drift repaired since the last one (between catalog runs): the same catalog's identity, a new
   * transaction UUID, only the resources that changed. Undefined when nothing happened.
   */
  async driftReport(): Promise<{ report: PuppetReport; reportError?: string } | undefined> {
    if (this.running || !this.current || this.records.length === 0) return undefined;
    const records = this.records;
    this.records = [];
    const startedAt = Math.min(...records.map((r) => r.at));
    const report = this.report({
      startedAt,
      records,
      logs: [],
      times: {},
      transactionUuid: randomUUID(),
      environment: this.current.catalog.environment ?? this.s.environment,
      cached: false,
      version: this.current.version,
      puppetVersion: await this.puppetVersion(),
    });
    return { report, ...(await this.deliver(report, report.environment)) };
  }

  /** Hands the report to the server and writes the last-run files; a failure to send is logged and returned. */
  private async deliver(report: PuppetReport, environment: string): Promise<{ reportError?: string }> {
    await writeLastRun(report, { lastrunfile: this.s.lastrunfile, lastrunreport: this.s.lastrunreport }, this.s.environment).catch((e: unknown) =>
      this.o.log.warn(`could not write the last-run files (${this.s.lastrunfile}, ${this.s.lastrunreport}): ${errorText(e)}`),
    );
    if (!this.s.report) return {};
    // Reports the server could not take (it was down) go first, oldest first, once it answers again.
    this.undelivered.push({ report, environment });
    if (this.undelivered.length > MAX_UNDELIVERED) this.undelivered.splice(0, this.undelivered.length - MAX_UNDELIVERED);
    try {
      const client = await this.serverClient();
      const held = this.undelivered.length - 1;
      while (this.undelivered.length > 0) {
        const next = this.undelivered[0]!;
        await client.report(this.s.certname, next.environment, next.report);
        this.undelivered.shift();
      }
      if (held > 0) this.o.log.info(`the server answers again: delivered ${held} report(s) held while it was down, and this one`);
      return {};
    } catch (e) {
      const why = errorText(e);
      this.o.log.warn(
        `could not send the report to ${this.s.server}:${this.s.serverport}: ${why} (it is in ${this.s.lastrunreport}; ` +
          `${this.undelivered.length} report(s) are sent when the server answers again)`,
      );
      return { reportError: why };
    }
  }

  private report(r: {
    startedAt: number;
    records: CheckRecord[];
    logs: ReportLog[];
    times: Record<string, number>;
    transactionUuid: string;
    environment: string;
    cached: boolean;
    version: CatalogVersion;
    puppetVersion: string;
  }): PuppetReport {
    const cur = this.current;
    // A resource still failing that was not retried within this run fails in this report too (as it would in
    // every run of Puppet's agent).
    const seen = new Set(r.records.map((x) => x.id));
    const stillFailing: CheckRecord[] = this.engine
      .failures()
      .filter((v) => !seen.has(v.id))
      .map((v) => ({
        id: v.id,
        kind: v.spec.kind,
        name: v.spec.name,
        ...(v.spec.origin ? { origin: v.spec.origin } : {}),
        outcome: 'failed',
        changes: [],
        corrective: false,
        refresh: false,
        at: Date.now(),
        ms: 0,
        error: v.failure?.message ?? 'failing',
      }));
    return puppetReport({
      host: this.s.certname,
      environment: r.environment,
      puppetVersion: r.puppetVersion,
      transactionUuid: r.transactionUuid,
      catalogUuid: r.version.catalogUuid,
      codeId: r.version.codeId ?? null,
      configurationVersion: r.version.version,
      serverUsed: `${this.s.server}:${this.s.serverport}`,
      cachedCatalogStatus: r.cached ? 'on_failure' : 'not_used',
      noop: this.o.noop,
      startedAt: r.startedAt,
      resources: cur?.resources ?? [],
      records: [...r.records, ...stillFailing],
      refOf: (id) => cur?.refs.get(id),
      transactionCompleted: true,
      logs: r.logs,
      times: r.times,
    });
  }

  /** The node's facts, by Puppet (custom facts from pluginsync included), as the catalog request wants them. */
  private async facts(): Promise<unknown> {
    const argv = [this.o.source.puppetBin, 'facts', 'find', this.s.certname, '--render-as', 'json', ...configArgs(this.o.source)];
    const r = await run({ command: { argv }, env: inheritedEnv(), captureStdout: true });
    if (r.code !== 0) throw new Error(`facts: ${argv.join(' ')} failed: ${outputTail(r)}`);
    const facts = JSON.parse(r.stdout?.toString('utf8') ?? '{}') as unknown;
    const version = (facts as { values?: { puppetversion?: unknown } } | null)?.values?.puppetversion;
    if (typeof version === 'string' && version !== '') this.factVersion = version;
    return facts;
  }

  /**
   * The Puppet version reports carry: the last run's `puppetversion` fact (Puppet's own, from the facts each run
   * resolves anyway), or `puppet --version` (asked once) when no run has resolved facts yet.
   */
  private async puppetVersion(): Promise<string> {
    if (this.factVersion !== undefined) return this.factVersion;
    this.askedVersion ??= run({ command: { argv: [this.o.source.puppetBin, '--version'] }, env: inheritedEnv(), captureStdout: true }).then(
      (r) => r.stdout?.toString('utf8').trim() || 'unknown',
      () => 'unknown',
    );
    return this.askedVersion;
  }

  private cachedCatalogPath(): string {
    return join(this.s.client_datadir, 'catalog', `${this.s.certname}.json`);
  }

  private async cacheCatalog(text: string): Promise<void> {
    const p = this.cachedCatalogPath();
    await mkdir(dirname(p), { recursive: true, mode: 0o750 });
    await writeFile(`${p}.tmp`, text, { mode: 0o640 });
    await rename(`${p}.tmp`, p);
  }

  async shutdown(): Promise<void> {
    await this.engine.shutdown();
  }
}

/** The catalog's version, UUID and code id (from its parsed JSON document). */
interface CatalogVersion {
  readonly version: string | number | undefined;
  readonly catalogUuid: string | undefined;
  readonly codeId: string | null | undefined;
}

function catalogVersion(doc: unknown): CatalogVersion {
  if (typeof doc !== 'object' || doc === null) return { version: undefined, catalogUuid: undefined, codeId: undefined };
  const d = doc as { version?: string | number; catalog_uuid?: string; code_id?: string | null };
  return { version: d.version, catalogUuid: d.catalog_uuid, codeId: d.code_id };
}

/** The catalog's resources as the report names them, and which resource each vertex came from. */
function reportResources(catalog: Catalog, spec: GraphSpec): { resources: ReportResource[]; refs: Map<string, string> } {
  const parent = new Map<string, string>();
  for (const e of catalog.edges) parent.set(e.target, e.source);
  const label = (ref: string) => {
    const m = /^Class\[(.*)\]$/.exec(ref);
    return m
      ? m[1]!
          .split('::')
          .map((p) => p.charAt(0).toUpperCase() + p.slice(1))
          .join('::')
      : ref;
  };
  const resources: ReportResource[] = [];
  for (const r of catalog.resources) {
    if (CONTAINERS.has(r.type) || r.exported) continue;
    const ref = refOf(r);
    const path: string[] = [ref];
    const seen = new Set<string>([ref]);
    for (let p = parent.get(ref); p !== undefined && !seen.has(p); p = parent.get(p)) {
      seen.add(p);
      path.unshift(label(p));
    }
    resources.push({ ref, file: r.file, line: r.line, tags: r.tags, containmentPath: path });
  }
  const refs = new Map<string, string>();
  for (const r of spec.resources) if (r.origin) refs.set(`${r.kind}[${r.name}]`, r.origin.ref);
  return { resources, refs };
}

/** `--tags`: the graph with only the resources whose Puppet tags include one of `tags` (and the edges between them). */
function selectTags(spec: GraphSpec, catalog: Catalog, tags: readonly string[]): GraphSpec {
  const want = new Set(tags.map((t) => t.toLowerCase()));
  const tagsOf = new Map(catalog.resources.map((r) => [refOf(r), r.tags]));
  const keep = spec.resources.filter((r) => r.origin !== undefined && (tagsOf.get(r.origin.ref) ?? []).some((t) => want.has(t.toLowerCase())));
  const ids = new Set(keep.map((r) => `${r.kind}[${r.name}]`));
  return { ...spec, resources: keep, edges: spec.edges.filter((e) => ids.has(`${e.from.kind}[${e.from.name}]`) && ids.has(`${e.to.kind}[${e.to.name}]`)) };
}
