/**
 * The `puppet` fallback kind: a Puppet resource that mgmt-ts cannot translate natively, checked and applied by
 * Puppet itself through the shared long-lived worker (src/puppet/runtime/worker.ts). It keeps its edges like any
 * vertex; it has no native watch, so after the first check it is re-checked on the `meta.poll` ticks (the
 * translator sets Puppet's runinterval). It belongs to the Puppet front door, not to the core kinds: a front door
 * that runs graphs which may hold Puppet resources hands the engine `withPuppetKind(registry)`.
 */
import type { ParamsOf } from '../resources/params.js';
import type { Registry } from '../resources/registry.js';
import { type Change, defineKind, type Problem } from '../resources/resource.js';
import { untilAborted } from '../system/proc/abort.js';
import { errorText } from '../observe/errors.js';
import { REDACTED, Redactor, secretStrings } from '../observe/redact.js';
import { getPuppetWorker, type WorkerOp, type WorkerReply } from './runtime/worker.js';

const params = {
  type: {
    type: 'string',
    pattern: '^[A-Za-z][A-Za-z0-9_]*(::[A-Za-z][A-Za-z0-9_]*)*$',
    required: 'the Puppet resource type, such as Tidy',
    doc: 'The Puppet resource type, as the catalog spells it (`Tidy`, `Mgmt::Thing`).',
  },
  title: {
    type: 'string',
    required: "the resource's Puppet title",
    doc: "The resource's Puppet title; Puppet fills the namevar from it when `parameters` leaves it out.",
  },
  parameters: {
    type: 'json',
    doc: 'The explicit Puppet parameters as a JSON object, values as in the catalog document (`{"__binary": ...}` for binary data); relationship metaparams (`before`, `require`, `notify`, `subscribe`, `stage`) are not allowed: they are edges.',
  },
  sensitive: { type: 'string[]', doc: 'Names of the parameters whose values are Sensitive: Puppet redacts them, and mgmt never logs their values.' },
  companions: {
    type: 'json',
    doc: 'Other resources applied in the same Puppet catalog, each `{type, title, parameters, sensitive}`, for a resource that only works together with them (a `Concat_file` with its `Concat_fragment`s); what the resources generate counts as this resource’s state.',
  },
} as const;

export type PuppetParams = ParamsOf<typeof params>;

const RELATIONSHIP_METAPARAMS = ['before', 'require', 'notify', 'subscribe', 'stage'];
/** Types whose RAL resource has `refresh` (for noop's "would refresh"; under apply the worker tells). */
const REFRESHABLE_TYPES = new Set(['exec', 'service', 'mount', 'package', 'ini_setting']);
const VALUE_MAX = 200;

