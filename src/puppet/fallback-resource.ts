/**
 * What a puppet fallback resource does on the system (the kind, its parameters and checks: fallback-kind.ts): has the
 * shared long-lived Puppet worker check and apply the resource, and reports Puppet's events as changes.
 */
import { REFRESHABLE_TYPES, isObject, type PuppetParams } from './fallback-kind.js';
import { untilAborted } from '../system/proc/abort.js';
import { errorText } from '../observe/errors.js';
import { REDACTED, Redactor, secretStrings } from '../observe/redact.js';
import { getPuppetWorker, type WorkerOp, type WorkerReply } from './runtime/worker.js';
import { type Change, type Resource, type ResourceContext } from '../resources/resource.js';

const VALUE_MAX = 200;

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

export function puppetResource(_name: string, p: PuppetParams, ctx: ResourceContext): Resource {
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
}
