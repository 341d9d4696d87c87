import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Change, type HostView, type MemberView, nextChange, type PlanInput, quorum } from '../../src/world/cluster-plan.js';

const NOW = 1_000_000;
const host = (name: string, candidate = true): HostView => ({
  name,
  candidate,
  peerUrls: [`https://${name}:2380`],
  clientUrls: [`https://${name}:2379`],
});
const member = (name: string, o: Partial<MemberView> = {}): MemberView => ({
  id: `id-${name}`,
  name,
  peerUrls: [`https://${name}:2380`],
  clientUrls: [`https://${name}:2379`],
  learner: false,
  healthy: true,
  ...o,
});
const plan = (members: MemberView[], hosts: HostView[], o: Partial<PlanInput> = {}): Change =>
  nextChange({
    members,
    hosts: new Map(hosts.map((h) => [h.name, h])),
    ideal: 3,
    now: NOW,
    addedAt: new Map(),
    startGraceMs: 20_000,
    goneGraceMs: 2000,
    skip: new Set(),
    ...o,
  });
const summary = (c: Change) => (c.type === 'add' ? `add ${c.host.name}` : c.type === 'promote' || c.type === 'remove' ? `${c.type} ${c.host}` : c.type);

describe('the coordinator’s plan', () => {
  it('quorum is a majority of the voting members', () => {
    assert.deepEqual([1, 2, 3, 4, 5].map(quorum), [1, 2, 2, 3, 3]);
  });
  it('grows one member at a time up to the ideal size, then does nothing', () => {
    const hosts = ['a', 'b', 'c', 'd'].map((n) => host(n));
    assert.equal(summary(plan([member('a')], hosts)), 'add b');
    assert.equal(summary(plan([member('a'), member('b')], hosts)), 'add c');
    const full = plan([member('a'), member('b'), member('c')], hosts);
    assert.equal(full.type, 'none');
  });
  it('a learner is promoted once it runs and answers, waited for while it starts, removed when it does not', () => {
    const hosts = [host('a'), host('b')];
    const added = new Map([['id-b', NOW - 1000]]);
    const unstarted = member('b', { name: '', learner: true, healthy: false });
    assert.equal(plan([member('a'), unstarted], hosts, { addedAt: added }).type, 'wait');
    assert.equal(summary(plan([member('a'), member('b', { learner: true })], hosts, { addedAt: added })), 'promote b');
    const late = plan([member('a'), unstarted], hosts, { addedAt: new Map([['id-b', NOW - 30_000]]) });
    assert.equal(summary(late), 'remove b');
    const gone = plan([member('a'), unstarted], [host('a')], { addedAt: added });
    assert.match(summary(gone), /^remove /);
  });
  it('a member whose host is gone is removed after the grace time, then replaced', () => {
    const hosts = [host('a'), host('b'), host('d')];
    const down = member('c', { healthy: false, downSince: NOW - 3000 });
    const c = plan([member('a'), member('b'), down], hosts);
    assert.equal(summary(c), 'remove c');
    assert.match((c as { why: string }).why, /its host is gone/);
    // Not yet past the grace time: wait, and nothing else changes meanwhile.
    assert.equal(plan([member('a'), member('b'), member('c', { healthy: false, downSince: NOW - 500 })], hosts).type, 'wait');
    // A member whose host is alive (its etcd restarting) is waited for, not replaced.
    assert.equal(plan([member('a'), member('b'), down], [...hosts, host('c')]).type, 'wait');
    assert.equal(summary(plan([member('a'), member('b')], hosts)), 'add d');
  });
  it('never acts without a quorum, and never removes a member if that loses quorum', () => {
    const hosts = [host('a'), host('d')];
    const gone = (n: string) => member(n, { healthy: false, downSince: NOW - 10_000 });
    const c = plan([member('a'), gone('b'), gone('c')], hosts);
    assert.equal(c.type, 'wait');
    assert.match((c as { why: string }).why, /no quorum: 1 of 3/);
    // 4 members, 2 healthy: removing a dead one leaves 3 with 2 healthy, a quorum: allowed.
    assert.equal(summary(plan([member('a'), member('d'), gone('b'), gone('c')], hosts, { ideal: 5 })).startsWith('remove'), false);
  });
  it('demotes above the ideal size and hosts that run --no-server, keeping a quorum', () => {
    const hosts = ['a', 'b', 'c', 'd'].map((n) => host(n));
    const four = ['a', 'b', 'c', 'd'].map((n) => member(n));
    assert.equal(summary(plan(four, hosts)), 'remove d');
    const noServer = [host('a'), host('b', false), host('c')];
    assert.equal(
      summary(
        plan(
          ['a', 'b', 'c'].map((n) => member(n)),
          noServer,
        ),
      ),
      'remove b',
    );
    // The last member is never removed.
    assert.equal(plan([member('a')], [host('a', false)]).type, 'none');
    // A host passed over after a failed add is not picked.
    assert.equal(summary(plan([member('a')], [host('a'), host('b'), host('c')], { skip: new Set(['b']) })), 'add c');
    // Clients (--no-server) are never added.
    assert.equal(plan([member('a')], [host('a'), host('b', false)]).type, 'none');
  });
});