export const puppetKind = defineKind({
  kind: 'puppet',
  doc: "Fallback for Puppet resources without a native translation: Puppet itself checks (in noop mode) and applies the resource `type`/`title` with `parameters`, through one long-lived Puppet worker process shared by every `puppet` vertex. The vertex name is conventionally `Type[title]`. It has no native watch: it is checked once at start and then on each `meta.poll` tick (the Puppet translator sets Puppet's runinterval). It is refreshable: a refresh over a notify edge calls Puppet's own refresh for the types that have one (Exec, Service, Mount, Package), after the state has been checked and applied. Values of the parameters named in `sensitive` are never logged. Cancelling or timing out (`meta.timeout`) a check or apply kills the Puppet worker (and what it runs); the next request starts a new one.",
  params,
  refreshable: true,
  reach: { touches: ['system'], collect: 'explicit' },
  validate: (_name, p) => {
    const out: Problem[] = [];
    if (p.type.trim() === '') out.push({ param: 'type', message: 'the Puppet resource `type` is empty: set it to the Puppet resource type, such as Tidy' });
    if (p.title === '') out.push({ param: 'title', message: "the Puppet resource `title` is empty: set it to the resource's Puppet title" });
    if (p.parameters !== undefined) {
      if (!isObject(p.parameters)) {
        out.push({ param: 'parameters', message: `\`parameters\` must be an object of Puppet parameters, got ${describeJson(p.parameters)}` });
      } else {
        const rel = RELATIONSHIP_METAPARAMS.filter((k) => k in (p.parameters as Record<string, unknown>));
        if (rel.length > 0) {
          out.push({
            param: 'parameters',
            message: `\`parameters\` must not contain the relationship metaparams ${rel.join(', ')}: express them as edges`,
          });
        }
      }
    }
    if (p.companions !== undefined) {
      const ok = Array.isArray(p.companions) && p.companions.every((c) => isObject(c) && typeof c.type === 'string' && typeof c.title === 'string');
      if (!ok) out.push({ param: 'companions', message: '`companions` must be a list of {type, title, parameters, sensitive} objects' });
    }
    return out;
  },
  // A Puppet File (or Concat_file, which makes one) manages its path: a native purge of a directory above leaves it
  // alone. Puppet itself lets another type manage the same path (File and Concat_file on one path), so it shares it.
  autoEdges: (_name, p) => {
    const t = p.type.toLowerCase();
    if (t !== 'file' && t !== 'concat_file') return {};
    const given = isObject(p.parameters) ? p.parameters.path : undefined;
    const path = typeof given === 'string' ? given : p.title;
    return path.startsWith('/') ? { manages: [path.length > 1 ? path.replace(/\/+$/, '') : path], sharesPath: true } : {};
  },
  create: (_name, p, ctx) => {
    const { type, title } = p;
    const parameters = isObject(p.parameters) ? p.parameters : {};
    const sensitive = new Set(p.sensitive ?? []);
    const resource = { type, title, parameters, sensitive: [...sensitive] };
    const ref = `${type}[${title}]`;
    const companions = Array.isArray(p.companions) ? p.companions.filter(isObject) : [];
    const companionSecrets = companions.flatMap((c) => {
      const params = isObject(c.parameters) ? c.parameters : {};
      return (Array.isArray(c.sensitive) ? c.sensitive : []).flatMap((k) => secretStrings(params[String(k)]));
    });
    const secrets = [...[...sensitive].flatMap((k) => secretStrings(parameters[k])), ...companionSecrets];
    const redactor = new Redactor(secrets);
    const clean = (text: string) => redactor.text(text);
    const timeoutMs = requestTimeout(type, parameters);
    const worker = getPuppetWorker();
    worker.acquire();
    let released = false;
    /** Learnt from the worker: this type has no refresh. */
    let noRefresh = false;

    const call = async (op: WorkerOp, signal: AbortSignal): Promise<WorkerReply> => {
      try {
        return await worker.request(op, companions.length ? { resource, companions } : { resource }, { signal, secrets, timeoutMs });
      } catch (e) {
        throw new Error(clean(errorText(e)), { cause: e });
      }
    };
    const failure = (op: string, reply: WorkerReply): Error => {
      const e = reply.error;
      const where = e?.file ? ` (${e.file}${e.line ? `:${e.line}` : ''})` : '';
      return new Error(clean(`Puppet could not ${op} ${ref}: ${e?.message ?? 'it failed without a message'}${where}`));
    };
    /** `ensure absent -> file`; sensitive values are never shown. */
    const change = (c: Record<string, unknown>): string => {
      // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a value read from JSON, D-Bus or a manifest; String() keeps its text whatever its shape
      const prop = String(c.property ?? '?');
      if (sensitive.has(prop)) return `${prop} ${REDACTED}`;
      return clean(`${prop} ${show(c.previous)} -> ${show(c.desired)}`);
    };

    return {
      async watch(w) {
        w.event();
        await untilAborted(w.signal);
      },

      async checkApply(c) {
        const checked = await call('check', c.signal);
        if (checked.error || checked.failed === true) throw failure('check', checked);
        let ok = checked.in_sync === true;
        if (!ok) {
          const changes = records(checked.changes);
          if (!c.apply) {
            if (changes.length === 0) ctx.log.info(`would change ${clean(ref)}`);
            for (const ch of changes) {
              ctx.log.info(`would change ${change(ch)}`);
              c.change?.(puppetChange(ch, `would change ${change(ch)}`));
            }
            if (c.refresh && REFRESHABLE_TYPES.has(type.toLowerCase())) ctx.log.info('would refresh');
            return false;
          }
          const applied = await call('apply', c.signal);
          if (applied.error || applied.failed === true) throw failure('apply', applied);
          for (const ev of records(applied.events)) {
            // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a value read from JSON, D-Bus or a manifest; String() keeps its text whatever its shape
            const status = String(ev.status ?? '');
            if (status === 'success') {
              ctx.log.info(`changed ${change(ev)}`);
              c.change?.(puppetChange(ev, typeof ev.message === 'string' ? ev.message : `changed ${change(ev)}`));
            } else ctx.log.debug(`${status || 'event'}: ${change(ev)}`);
          }
          ok = applied.changed !== true;
          if (ok) ctx.log.debug(`Puppet changed nothing: ${clean(ref)} was already in sync`);
        } else {
          ctx.log.debug('in sync');
        }
        if (c.refresh && !noRefresh) {
          if (!c.apply) {
            if (REFRESHABLE_TYPES.has(type.toLowerCase())) {
              ctx.log.info('would refresh');
              return false;
            }
            return ok;
          }
          const r = await call('refresh', c.signal);
          if (r.refreshed === true) {
            ctx.log.info('refreshed');
            return false;
          }
          if (r.error?.message.includes('does not support refresh')) {
            noRefresh = true;
            ctx.log.debug(`${type} has no refresh: refresh ignored`);
          } else {
            throw failure('refresh', r);
          }
        }
        return ok;
      },

      async cleanup() {
        if (released) return;
        released = true;
        await worker.release();
      },
    };
  },
});

