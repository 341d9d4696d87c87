/**
 * The etcd world, run in a worker thread (etcd-thread.ts). Loading the etcd3 client (gRPC, protobufjs, etcd's
 * .proto files) costs a few hundred milliseconds of CPU; in a thread started first thing, that work overlaps
 * with the main thread loading and applying the local graph, and a host reaches etcd sooner. The main thread
 * sees the same World interface; resources cross the thread boundary as plain data.
 */
import { Worker } from 'node:worker_threads';
import type { ResourceSpec } from '../graph/spec.js';
import type { Logger } from '../observe/logger.js';
import type { EtcdWorldOptions } from './etcd-world.js';
import type { FromThread, ToThread } from './etcd-thread.js';
import { type Exported, ofKinds, toExported, type World } from './world.js';

interface Watch {
  readonly kinds: readonly string[];
  readonly onChange: (resources: readonly Exported[]) => void;
}

export class ThreadedWorld implements World {
  readonly kind = 'etcd';
  private readonly worker: Worker;
  private readonly watches = new Set<Watch>();
  private latest: readonly Exported[] | undefined;
  private sentKinds = '';
  private closing: Promise<void> | undefined;
  private dead = false;

  /** Starts the thread, which loads the client at once; nothing connects before `start`. */
  constructor(
    readonly hostname: string,
    private readonly log: Logger,
  ) {
    this.worker = new Worker(new URL('./etcd-thread.js', import.meta.url));
    this.worker.on('message', (m: FromThread) => this.onMessage(m));
    this.worker.on('error', (e) => {
      this.dead = true;
      this.log.error(
        `the etcd thread failed: ${e.stack ?? e.message}; exported resources are neither published nor collected from now on (collected ones stay)`,
      );
    });
  }

  /** Connects (and keeps reconnecting) to the cluster. */
  start(options: Omit<EtcdWorldOptions, 'log' | 'hostname'>): void {
    this.send({ type: 'start', options: { ...options, hostname: this.hostname } });
  }

  /** The client URLs to use from now on (a self-formed cluster's members that answer). */
  setEndpoints(seeds: readonly string[]): void {
    this.send({ type: 'endpoints', seeds: [...seeds] });
  }

  publish(resources: readonly ResourceSpec[]): void {
    // Plain data only (positions and parameter positions stay here).
    const plain = resources.map((r) => {
      const e = toExported(this.hostname, r);
      return {
        kind: e.kind,
        name: e.name,
        params: e.params,
        meta: e.meta,
        ...(e.origin ? { origin: e.origin } : {}),
      };
    });
    this.send({ type: 'publish', resources: plain });
  }

  watch(kinds: readonly string[], onChange: (resources: readonly Exported[]) => void): () => void {
    const w: Watch = { kinds: [...kinds], onChange };
    this.watches.add(w);
    this.sendKinds();
    const latest = this.latest;
    if (latest) queueMicrotask(() => this.watches.has(w) && onChange(ofKinds(latest, w.kinds)));
    return () => {
      this.watches.delete(w);
      this.sendKinds();
    };
  }

  close(): Promise<void> {
    return (this.closing ??= (async () => {
      this.watches.clear();
      if (!this.dead) {
        const closed = new Promise<void>((resolve) => {
          const t = setTimeout(resolve, 4000);
          this.worker.on('message', (m: FromThread) => {
            if (m.type === 'closed') {
              clearTimeout(t);
              resolve();
            }
          });
          this.worker.once('exit', () => {
            clearTimeout(t);
            resolve();
          });
        });
        this.send({ type: 'close' });
        await closed;
      }
      await this.worker.terminate();
    })());
  }

  private sendKinds(): void {
    const kinds = [...new Set([...this.watches].flatMap((w) => w.kinds))].sort();
    const key = kinds.join(',');
    if (key === this.sentKinds) return;
    this.sentKinds = key;
    this.send({ type: 'kinds', kinds });
  }

  private send(m: ToThread): void {
    if (!this.dead) this.worker.postMessage(m);
  }

  private onMessage(m: FromThread): void {
    if (m.type === 'log') this.log[m.level](m.message);
    else if (m.type === 'exports') {
      this.latest = m.resources;
      for (const w of this.watches) w.onChange(ofKinds(m.resources, w.kinds));
    }
  }
}
