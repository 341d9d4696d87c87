/**
 * The member directory: every member of the cluster with its client URLs (etcd's own member list, read from the
 * cluster each round), which of them answer, and which URLs this host's clients should use. It is kept in the
 * state directory (`<state>/cluster/members.json`), so a host that restarts finds the cluster even when the
 * host given by `--seeds` is gone.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IMember } from 'etcd3';
import { probeMember, type TlsFiles } from './etcd-member.js';
import type { MemberView } from './cluster-plan.js';

interface Known {
  readonly id: string;
  readonly name: string;
  readonly peerUrls: readonly string[];
  readonly clientUrls: readonly string[];
  readonly learner: boolean;
}

export class MemberDirectory {
  private members: Known[] = [];
  private readonly down = new Map<string, number>();
  private health = new Map<string, boolean>();
  /** Why each URL that does not answer does not. */
  private why = new Map<string, string>();
  private savedText = '';
  /** This host's own member's client URL while it runs. */
  private own: string | undefined;

  constructor(
    private readonly dir: string,
    private readonly seeds: readonly string[],
    private readonly tls: TlsFiles,
  ) {
    try {
      const v = JSON.parse(readFileSync(this.file(), 'utf8')) as { members?: Known[] };
      if (Array.isArray(v.members)) this.members = v.members.filter((m) => typeof m.id === 'string' && Array.isArray(m.clientUrls));
    } catch {
      /* none yet */
    }
  }

  private file(): string {
    return join(this.dir, 'members.json');
  }

  /** This host's member runs at `url` (probed even before the cluster lists it), or no longer (undefined). */
  setOwn(url: string | undefined): void {
    this.own = url;
  }

  /** Takes etcd's member list (read from the cluster) as the truth, and keeps it on disk. */
  update(list: readonly IMember[]): void {
    this.members = list.map((m) => ({ id: m.ID, name: m.name, peerUrls: [...m.peerURLs], clientUrls: [...m.clientURLs], learner: m.isLearner }));
    const text = JSON.stringify({ members: this.members }, null, 1) + '\n';
    if (text === this.savedText) return;
    try {
      writeFileSync(this.file() + '.tmp', text, { mode: 0o600 });
      renameSync(this.file() + '.tmp', this.file());
      this.savedText = text;
    } catch {
      /* a cache only: the next round writes it again */
    }
  }

  /** Probes every known member's first client URL (and the seeds, while no member is known). */
  async probe(now = Date.now()): Promise<void> {
    const urls = new Set(this.candidateUrls());
    const results = await Promise.all([...urls].map(async (u) => [u, await probeMember(u, this.tls)] as const));
    this.health = new Map(results.map(([u, why]) => [u, why === undefined]));
    this.why = new Map(results.filter((r): r is readonly [string, string] => r[1] !== undefined));
    for (const m of this.members) {
      const ok = m.clientUrls.some((u) => this.health.get(u) === true);
      if (ok) this.down.delete(m.id);
      else if (!this.down.has(m.id)) this.down.set(m.id, now);
    }
  }

  private candidateUrls(): string[] {
    const fromMembers = this.members.flatMap((m) => m.clientUrls.slice(0, 1));
    return [...(this.own ? [this.own] : []), ...fromMembers, ...this.seeds];
  }

  /** The members as the coordinator sees them. */
  views(): MemberView[] {
    return this.members.map((m) => ({
      id: m.id,
      name: m.name,
      peerUrls: m.peerUrls,
      clientUrls: m.clientUrls,
      learner: m.learner,
      healthy: m.clientUrls.some((u) => this.health.get(u) === true),
      downSince: this.down.get(m.id),
    }));
  }

  /** Client URLs that answer, `prefer` first (this host's own member). */
  healthyUrls(prefer?: string): string[] {
    const ok = this.candidateUrls().filter((u) => this.health.get(u) === true);
    const unique = [...new Set(ok)];
    return prefer && unique.includes(prefer) ? [prefer, ...unique.filter((u) => u !== prefer)] : unique;
  }

  /** Every URL worth trying when none answers: the known members', then the seeds. */
  allUrls(): string[] {
    return [...new Set(this.candidateUrls())];
  }

  /** Why the URLs that were probed do not answer (`url: reason`), for messages. */
  failures(): string {
    return [...this.why].map(([u, w]) => `${u}: ${w}`).join('; ');
  }

  /** How many voting members are known and how many of them answer. */
  counts(): { readonly voters: number; readonly healthy: number } {
    const voters = this.views().filter((m) => !m.learner);
    return { voters: voters.length, healthy: voters.filter((m) => m.healthy).length };
  }

  member(name: string): MemberView | undefined {
    return this.views().find((m) => m.name === name);
  }
}