/** `registry` with the `puppet` fallback kind added. */
export function withPuppetKind(registry: Registry): Registry {
  return registry.with(puppetKind);
}

/**
 * The worker's deadline for this resource's requests: the client's defaults (60 s check, 120 s apply), except
 * for an Exec, which Puppet itself lets run (and its guards) for its `timeout` (300 s by default): that plus a
 * margin, so that Puppet reports its own timeout first.
 */
function requestTimeout(type: string, parameters: Record<string, unknown>): number | undefined {
  if (type.toLowerCase() !== 'exec') return undefined;
  const t = Number(parameters.timeout ?? 300);
  const seconds = Number.isFinite(t) && t > 0 ? t : 24 * 3600; // 0: no timeout in Puppet; still not forever here
  return Math.max(120_000, seconds * 1000 + 30_000);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describeJson(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return `a ${typeof v}`;
}

/** A change Puppet reported (its property and values; Sensitive ones already the redaction marker) as a change record. */
function puppetChange(ev: Record<string, unknown>, message: string): Change {
  return {
    property: typeof ev.property === 'string' ? ev.property : 'state',
    ...(ev.previous !== undefined && ev.previous !== null ? { previous: ev.previous } : {}),
    ...(ev.desired !== undefined && ev.desired !== null ? { desired: ev.desired } : {}),
    message,
  };
}

function records(v: unknown): Record<string, unknown>[] {
  return Array.isArray(v) ? v.filter(isObject) : [];
}

/** A property value for a log line: strings as they are (quoted when they contain spaces or newlines). */
function show(v: unknown): string {
  if (v === null || v === undefined) return 'absent';
  let s = typeof v === 'string' ? (/[\s"]/.test(v) || v === '' ? JSON.stringify(v) : v) : JSON.stringify(v);
  if (s.length > VALUE_MAX) s = `${s.slice(0, VALUE_MAX)}...`;
  return s;
}
