/**
 * A run report in Puppet 7's format (`report_format` 12, the JSON body of `PUT /puppet/v3/report/<node>` that the
 * server's report processors — store, http, puppetdb — read as an agent's), built from the engine's change
 * records (src/engine/check-record.ts). Field names, metric names and labels, the status rule and the counting
 * rules follow Puppet's report model (anchors §4): a resource status per catalog resource, keyed `Type[title]`;
 * events per change (`success`, `noop`, `failure`); metrics `resources`, `time`, `changes`, `events`, each a list
 * of `[name, label, value]` in Puppet's order. Puppet's agent also lists its built-in `Schedule` and `Filebucket`
 * resources, which a catalog does not hold; this report lists the catalog's resources only.
 */
import type { CheckRecord, RecordedChange } from '../engine/check-record.js';

export const REPORT_FORMAT = 12;

/** A resource of the applied catalog, as the report names it. */
export interface ReportResource {
  /** `Type[title]`, Puppet's capitalisation (`File[/etc/motd]`). */
  readonly ref: string;
  readonly file?: string | undefined;
  readonly line?: number | undefined;
  readonly tags?: readonly string[];
  /** From the stage down to the resource: `['Stage[main]', 'Main', 'File[/etc/motd]']` (default: stage and resource). */
  readonly containmentPath?: readonly string[];
  /** What applied it: our kind (`file`), or `puppet` for a resource Puppet applies. */
  readonly provider?: string;
}

/** One line of the run's log, as the report carries it. */
export interface ReportLog {
  readonly level: 'debug' | 'info' | 'notice' | 'warning' | 'err';
  readonly message: string;
  readonly source: string;
  readonly time: number;
  readonly tags?: readonly string[];
  readonly file?: string | undefined;
  readonly line?: number | undefined;
}

export interface ReportInput {
  /** The node's certname. */
  readonly host: string;
  readonly environment: string;
  readonly initialEnvironment?: string;
  readonly puppetVersion: string;
  readonly transactionUuid: string;
  readonly catalogUuid?: string | undefined;
  readonly codeId?: string | null | undefined;
  readonly jobId?: string | undefined;
  readonly configurationVersion?: string | number | undefined;
  /** `host:port` of the server the catalog came from. */
  readonly serverUsed?: string | undefined;
  /** `not_used`, `explicitly_requested`, `on_failure` (the server was down and the cached catalog ran). */
  readonly cachedCatalogStatus?: 'not_used' | 'explicitly_requested' | 'on_failure';
  readonly noop: boolean;
  /** Date.now() when the run began. */
  readonly startedAt: number;
  /** Every resource of the applied catalog. */
  readonly resources: readonly ReportResource[];
  /** The change records of the run. */
  readonly records: readonly CheckRecord[];
  /** The catalog resource a record (or a change's autogroup member, `kind[member]`) belongs to. */
  readonly refOf: (id: string) => string | undefined;
  /** Resources not evaluated because a dependency failed (`Type[title]`). */
  readonly skipped?: readonly string[];
  /** The run reached the end of the catalog (false: it was cut short, the report says `failed`). */
  readonly transactionCompleted: boolean;
  /** The run's own log lines (before the per-event ones the report adds). */
  readonly logs?: readonly ReportLog[];
  /** Seconds per phase: fact_generation, plugin_sync, node_retrieval, config_retrieval, convert_catalog, ... */
  readonly times?: Readonly<Record<string, number>>;
}

export interface PuppetEvent {
  audited: boolean;
  property: string | null;
  previous_value: unknown;
  desired_value: unknown;
  historical_value: unknown;
  message: string;
  name: string;
  status: 'success' | 'failure' | 'noop' | 'audit';
  time: string;
  redacted: boolean | null;
  corrective_change: boolean;
}

export interface PuppetResourceStatus {
  title: string;
  file: string | null;
  line: number | null;
  resource: string;
  resource_type: string;
  provider_used: string | null;
  containment_path: string[];
  evaluation_time: number;
  tags: string[];
  time: string;
  failed: boolean;
  failed_to_restart: boolean;
  changed: boolean;
  out_of_sync: boolean;
  skipped: boolean;
  change_count: number;
  out_of_sync_count: number;
  events: PuppetEvent[];
  corrective_change: boolean;
}

export interface PuppetMetric {
  name: string;
  label: string;
  values: [string, string, number][];
}

export interface PuppetReport {
  host: string;
  time: string;
  configuration_version: string | number | null;
  transaction_uuid: string;
  report_format: number;
  puppet_version: string;
  status: 'failed' | 'changed' | 'unchanged';
  transaction_completed: boolean;
  noop: boolean;
  noop_pending: boolean;
  environment: string;
  logs: { level: string; message: string; source: string; tags: string[]; time: string; file: string | null; line: number | null }[];
  metrics: Record<'resources' | 'time' | 'changes' | 'events', PuppetMetric>;
  resource_statuses: Record<string, PuppetResourceStatus>;
  corrective_change: boolean;
  server_used?: string;
  catalog_uuid?: string;
  code_id?: string | null;
  job_id?: string;
  cached_catalog_status?: string;
}

