/**
 * The embedded world (no `--seeds`): this process only, no network, no etcd. What the host exports is visible
 * to its own collectors, as in mgmt, so a graph can export and collect its own resources.
 */
import type { ResourceSpec } from '../graph/spec.js';
import { type Exported, ofKinds, toExported, type World } from './world.js';

interface Watch {
  readonly kinds: readonly string[];
  readonly onChange: (resources: readonly Exported[]) => void;
}

export class LocalWorld implements World {
  readonly kind = 'local';
  private exported: readonly Exported[] = [];
  private readonly watches = new Set<Watch>();
  private closed = false;

  constructor(readonly hostname: string) {}

  publish(resources: readonly ResourceSpec[]): void {
    if (this.closed) return;
    this.exported = resources.map((r) => toExported(this.hostname, r));
    // Delivered on a later turn, like a network world: callers never see a call-back inside publish().
    const snapshot = this.exported;
    queueMicrotask(() => {
      if (this.closed) return;
      for (const w of this.watches) w.onChange(ofKinds(snapshot, w.kinds));
    });
  }

  watch(kinds: readonly string[], onChange: (resources: readonly Exported[]) => void): () => void {
    const w: Watch = { kinds: [...kinds], onChange };
    this.watches.add(w);
    const snapshot = this.exported;
    queueMicrotask(() => {
      if (!this.closed && this.watches.has(w)) onChange(ofKinds(snapshot, w.kinds));
    });
    return () => this.watches.delete(w);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.watches.clear();
  }
}
