/**
 * The coordinator's rule: from what it sees (the members and their health, the live hosts, the ideal size), the one
 * membership change to make next, or why to wait. Pure: the coordinator (cluster-coordinator.ts) reads the
 * cluster, asks this, makes the change, and asks again on its next round.
 *
 * In order:
 * 1. A learner (a host being added) is promoted once it runs and answers; one that did not start in time, or whose
 *    host went away, is removed (a learner has no vote: removing it never costs quorum).
 * 2. Without a quorum of healthy voting members nothing can change: wait.
 * 3. A voting member whose host is gone (its host key's lease expired) and that has not answered for the grace
 *    time is removed, if the members left still have a quorum.
 * 4. Any other member not answering: wait (the cluster is healthy between changes).
 * 5. More members than the ideal size, or a member whose host says `--no-server`: remove one (never the last one,
 *    and only if the members left keep a quorum).
 * 6. Fewer: add a live candidate host (as a learner; promoted by rule 1 once it runs).
 */

export interface MemberView {
  /** etcd's member id (decimal text). */
  readonly id: string;
  /** The member's name (mgmt uses the hostname); empty while an added member has not started. */
  readonly name: string;
  readonly peerUrls: readonly string[];
  readonly clientUrls: readonly string[];
  readonly learner: boolean;
  /** It answers /health now. */
  readonly healthy: boolean;
  /** Since when (ms since the epoch) it has not answered; undefined while healthy. */
  readonly downSince?: number | undefined;
}

/** A live host (its host key is held by its lease). */
export interface HostView {
  readonly name: string;
  /** It may be made a member (no `--no-server`). */
  readonly candidate: boolean;
  readonly peerUrls: readonly string[];
  readonly clientUrls: readonly string[];
}

export interface PlanInput {
  readonly members: readonly MemberView[];
  readonly hosts: ReadonlyMap<string, HostView>;
  readonly ideal: number;
  readonly now: number;
  /** When each learner was added (member id → ms since the epoch), as the coordinator noted it. */
  readonly addedAt: ReadonlyMap<string, number>;
  /** How long an added member has to start before it is removed again. */
  readonly startGraceMs: number;
  /** How long a member whose host is gone must have been silent before it is removed. */
  readonly goneGraceMs: number;
  /** Hosts not to add now (an add of theirs failed recently). */
  readonly skip: ReadonlySet<string>;
}

export type Change =
  | { readonly type: 'none'; readonly why: string }
  | { readonly type: 'wait'; readonly why: string }
  | { readonly type: 'add'; readonly host: HostView }
  | { readonly type: 'promote'; readonly member: MemberView; readonly host: string }
  | { readonly type: 'remove'; readonly member: MemberView; readonly host: string; readonly why: string };

export function quorum(voters: number): number {
  return Math.floor(voters / 2) + 1;
}

/** The host a member belongs to: by name once it started, else by its peer URL. */
export function hostOf(m: MemberView, hosts: ReadonlyMap<string, HostView>): string {
  if (m.name) return m.name;
  for (const h of hosts.values()) if (h.peerUrls.some((u) => m.peerUrls.includes(u))) return h.name;
  return `(unstarted member ${m.id})`;
}

export function nextChange(i: PlanInput): Change {
  const learners = i.members.filter((m) => m.learner);
  for (const l of learners) {
    const host = hostOf(l, i.hosts);
    if (l.name && l.healthy) return { type: 'promote', member: l, host };
    const added = i.addedAt.get(l.id);
    if (!i.hosts.has(host)) return { type: 'remove', member: l, host, why: 'its host is gone before it started' };
    if (added === undefined || i.now - added > i.startGraceMs) {
      return { type: 'remove', member: l, host, why: `it did not start within ${(i.startGraceMs / 1000).toFixed(0)} s` };
    }
    return { type: 'wait', why: `waiting for host ${host} to start its member` };
  }
  const voters = i.members.filter((m) => !m.learner);
  const healthy = voters.filter((m) => m.healthy);
  const n = voters.length;
  if (healthy.length < quorum(n)) return { type: 'wait', why: `no quorum: ${healthy.length} of ${n} members answer` };
  const gone = voters
    .filter((m) => !m.healthy && !i.hosts.has(hostOf(m, i.hosts)) && m.downSince !== undefined && i.now - m.downSince >= i.goneGraceMs)
    .sort(byName);
  for (const m of gone) {
    if (healthy.length >= quorum(n - 1)) {
      return { type: 'remove', member: m, host: hostOf(m, i.hosts), why: 'its host is gone (its lease expired) and it does not answer' };
    }
  }
  const down = voters.filter((m) => !m.healthy);
  if (down.length > 0) return { type: 'wait', why: `member(s) not answering: ${down.map((m) => hostOf(m, i.hosts)).join(', ')}` };
  const noServer = voters.filter((m) => i.hosts.get(hostOf(m, i.hosts))?.candidate === false).sort(byName);
  if (n > 1 && (n > i.ideal || noServer.length > 0) && healthy.length - 1 >= quorum(n - 1)) {
    // Hosts that asked for --no-server first, then the host whose name sorts last (any fixed order would do).
    const m = noServer[0] ?? [...voters].sort(byName).at(-1)!;
    const why = noServer[0] ? 'its host runs with --no-server' : `the cluster has ${n} members, ${i.ideal} wanted`;
    return { type: 'remove', member: m, host: hostOf(m, i.hosts), why };
  }
  if (n < i.ideal) {
    const names = new Set(i.members.map((m) => hostOf(m, i.hosts)));
    const next = [...i.hosts.values()].filter((h) => h.candidate && !names.has(h.name) && !i.skip.has(h.name)).sort(byName)[0];
    if (next) return { type: 'add', host: next };
    return { type: 'none', why: `${n} of ${i.ideal} members; no other candidate host` };
  }
  return { type: 'none', why: `${n} of ${i.ideal} members, all healthy` };
}

function byName(a: { readonly name: string }, b: { readonly name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