/** Ruby's `Time#iso8601(9)` for a UTC time: `2026-12-06T15:33:36.957000000+00:00`. */
export function puppetTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000000+00:00');
}

/** Puppet's metric label: `failed_to_restart` → `Failed to restart`. */
export function metricLabel(name: string): string {
  const s = name.replace(/_/g, ' ');
  return s.charAt(0).toUpperCase() + s.slice(1).toLowerCase();
}

/** A metric with its values in the order they were added (as Puppet's report carries them; its summary sorts them). */
function metric(name: string, values: Readonly<Record<string, number>>): PuppetMetric {
  return { name, label: metricLabel(name), values: Object.entries(values).map(([k, v]) => [k, metricLabel(k), v]) };
}

/** `File[/etc/motd]` → `['File', '/etc/motd']`. */
export function splitRef(ref: string): [string, string] {
  const i = ref.indexOf('[');
  return i > 0 && ref.endsWith(']') ? [ref.slice(0, i), ref.slice(i + 1, -1)] : [ref, ref];
}

/** Our property names where Puppet's differ (presence is `ensure` in every Puppet type). */
function puppetProperty(property: string): string {
  return property === 'state' ? 'ensure' : property;
}

const quoted = (v: unknown) => (typeof v === 'string' ? `'${v}'` : JSON.stringify(v));

/** The event message Puppet would print for this change, where the record has both values; else the kind's own. */
function eventMessage(c: RecordedChange, property: string, status: 'success' | 'noop'): string {
  if (c.previous === undefined || c.desired === undefined) return c.message;
  if (status === 'noop') return `current_value ${quoted(c.previous)}, should be ${quoted(c.desired)} (noop)`;
  if (property === 'ensure' && c.previous === 'absent') return `created`;
  if (property === 'ensure' && c.desired === 'absent') return `removed`;
  return `${property} changed ${quoted(c.previous)} to ${quoted(c.desired)}`;
}

function eventName(type: string, property: string, c: RecordedChange): string {
  if (property === 'ensure') {
    if (c.previous === 'absent') return `${type.toLowerCase()}_created`;
    if (c.desired === 'absent') return `${type.toLowerCase()}_removed`;
  }
  return `${property}_changed`;
}

