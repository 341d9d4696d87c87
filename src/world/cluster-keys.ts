/**
 * The etcd keys of a self-formed cluster, beside the exports (keys.ts):
 *
 *   /_mgmt/cluster/ideal-size           the number of members the cluster keeps (the first host's value holds)
 *   /_mgmt/cluster/hosts/<host>         every live host, on its lease: whether it may be a member, its URLs, and
 *                                       whether its graph is converged
 *   /_mgmt/cluster/assign/<host>        the coordinator's word to a host it added: the member list to start with
 *   /_mgmt/cluster/election/...         the coordinator's election (etcd3's election recipe)
 */
import type { HostView } from './cluster-plan.js';

export const CLUSTER_ROOT = '/_mgmt/cluster/';
export const IDEAL_KEY = `${CLUSTER_ROOT}ideal-size`;
export const HOSTS_PREFIX = `${CLUSTER_ROOT}hosts/`;
export const ASSIGN_PREFIX = `${CLUSTER_ROOT}assign/`;
export const ELECTION = `${CLUSTER_ROOT}election`;

export const hostKey = (host: string) => `${HOSTS_PREFIX}${host}`;
export const assignKey = (host: string) => `${ASSIGN_PREFIX}${host}`;

/** What a host says about itself under its host key. */
export interface HostRecord {
  readonly candidate: boolean;
  readonly peerUrls: readonly string[];
  readonly clientUrls: readonly string[];
  /** Its graph converged (every resource good, or failing and retried), as last seen. */
  readonly converged: boolean;
}

/** The coordinator's word to a host it added as a member. */
export interface Assignment {
  readonly memberId: string;
  /** etcd's `--initial-cluster`: name=peerURL for every member, this host included. */
  readonly initialCluster: string;
}

const strings = (x: unknown): x is string[] => Array.isArray(x) && x.every((s) => typeof s === 'string');

export function parseHost(name: string, text: string): (HostView & { readonly converged: boolean }) | undefined {
  try {
    const v = JSON.parse(text) as Partial<HostRecord>;
    if (typeof v.candidate !== 'boolean' || !strings(v.peerUrls) || !strings(v.clientUrls)) return undefined;
    return { name, candidate: v.candidate, peerUrls: v.peerUrls, clientUrls: v.clientUrls, converged: v.converged === true };
  } catch {
    return undefined;
  }
}

export function parseAssignment(text: string): Assignment | undefined {
  try {
    const v = JSON.parse(text) as Partial<Assignment>;
    if (typeof v.memberId !== 'string' || typeof v.initialCluster !== 'string') return undefined;
    return { memberId: v.memberId, initialCluster: v.initialCluster };
  } catch {
    return undefined;
  }
}
