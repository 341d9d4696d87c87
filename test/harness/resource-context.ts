/** A ResourceContext for driving one resource directly in unit tests; it records what the resource logs. */
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CheckApplyContext, Resource, ResourceContext, ResourceKind } from '../../src/resources/resource.js';

export interface RecordingContext extends ResourceContext {
  readonly lines: string[];
}

export function recordingContext(id = 'test[x]'): RecordingContext {
  const lines: string[] = [];
  let dir: string | undefined;
  return {
    id,
    hostname: 'testhost',
    lines,
    log: {
      debug: (m) => lines.push(`debug: ${m}`),
      info: (m) => lines.push(`info: ${m}`),
      warn: (m) => lines.push(`warn: ${m}`),
      error: (m) => lines.push(`error: ${m}`),
    },
    async varDir() {
      dir ??= await mkdtemp(join(tmpdir(), 'mgmt-var-'));
      return dir;
    },
  };
}

/**
 * A resource of `kind` made as the engine makes it, once its parameters validate (test resources must be valid);
 * the context records what it logs.
 */
export function validResource(kind: ResourceKind, name: string, params: Readonly<Record<string, unknown>>): { r: Resource; ctx: RecordingContext } {
  assert.deepEqual(kind.validate?.(name, params) ?? [], [], `${kind.kind}[${name}]: test resources must be valid`);
  const ctx = recordingContext(`${kind.kind}[${name}]`);
  return { r: kind.create(name, params, ctx), ctx };
}

/** Calls checkApply with the usual flags. */
export function check(r: Resource, opts: Partial<CheckApplyContext> = {}): Promise<boolean> {
  return r.checkApply({ apply: true, refresh: false, signal: new AbortController().signal, ...opts });
}

/**
 * Starts a resource's watch and counts its events; resolves at its first event (a watch says it is ready with one:
 * a kind's code may be loaded first, see deferred-resource.ts), and rejects if the watch ends or fails before.
 * `stop()` aborts it and waits for it to end.
 */
export async function startWatch(r: Resource): Promise<{ events: () => number; next: (timeoutMs?: number) => Promise<void>; stop: () => Promise<void> }> {
  const ac = new AbortController();
  let count = 0;
  let waiters: (() => void)[] = [];
  const first = new Promise<void>((resolve) => waiters.push(resolve));
  const done = r.watch({
    signal: ac.signal,
    event: () => {
      count++;
      const w = waiters;
      waiters = [];
      for (const f of w) f();
    },
  });
  await Promise.race([
    first,
    done.then(() => {
      throw new Error('the watch ended before its first event');
    }),
  ]);
  return {
    events: () => count,
    next: (timeoutMs = 2000) =>
      new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no watch event within ${timeoutMs} ms`)), timeoutMs);
        waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      }),
    stop: async () => {
      ac.abort();
      await done;
    },
  };
}
