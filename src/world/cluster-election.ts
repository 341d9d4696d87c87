/**
 * The coordinator's election: every host of a self-formed cluster campaigns with etcd's election recipe (etcd3's
 * Election, keys under `/_mgmt/cluster/election/coordinator/`, on a lease of the host's TTL). The oldest live
 * campaign wins; when the coordinator's host dies, its lease expires and the next oldest is elected.
 */
import type { Campaign, Etcd3 } from 'etcd3';
import type { Logger } from '../observe/logger.js';
import { CLUSTER_ROOT } from './cluster-keys.js';

export class CoordinatorElection {
  private campaign: Campaign | undefined;
  private elected = false;

  constructor(
    private readonly hostname: string,
    private readonly ttl: number,
    private readonly log: Logger,
  ) {}

  /** Campaigns through `client`; `onLost` is called when the campaign fails (its lease lost). */
  start(client: Etcd3, onLost: (e: Error) => void): void {
    const c = client.namespace(CLUSTER_ROOT).election('coordinator', this.ttl).campaign(this.hostname);
    this.campaign = c;
    c.on('elected', () => {
      if (this.campaign !== c) return;
      this.elected = true;
      this.log.info(`cluster: this host (${this.hostname}) is the elected coordinator`);
    });
    c.on('error', (e: Error) => {
      if (this.campaign !== c) return;
      if (this.elected) this.log.warn(`cluster: this host is no longer the coordinator: ${e.message}`);
      this.elected = false;
      this.campaign = undefined;
      onLost(e);
    });
  }

  isCoordinator(): boolean {
    return this.elected;
  }

  /** Leaves the election (a clean stop: the next host is elected at once). */
  async resign(): Promise<void> {
    const c = this.campaign;
    this.campaign = undefined;
    this.elected = false;
    if (c) await c.resign().catch(() => {});
  }

  /** Forgets the campaign without a word to etcd (its lease expires on its own). */
  drop(): void {
    const c = this.campaign;
    // Its lease still reports its loss later: an 'error' event without a listener would throw.
    c?.removeAllListeners().on('error', () => {});
    this.campaign = undefined;
    this.elected = false;
  }
}
