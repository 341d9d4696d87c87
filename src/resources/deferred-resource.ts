/**
 * A resource whose code is loaded when it first runs. A kind's file holds what validation needs (its parameter
 * table, its checks, its automatic edges) and nothing that touches the system; what a resource does on the system
 * lives in the kind's `*-resource.ts` module, imported only when a graph has a resource of that kind. So `mgmt run`
 * of a graph of files does not load the code of services, packages, users, crontabs and the rest, and start-up
 * costs what the graph uses.
 *
 * The engine calls `watch` first and `checkApply` after the first event, so the import happens once, before the
 * first check; an import that fails (a broken installation) fails that resource's watch, with the module named.
 */
import type { CheckApplyContext, Resource, WatchContext } from './resource.js';

/** A resource made by `make` once `load` has resolved; both run at the first call of `watch` or `checkApply`. */
export function deferredResource<M>(load: () => Promise<M>, make: (module: M) => Resource): Resource {
  let made: Promise<Resource> | undefined;
  const resource = (): Promise<Resource> => (made ??= load().then(make));
  return {
    watch: async (ctx: WatchContext) => (await resource()).watch(ctx),
    checkApply: async (ctx: CheckApplyContext) => (await resource()).checkApply(ctx),
    cleanup: async () => {
      if (!made) return;
      let r: Resource;
      try {
        r = await made;
      } catch {
        return; // never made: nothing to release
      }
      await r.cleanup?.();
    },
  };
}
