/**
 * Push instead of polling: `mgmt puppet deploy --environment E` (run by CI after r10k deployed the code) writes one
 * key in etcd; every `mgmt puppet agent` of that environment watching it fetches its catalog within seconds. So that
 * the Puppet Server is not stampeded, each agent first waits a jitter (a random share of the deploy's window), then
 * takes one of the deploy's `concurrency` slots (an etcd key created only if absent, on a lease: a host that dies
 * frees its slot one TTL later) for the length of its run.
 */
import { randomUUID } from 'node:crypto';
import { Etcd3, type IOptions } from 'etcd3';
import { errorText } from '../observe/errors.js';
import type { Logger } from '../observe/logger.js';

const ROOT = '/_mgmt/puppet-deploy/';
const SLOT_TTL_S = 120;

export interface Deploy {
  readonly id: string;
  readonly environment: string;
  /** Date.now() when it was published. */
  readonly at: number;
  /** At most this many agents fetch at a time. */
  readonly concurrency: number;
  /** Each agent waits a random delay below this before it asks for a slot. */
  readonly jitterMs: number;
}

const deployKey = (env: string) => `${ROOT}deploy/${env}`;
const slotKey = (env: string, id: string, i: number) => `${ROOT}slots/${env}/${id}/${i}`;

export function deployClient(seeds: readonly string[]): Etcd3 {
  const options: IOptions = { hosts: seeds.map((s) => s.replace(/^etcd:\/\//, 'http://')) };
  return new Etcd3(options);
}

/** Publishes a deploy of `environment`; returns it. */
export async function publishDeploy(client: Etcd3, environment: string, o: { concurrency: number; jitterMs: number }): Promise<Deploy> {
  const d: Deploy = { id: randomUUID(), environment, at: Date.now(), concurrency: o.concurrency, jitterMs: o.jitterMs };
  await client.put(deployKey(environment)).value(JSON.stringify(d));
  return d;
}

function parseDeploy(text: string, environment: string): Deploy | undefined {
  try {
    const d = JSON.parse(text) as Partial<Deploy>;
    if (typeof d.id !== 'string' || d.environment !== environment) return undefined;
    const concurrency = Number.isInteger(d.concurrency) && (d.concurrency ?? 0) > 0 ? d.concurrency! : 1;
    const jitterMs = Math.min(Math.max(Number(d.jitterMs) || 0, 0), 600_000);
    return { id: d.id, environment, at: Number(d.at) || Date.now(), concurrency: Math.min(concurrency, 1000), jitterMs };
  } catch {
    return undefined;
  }
}

/**
 * Calls `onDeploy` for each deploy of `environment` published after the watch started. Returns a function that
 * stops the watch.
 */
export async function watchDeploys(client: Etcd3, environment: string, onDeploy: (d: Deploy) => void, log: Logger): Promise<() => Promise<void>> {
  const w = await client.watch().key(deployKey(environment)).create();
  w.on('put', (kv) => {
    const d = parseDeploy(kv.value.toString('utf8'), environment);
    if (d) onDeploy(d);
    else log.warn(`ignored a malformed deploy under ${deployKey(environment)}`);
  });
  w.on('error', (e: unknown) => log.warn(`deploy watch: ${errorText(e)} (the client reconnects)`));
  return () => w.cancel();
}

/**
 * Runs `fn` after the deploy's jitter, holding one of its slots: at most `concurrency` hosts run at once. A slot is
 * an etcd key created only if absent, on a lease; when none is free, it waits for one to be deleted.
 */
export async function inDeploySlot<T>(client: Etcd3, d: Deploy, host: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  await new Promise((r) => setTimeout(r, Math.random() * d.jitterMs));
  const lease = client.lease(SLOT_TTL_S, { autoKeepAlive: true });
  try {
    for (;;) {
      for (let i = 0; i < d.concurrency; i++) {
        const key = slotKey(d.environment, d.id, i);
        const r = await client.if(key, 'Create', '==', 0).then(lease.put(key).value(host)).commit();
        if (r.succeeded) {
          try {
            return await fn();
          } finally {
            await client.delete().key(key);
          }
        }
      }
      if (signal?.aborted) throw new Error('stopped while waiting for a deploy slot');
      // Every slot is held: wait until one is freed (or a bounded while, in case the event is missed).
      const watcher = await client.watch().prefix(`${ROOT}slots/${d.environment}/${d.id}/`).create();
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 5000);
        watcher.on('delete', () => {
          clearTimeout(t);
          resolve();
        });
      });
      await watcher.cancel();
    }
  } finally {
    await lease.revoke().catch(() => undefined);
  }
}
