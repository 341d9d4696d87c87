/**
 * The worker thread behind ThreadedWorld (threaded-world.ts): loads the etcd3 client as soon as the thread
 * starts (in parallel with the main thread loading and applying the local graph), then runs an EtcdWorld on
 * the main thread's word. Protocol, main → worker: `start` (with the options), `publish`, `kinds`, `endpoints`
 * (the cluster's members that answer, `--cluster`), `close`;
 * worker → main: `exports` (every export of the watched kinds, after each change), `log`, `closed`.
 */
import { parentPort } from 'node:worker_threads';
import type { ResourceSpec } from '../graph/spec.js';
import type { Logger } from '../observe/logger.js';
import { EtcdWorld, type EtcdWorldOptions, loadClient } from './etcd-world.js';
import type { Exported } from './world.js';
import { errorText } from '../observe/errors.js';

export type ToThread =
  | { readonly type: 'start'; readonly options: Omit<EtcdWorldOptions, 'log'> }
  | { readonly type: 'publish'; readonly resources: readonly ResourceSpec[] }
  | { readonly type: 'kinds'; readonly kinds: readonly string[] }
  | { readonly type: 'endpoints'; readonly seeds: readonly string[] }
  | { readonly type: 'close' };

export type FromThread =
  | { readonly type: 'exports'; readonly resources: readonly Exported[] }
  | { readonly type: 'log'; readonly level: keyof Logger; readonly message: string }
  | { readonly type: 'closed' };

const port = parentPort;
if (port) {
  const post = (m: FromThread) => port.postMessage(m);
  const log: Logger = {
    debug: (message) => post({ type: 'log', level: 'debug', message }),
    info: (message) => post({ type: 'log', level: 'info', message }),
    warn: (message) => post({ type: 'log', level: 'warn', message }),
    error: (message) => post({ type: 'log', level: 'error', message }),
  };
  const t0 = performance.now();
  loadClient();
  log.debug(`etcd client loaded in ${(performance.now() - t0).toFixed(0)} ms`);
  let world: EtcdWorld | undefined;
  let opening: Promise<void> | undefined;
  let published: readonly ResourceSpec[] | undefined;
  let kinds: readonly string[] = [];
  let unwatch: (() => void) | undefined;
  const watch = () => {
    unwatch?.();
    unwatch = world && kinds.length ? world.watch(kinds, (resources) => post({ type: 'exports', resources })) : undefined;
  };
  port.on('message', (m: ToThread) => {
    switch (m.type) {
      case 'start':
        opening ??= EtcdWorld.open({ ...m.options, log }).then(
          (w) => {
            world = w;
            if (published) w.publish(published);
            watch();
          },
          (e: unknown) => log.error(`cannot use etcd: ${errorText(e)}; exported resources are neither published nor collected`),
        );
        break;
      case 'publish':
        published = m.resources;
        world?.publish(m.resources);
        break;
      case 'endpoints':
        void opening?.then(() => world?.setSeeds(m.seeds));
        break;
      case 'kinds':
        kinds = m.kinds;
        watch();
        break;
      case 'close':
        void (async () => {
          await opening;
          unwatch?.();
          await world?.close();
          post({ type: 'closed' });
          port.close();
        })();
        break;
    }
  });
}
