/**
 * The cluster membership coordinator: run by the elected host (cluster-election.ts), one round at a time. A round
 * reads the live hosts and the ideal size, asks the plan (cluster-plan.ts) for the next change and makes it:
 * add a host as a learner (MemberAdd) and hand it the member list under its assign key, promote a learner that
 * runs (MemberPromote), or remove a member (MemberRemove; the removed host stops its etcd and deletes its data).
 * One change per round, and the plan waits for a healthy cluster between changes.
 */
import type { Etcd3 } from 'etcd3';
import type { Logger } from '../observe/logger.js';
import { errorText } from '../observe/errors.js';
import { type Assignment, assignKey, HOSTS_PREFIX, IDEAL_KEY, parseHost } from './cluster-keys.js';
import type { MemberDirectory } from './cluster-directory.js';
import { type Change, type HostView, nextChange } from './cluster-plan.js';

const CALL_MS = 3000;
/** How long an added host has to start its member. */
const START_GRACE_MS = 20_000;
/** How long a host whose add failed is passed over. */
const SKIP_MS = 30_000;

export class Coordinator {
  private readonly addedAt = new Map<string, number>();
  private readonly skipUntil = new Map<string, number>();
  private lastWhy = '';

  constructor(
    private readonly log: Logger,
    /** Seconds of the hosts' leases: a member silent that long with its host gone is replaced. */
    private readonly ttl: number,
  ) {}

  /** One round: at most one membership change. Returns what it decided. */
  async round(client: Etcd3, dir: MemberDirectory, fallbackIdeal: number): Promise<Change> {
    const deadline = () => ({ deadline: Date.now() + CALL_MS });
    const hostsKv = await client.getAll().prefix(HOSTS_PREFIX).options(deadline()).strings();
    const hosts = new Map<string, HostView>();
    for (const [k, v] of Object.entries(hostsKv)) {
      const name = k.slice(HOSTS_PREFIX.length);
      const h = parseHost(name, v);
      if (h) hosts.set(name, h);
    }
    const idealText = await client.get(IDEAL_KEY).options(deadline()).string();
    const ideal = idealText !== null && /^\d+$/.test(idealText) && Number(idealText) >= 1 ? Number(idealText) : fallbackIdeal;
    const now = Date.now();
    const members = dir.views();
    for (const id of [...this.addedAt.keys()]) if (!members.some((m) => m.id === id)) this.addedAt.delete(id);
    // A learner seen for the first time (added by a coordinator before this one): its clock starts now.
    for (const m of members) if (m.learner && !this.addedAt.has(m.id)) this.addedAt.set(m.id, now);
    const skip = new Set([...this.skipUntil].filter(([, t]) => t > now).map(([h]) => h));
    const change = nextChange({ members, hosts, ideal, now, addedAt: this.addedAt, startGraceMs: START_GRACE_MS, goneGraceMs: this.ttl * 1000, skip });
    if (change.type === 'none' || change.type === 'wait') {
      if (change.why !== this.lastWhy) this.log[change.type === 'wait' ? 'info' : 'debug'](`cluster: ${change.why}`);
      this.lastWhy = change.why;
      return change;
    }
    this.lastWhy = '';
    try {
      await this.make(client, change, members);
    } catch (e) {
      const text = errorText(e);
      // etcd's own guard (--strict-reconfig-check): a member joined less than 5 s ago, or one is not connected.
      if (/unhealthy cluster/i.test(text)) {
        const why = `etcd holds ${describeChange(change)} back until every member has been connected for 5 s`;
        if (why !== this.lastWhy) this.log.debug(`cluster: ${why}`);
        this.lastWhy = why;
        return { type: 'wait', why };
      }
      this.log.warn(`cluster: ${describeChange(change)} failed: ${text}; trying again next round`);
      if (change.type === 'add') this.skipUntil.set(change.host.name, now + SKIP_MS);
    }
    return change;
  }

  private async make(client: Etcd3, c: Change, members: ReturnType<MemberDirectory['views']>): Promise<void> {
    const opts = { deadline: Date.now() + CALL_MS };
    if (c.type === 'add') {
      const r = await client.cluster.memberAdd({ peerURLs: [...c.host.peerUrls], isLearner: true }, opts);
      const id = r.member.ID;
      this.addedAt.set(id, Date.now());
      const initialCluster = r.members
        .flatMap((m) => {
          const name = m.ID === id ? c.host.name : m.name || members.find((x) => x.id === m.ID)?.name;
          return name ? m.peerURLs.map((u) => `${name}=${u}`) : [];
        })
        .join(',');
      const a: Assignment = { memberId: id, initialCluster };
      await client
        .put(assignKey(c.host.name))
        .value(JSON.stringify(a))
        .options({ deadline: Date.now() + CALL_MS });
      this.log.info(`cluster: added host ${c.host.name} as a member (learner ${id}); it starts etcd and is promoted once it runs`);
    } else if (c.type === 'promote') {
      try {
        await client.cluster.memberPromote({ ID: c.member.id }, opts);
      } catch (e) {
        // Not caught up yet: the next round tries again.
        if (/not in sync|in sync with leader/i.test(errorText(e))) return;
        throw e;
      }
      this.addedAt.delete(c.member.id);
      await client
        .delete()
        .key(assignKey(c.host))
        .options({ deadline: Date.now() + CALL_MS });
      this.log.info(`cluster: host ${c.host} is now a voting member`);
    } else if (c.type === 'remove') {
      await client.cluster.memberRemove({ ID: c.member.id }, opts);
      this.addedAt.delete(c.member.id);
      await client
        .delete()
        .key(assignKey(c.host))
        .options({ deadline: Date.now() + CALL_MS });
      this.log.info(`cluster: removed the member of host ${c.host}: ${c.why}`);
    }
  }
}

function describeChange(c: Change): string {
  switch (c.type) {
    case 'add':
      return `adding host ${c.host.name}`;
    case 'promote':
      return `promoting host ${c.host}`;
    case 'remove':
      return `removing the member of host ${c.host}`;
    default:
      return c.why;
  }
}