/** Builds the report. Pure: the same input gives the same report. */
export function puppetReport(input: ReportInput): PuppetReport {
  const statuses = new Map<string, PuppetResourceStatus>();
  const statusOf = (r: ReportResource): PuppetResourceStatus => {
    let s = statuses.get(r.ref);
    if (!s) {
      const [type, title] = splitRef(r.ref);
      s = {
        title,
        file: r.file ?? null,
        line: r.line ?? null,
        resource: r.ref,
        resource_type: type,
        provider_used: r.provider ?? null,
        containment_path: [...(r.containmentPath ?? ['Stage[main]', r.ref])],
        evaluation_time: 0,
        tags: [...(r.tags ?? [type.toLowerCase()])],
        time: puppetTime(input.startedAt),
        failed: false,
        failed_to_restart: false,
        changed: false,
        out_of_sync: false,
        skipped: false,
        change_count: 0,
        out_of_sync_count: 0,
        events: [],
        corrective_change: false,
      };
      statuses.set(r.ref, s);
    }
    return s;
  };
  const known = new Map(input.resources.map((r) => [r.ref, r]));
  for (const r of input.resources) statusOf(r);
  const timed = new Set<PuppetResourceStatus>();

  for (const rec of input.records) {
    const defaultRef = input.refOf(rec.id) ?? rec.origin?.ref ?? rec.id;
    const touched = new Set<PuppetResourceStatus>();
    const add = (ref: string, ev: PuppetEvent) => {
      const s = statusOf(known.get(ref) ?? { ref, file: rec.origin?.file, line: rec.origin?.line, provider: rec.kind });
      s.events.push(ev);
      // Puppet's counting (Resource::Status#add_event): a failure fails the resource, a success changes it,
      // anything not audited is out of sync.
      if (ev.status === 'failure') s.failed = true;
      else if (ev.status === 'success') {
        s.change_count++;
        s.changed = true;
      }
      if (ev.status !== 'audit') {
        s.out_of_sync_count++;
        s.out_of_sync = true;
      }
      if (ev.corrective_change) s.corrective_change = true;
      touched.add(s);
    };
    const time = puppetTime(rec.at);
    if (rec.outcome === 'failed') {
      add(defaultRef, {
        audited: false,
        property: null,
        previous_value: null,
        desired_value: null,
        historical_value: null,
        message: `Could not evaluate: ${rec.error ?? 'failed'}`,
        name: 'resource_error',
        status: 'failure',
        time,
        redacted: null,
        corrective_change: false,
      });
    }
    for (const c of rec.changes) {
      const ref = (c.member !== undefined ? input.refOf(`${rec.kind}[${c.member}]`) : undefined) ?? defaultRef;
      const [type] = splitRef(ref);
      const property = puppetProperty(c.property);
      const status = rec.outcome === 'noop' ? 'noop' : 'success';
      if (rec.outcome === 'failed') continue; // what a failed run recorded before it failed is not applied
      add(ref, {
        audited: false,
        property,
        previous_value: c.previous ?? null,
        desired_value: c.desired ?? null,
        historical_value: null,
        message: eventMessage(c, property, status),
        name: eventName(type, property, c),
        status,
        time,
        redacted: c.redacted === true ? true : null,
        corrective_change: rec.corrective,
      });
    }
    for (const s of touched) {
      s.evaluation_time += rec.ms / 1000 / touched.size;
      if (!timed.has(s)) {
        s.time = time;
        timed.add(s);
      }
    }
  }
  for (const ref of input.skipped ?? []) {
    const s = statuses.get(ref);
    if (s && !s.failed) s.skipped = true;
  }

  const all = [...statuses.values()];
  const count = (f: (s: PuppetResourceStatus) => boolean) => all.filter(f).length;
  const resources = {
    total: all.length,
    skipped: count((s) => s.skipped),
    failed: count((s) => s.failed),
    failed_to_restart: count((s) => s.failed_to_restart),
    restarted: 0,
    changed: count((s) => s.changed),
    out_of_sync: count((s) => s.out_of_sync),
    scheduled: 0,
    corrective_change: count((s) => s.corrective_change),
  };
  const events: Record<string, number> = { total: 0, failure: 0, success: 0 };
  for (const s of all) {
    for (const e of s.events) {
      events.total = (events.total ?? 0) + 1;
      events[e.status] = (events[e.status] ?? 0) + 1;
    }
  }
  const changes = all.reduce((n, s) => n + s.change_count, 0);
  const time: Record<string, number> = {};
  for (const s of all) if (s.evaluation_time > 0) time[s.resource_type.toLowerCase()] = (time[s.resource_type.toLowerCase()] ?? 0) + s.evaluation_time;
  for (const [k, v] of Object.entries(input.times ?? {})) time[k.toLowerCase()] = v;

  const status = !input.transactionCompleted || resources.failed > 0 || resources.failed_to_restart > 0 ? 'failed' : changes > 0 ? 'changed' : 'unchanged';
  const logs = [...(input.logs ?? [])];
  for (const s of all) {
    const path = `/${[...s.containment_path.filter((p) => p !== s.resource), s.resource].join('/')}`;
    for (const e of s.events) {
      logs.push({
        level: e.status === 'failure' ? 'err' : 'notice',
        message: e.message,
        source: e.property ? `${path}/${e.property}` : path,
        time: Date.parse(e.time),
        tags: s.tags,
        file: s.file ?? undefined,
        line: s.line ?? undefined,
      });
    }
  }
  logs.sort((a, b) => a.time - b.time);

  const report: PuppetReport = {
    host: input.host,
    time: puppetTime(input.startedAt),
    configuration_version: input.configurationVersion ?? null,
    transaction_uuid: input.transactionUuid,
    report_format: REPORT_FORMAT,
    puppet_version: input.puppetVersion,
    status,
    transaction_completed: input.transactionCompleted,
    noop: input.noop,
    noop_pending: all.some((s) => s.events.some((e) => e.status === 'noop')),
    environment: input.environment,
    logs: logs.map((l) => ({
      level: l.level,
      message: l.message,
      source: l.source,
      tags: [...(l.tags ?? [l.level])],
      time: puppetTime(l.time),
      file: l.file ?? null,
      line: l.line ?? null,
    })),
    metrics: {
      resources: metric('resources', resources),
      time: metric('time', time),
      changes: metric('changes', { total: changes }),
      events: metric('events', events),
    },
    resource_statuses: Object.fromEntries(all.map((s) => [s.resource, s])),
    corrective_change: all.some((s) => s.corrective_change),
  };
  if (input.serverUsed !== undefined) report.server_used = input.serverUsed;
  if (input.catalogUuid !== undefined) report.catalog_uuid = input.catalogUuid;
  if (input.codeId !== undefined) report.code_id = input.codeId;
  if (input.jobId !== undefined) report.job_id = input.jobId;
  if (input.cachedCatalogStatus !== undefined) report.cached_catalog_status = input.cachedCatalogStatus;
  return report;
}

/** `--detailed-exitcodes`: 2 for changes, 4 for failures, 6 for both, 0 for neither (Puppet's exit_status). */
export function detailedExitCode(r: PuppetReport): number {
  const value = (m: PuppetMetric, k: string) => m.values.find((v) => v[0] === k)?.[2] ?? 0;
  let code = 0;
  if (value(r.metrics.changes, 'total') > 0) code |= 2;
  if (value(r.metrics.resources, 'failed') > 0 || value(r.metrics.resources, 'failed_to_restart') > 0) code |= 4;
  return code;
}
