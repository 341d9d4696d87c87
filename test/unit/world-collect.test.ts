import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CollectSpec, ResourceSpec } from '../../src/graph/spec.js';
import { coreRegistry } from '../../src/resources/core-registry.js';
import { checkCollect, collectResources, entryMatches, explicitCollectKinds, placeFile, protectedPath } from '../../src/world/collect.js';
import { canonicalJson, decodeSigned, decodeValue, encodeValue, exportKey, parseKey } from '../../src/world/keys.js';
import { HostPins, loadOrCreateHostKey, newHostKey } from '../../src/world/host-keys.js';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkQuery, matchQuery } from '../../src/world/puppet-query.js';
import { LocalWorld } from '../../src/world/local-world.js';
import type { Exported } from '../../src/world/world.js';
import { registry } from '../../src/cli/registry.js';

const file = (host: string, name: string, params: Record<string, unknown> = {}, extra: Partial<Exported> = {}): Exported => ({
  host,
  kind: 'file',
  name,
  params: { path: `/shared/${name}`, state: 'exists', content: `${name} from ${host}\n`, ...params },
  meta: {},
  ...extra,
});
const dir: CollectSpec = { kind: 'file', pattern: '/srv/collected/' };

describe('world keys', () => {
  it('builds and parses /_mgmt/exported/<host>/resources/<kind>/<name>, names may contain /', () => {
    const k = exportKey('web1', 'file', '/etc/motd');
    assert.equal(k, '/_mgmt/exported/web1/resources/file//etc/motd');
    assert.deepEqual(parseKey(k), { host: 'web1', kind: 'file', name: '/etc/motd' });
    assert.equal(parseKey('/_mgmt/exported/web1/other/file/x'), undefined);
    assert.equal(parseKey('/_mgmt/exported/web1/resources/file/'), undefined);
    assert.equal(parseKey('/elsewhere/x'), undefined);
  });
  it('stores canonical JSON (sorted keys), so equal resources give equal bytes', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: null } }), '{"a":{"c":null,"d":[2,{"y":2,"z":1}]},"b":1}');
    const a = encodeValue(file('A', 'x', { mode: '0644', state: 'exists' }));
    const b = encodeValue({ ...file('A', 'x'), params: { mode: '0644', ...file('A', 'x').params } });
    assert.equal(a, b);
  });
  it('decodes what it encodes, and explains values no host of ours wrote', () => {
    const e = file('A', 'x', {}, { origin: { ref: 'file[x]', file: '/g.yaml', line: 3 }, meta: { sensitive: ['content'] } });
    const k = parseKey(exportKey('A', 'file', 'x'))!;
    assert.deepEqual(decodeValue(k, encodeValue(e)), e);
    assert.match(decodeValue(k, 'nope') as string, /not JSON/);
    assert.match(decodeValue(k, '{"meta":{}}') as string, /no `params`/);
    assert.match(decodeValue(k, '{"params":{},"origin":{}}') as string, /origin/);
  });
});

describe('exports bound to their host: signatures and pinned keys (issue 11, item 8)', () => {
  it('a signed value verifies; changed, moved to another key or unsigned, it does not', () => {
    const key = newHostKey();
    const e = file('A', 'x');
    const k = parseKey(exportKey('A', 'file', 'x'))!;
    const signed = encodeValue(e, key);
    assert.deepEqual(decodeSigned(k, signed), { exported: e, signer: key.publicKey });
    assert.equal(encodeValue(e, key), signed, 'deterministic: an unchanged export is not rewritten');
    const doc = JSON.parse(signed) as Record<string, unknown>;
    const tampered = canonicalJson({ ...doc, params: { ...(doc.params as object), mode: '4755' } });
    assert.equal(decodeSigned(k, tampered), 'the signature does not match the value');
    // A's signed value replayed under B's key, or under another name of A's.
    assert.equal(decodeSigned(parseKey(exportKey('B', 'file', 'x'))!, signed), 'the signature does not match the value');
    assert.equal(decodeSigned(parseKey(exportKey('A', 'file', 'y'))!, signed), 'the signature does not match the value');
    assert.deepEqual(decodeSigned(k, encodeValue(e)), { exported: e, signer: undefined });
    assert.match(decodeSigned(k, canonicalJson({ ...doc, signer: 'nope' })) as string, /not a public key/);
  });

  it('the first key seen for a host is pinned; another key for that host is refused; the host key persists', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mgmt-pins-'));
    try {
      const own = await loadOrCreateHostKey(join(dir, 'world'));
      assert.equal(statSync(join(dir, 'world', 'host.key')).mode & 0o777, 0o600);
      assert.equal((await loadOrCreateHostKey(join(dir, 'world'))).publicKey, own.publicKey, 'the same key on the next start');
      const pinned: string[] = [];
      const pins = new HostPins(join(dir, 'world'), (h) => pinned.push(h));
      pins.pin('self', own.publicKey);
      const a = newHostKey();
      const b = newHostKey();
      assert.equal(pins.check('A', a.publicKey), undefined);
      assert.deepEqual(pinned, ['A']);
      assert.equal(readFileSync(join(dir, 'world', 'hosts', 'A.pub'), 'utf8'), `${a.publicKey}\n`);
      assert.match(pins.check('A', b.publicKey)!, /signed by a key that is not the one pinned for host A .*A\.pub.*remove that file/);
      assert.match(pins.check('self', a.publicKey)!, /not the one pinned for host self/);
      // A pin written while the process runs, before the host is first seen (an operator's), is read, not replaced.
      writeFileSync(join(dir, 'world', 'hosts', 'C.pub'), `${b.publicKey}\n`);
      assert.match(pins.check('C', a.publicKey)!, /not the one pinned for host C/);
      assert.equal(pins.check('C', b.publicKey), undefined);
      assert.equal(readFileSync(join(dir, 'world', 'hosts', 'C.pub'), 'utf8'), `${b.publicKey}\n`);
      assert.deepEqual(pinned, ['A']);
      // A new process reads the pins back.
      const again = new HostPins(join(dir, 'world'));
      assert.equal(again.check('A', a.publicKey), undefined);
      assert.match(again.check('A', b.publicKey)!, /not the one pinned/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Puppet collector queries', () => {
  const t = { title: '/tmp/a', tags: ['file', 'shared', 'class'], params: { owner: 'root', group: ['adm', 'wheel'] } };
  it('tag, title and parameter equality; arrays match any element; != negates', () => {
    assert.ok(matchQuery(null, t));
    assert.ok(matchQuery(['tag', '==', 'Shared'], t));
    assert.ok(!matchQuery(['tag', '==', 'other'], t));
    assert.ok(matchQuery(['title', '==', '/tmp/a'], t));
    assert.ok(matchQuery(['owner', '==', 'root'], t));
    assert.ok(matchQuery(['group', '==', 'wheel'], t));
    assert.ok(matchQuery(['owner', '!=', 'nobody'], t));
    assert.ok(matchQuery(['mode', '!=', '0644'], t), 'an unset parameter is != anything');
    assert.ok(!matchQuery(['mode', '==', '0644'], t));
  });
  it('and / or, nested', () => {
    assert.ok(matchQuery([['tag', '==', 'shared'], 'and', ['owner', '==', 'root']], t));
    assert.ok(!matchQuery([['tag', '==', 'shared'], 'and', ['owner', '==', 'x']], t));
    assert.ok(matchQuery([['title', '==', 'x'], 'or', [['tag', '==', 'y'], 'or', ['tag', '==', 'file']]], t));
  });
  it('refuses shapes it cannot evaluate', () => {
    assert.equal(checkQuery(null), undefined);
    assert.equal(checkQuery([['tag', '==', 's'], 'or', ['title', '!=', 'x']]), undefined);
    assert.match(checkQuery(['tag', '=~', 's'])!, /unknown operator/);
    assert.match(checkQuery(['tag', '=='])!, /expected/);
    assert.match(checkQuery(['tag', '==', { a: 1 }])!, /must be a string/);
  });
});

describe('collect rules', () => {
  it('a file lands in the pattern directory under its own base name, named <name>@<host>', () => {
    const c = collectResources(registry, [dir], [file('B', 'x'), file('A', 'y')], []);
    assert.deepEqual(c.rejected, []);
    assert.deepEqual(
      c.resources.map((r) => [r.name, r.params.path]),
      [
        ['y@A', '/srv/collected/y'],
        ['x@B', '/srv/collected/x'],
      ],
    );
    assert.equal(c.from.get('file[x@B]')?.host, 'B');
    assert.match(c.resources[0]!.origin!.ref, /exported by host A/);
  });
  it('the path defaults to the exported name (the kind’s name parameter)', () => {
    const e: Exported = { host: 'A', kind: 'file', name: '/shared/z', params: { state: 'exists', content: 'z' }, meta: {} };
    assert.equal(collectResources(registry, [dir], [e], []).resources[0]!.params.path, '/srv/collected/z');
  });
  it('only kinds named in collect are applied: exec is never collected through a file entry', () => {
    const ex: Exported = { host: 'B', kind: 'exec', name: 'pwn', params: { cmd: 'touch /tmp/pwned' }, meta: {} };
    assert.deepEqual(collectResources(registry, [dir], [ex], []).resources, []);
    assert.deepEqual(collectResources(registry, [], [ex, file('A', 'x')], []).resources, []);
    // named explicitly: collected, with a warning about what that means
    assert.equal(collectResources(registry, [{ kind: 'exec', pattern: '' }], [ex], []).resources.length, 1);
    assert.match(checkCollect(registry, [{ kind: 'exec', pattern: '' }]).warnings[0]!, /run commands/);
  });
  it('which kinds need an explicit collect comes from each kind’s reach: no `cron` (not a kind), ssh:authorized_key included', () => {
    const explicit = explicitCollectKinds(registry);
    for (const k of ['crontab:entry', 'exec', 'group', 'mount', 'pkg', 'puppet', 'ssh:authorized_key', 'svc', 'user']) assert.ok(explicit.includes(k), k);
    for (const k of ['file', 'host', 'ini', 'line', 'msg', 'noop', 'timer']) assert.ok(!explicit.includes(k), k);
    assert.ok(!explicit.includes('cron'));
    assert.deepEqual(
      explicitCollectKinds(coreRegistry),
      explicit.filter((k) => k !== 'puppet'),
    );
    assert.equal(registry.get('cron'), undefined);
  });
  it('a kind that may touch more than the files its parameters name (or nothing) needs an explicit collect', () => {
    for (const k of registry.all()) {
      const beyondFiles = k.reach.touches.some((t) => t !== 'files' && t !== 'nothing');
      assert.equal(k.reach.collect, beyondFiles ? 'explicit' : 'plain', `${k.kind} touches ${k.reach.touches.join(', ')}`);
      assert.ok(k.reach.touches.length > 0, `${k.kind} says what it touches`);
    }
  });
  it('collecting ssh:authorized_key needs a collect entry naming it, and that entry warns: keys grant logins', () => {
    const key: Exported = {
      host: 'B',
      kind: 'ssh:authorized_key',
      name: 'admin@B',
      params: { user: 'root', type: 'ssh-ed25519', key: 'AAAAC3NzaC1lZDI1NTE5AAAAIKb6kEt5iXyQZ2v5y1T1sMR6bQkYy0gqV1v0d8bqzQ7J' },
      meta: {},
    };
    assert.deepEqual(collectResources(registry, [dir], [key], []).resources, [], 'a file entry never collects it');
    assert.deepEqual(collectResources(registry, [], [key], []).resources, []);
    const named = collectResources(registry, [{ kind: 'ssh:authorized_key', pattern: '' }], [key], []);
    assert.deepEqual(named.rejected, []);
    assert.deepEqual(
      named.resources.map((r) => r.name),
      ['admin@B@B'],
    );
    const { errors, warnings } = checkCollect(registry, [{ kind: 'ssh:authorized_key', pattern: '' }]);
    assert.deepEqual(errors, []);
    assert.equal(warnings.length, 1);
    assert.match(
      warnings[0]!,
      /collecting `ssh:authorized_key` resources lets any host that can write to the world change this host beyond files: manage accounts and who may log in as them/,
    );
  });
  it('warns for every explicit-collect kind with what it may touch, and never for plain ones', () => {
    for (const k of registry.all()) {
      const { errors, warnings } = checkCollect(registry, [{ kind: k.kind, pattern: k.kind === 'file' ? '/srv/c/' : '' }]);
      assert.deepEqual(errors, [], k.kind);
      assert.equal(warnings.length, k.reach.collect === 'explicit' ? 1 : 0, k.kind);
    }
    assert.match(checkCollect(registry, [{ kind: 'pkg', pattern: '' }]).warnings[0]!, /install or remove packages/);
    assert.match(checkCollect(registry, [{ kind: 'puppet', pattern: '' }]).warnings[0]!, /change anything Puppet can change/);
    assert.match(checkCollect(registry, [{ kind: 'mount', pattern: '' }]).warnings[0]!, /mount and unmount file systems; write the files its parameters name/);
  });
  it('rejects escapes: .., relative paths, local sources, symlinks, a pattern that is not absolute', () => {
    assert.match((placeFile('/srv/c/', { path: '/shared/..' }) as { error: string }).error, /not normalized/);
    assert.match((placeFile('/srv/c/', { path: '/a/../../etc/passwd' }) as { error: string }).error, /not normalized/);
    assert.match((placeFile('/srv/c/', { path: '../etc/passwd' }) as { error: string }).error, /not absolute/);
    assert.match((placeFile('/srv/c/', { path: '/x', source: '/etc/shadow' }) as { error: string }).error, /source/);
    assert.match((placeFile('/srv/c/', { path: '/x', symlink: true, source: '/etc' }) as { error: string }).error, /source|symlink/);
    assert.match((placeFile('/srv/c/', { path: '/' }) as { error: string }).error, /no file name/);
    assert.deepEqual(placeFile('/srv/c/', { path: '/a/b/d/' }), { path: '/srv/c/d/' });
    assert.deepEqual(placeFile('/srv/c', { path: '/a/f' }), { path: '/srv/c/f' });
    assert.deepEqual(placeFile('/', { path: '/a/f' }), { path: '/f' });
    // An empty pattern (Puppet's collectors) keeps the exported path.
    assert.deepEqual(placeFile('', { path: '/etc/motd' }), { path: '/etc/motd' });
    assert.match(checkCollect(registry, [{ kind: 'file', pattern: 'relative/' }]).errors[0]!, /absolute directory/);
    assert.match(checkCollect(registry, [{ kind: 'file', pattern: '/a/../b/' }]).errors[0]!, /normalized/);
    assert.match(checkCollect(registry, [{ kind: 'nosuch', pattern: '' }]).errors[0]!, /unknown resource kind/);
    const c = collectResources(registry, [dir], [file('evil', 'x', { path: '/a/../../etc/passwd' })], []);
    assert.deepEqual(c.resources, []);
    assert.equal(c.rejected[0]!.host, 'evil');
    assert.match(c.rejected[0]!.reason, /not normalized/);
  });
  it('a collected resource must pass the kind’s checks', () => {
    const c = collectResources(registry, [dir], [file('B', 'x', { state: 'bogus' })], []);
    assert.deepEqual(c.resources, []);
    assert.match(c.rejected[0]!.reason, /state/);
  });
  it('local resources win conflicts, then hosts in name order', () => {
    const local: ResourceSpec[] = [{ kind: 'file', name: 'mine', params: { path: '/srv/collected/x', content: 'local' }, meta: {} }];
    const c = collectResources(registry, [dir], [file('B', 'x'), file('A', 'x'), file('C', 'y')], local);
    assert.deepEqual(
      c.resources.map((r) => r.name),
      ['y@C'],
    );
    assert.ok(c.rejected.every((r) => r.reason.includes('already managed by file[mine]')));
    const c2 = collectResources(registry, [dir], [file('B', 'x'), file('A', 'x')], []);
    assert.deepEqual(
      c2.resources.map((r) => r.name),
      ['x@A'],
    );
    assert.match(c2.rejected[0]!.reason, /already managed by file\[x@A\]/);
  });
  it('Puppet collectors: the query and the Puppet type decide', () => {
    const tagged = file(
      'A',
      '/tmp/shared/h',
      { path: '/tmp/shared/h' },
      { origin: { ref: 'File[/tmp/shared/h]', tags: ['file', 's'], parameters: { content: 'x', tag: 's' } } },
    );
    const other = file('B', '/tmp/shared/k', { path: '/tmp/shared/k' }, { origin: { ref: 'File[/tmp/shared/k]', tags: ['file'], parameters: {} } });
    const coll: CollectSpec = { kind: 'file', pattern: '', query: ['tag', '==', 's'], type: 'File' };
    const c = collectResources(registry, [coll], [tagged, other], []);
    assert.deepEqual(
      c.resources.map((r) => [r.name, r.params.path]),
      [['/tmp/shared/h@A', '/tmp/shared/h']],
    );
    // Resources Puppet applies: the type must match, so `Tidy <<| |>>` does not collect an Exec.
    const fallbackExec: Exported = { host: 'B', kind: 'puppet', name: 'Exec[x]', params: { type: 'Exec', title: 'x', parameters: {} }, meta: {} };
    assert.ok(!entryMatches({ kind: 'puppet', pattern: '', query: null, type: 'Tidy' }, fallbackExec));
    assert.ok(entryMatches({ kind: 'puppet', pattern: '', query: null, type: 'Exec' }, fallbackExec));
    // a YAML export (no Puppet origin) is matched by its name and params
    assert.ok(entryMatches({ kind: 'file', pattern: '', query: ['title', '==', 'x'], type: 'File' }, file('A', 'x')));
  });
});

describe('what a collected resource may carry (issue 11, item 8)', () => {
  const reasons = (entry: CollectSpec, ...e: Exported[]) => collectResources(registry, [entry], e, []).rejected.map((r) => r.reason);

  it('a forged setuid-root export is refused with its reason; the collect entry can widen that explicitly', () => {
    const forged = file('evil', 'sh', { content: '#!/bin/sh\n', mode: '4755', owner: 'root' });
    const c = collectResources(registry, [dir], [forged], []);
    assert.deepEqual(c.resources, []);
    assert.equal(c.rejected[0]!.host, 'evil');
    assert.match(
      c.rejected[0]!.reason,
      /its mode "4755" sets the set-uid, set-gid or sticky bit; collected files may not \(unless the collect entry has `allow: \[setid\]`\)/,
    );
    for (const mode of ['2755', '1777', '06755', 'u+s', 'g=rxs', 'a+t', 'u=rwx,g+s']) {
      assert.match(reasons(dir, file('evil', 'm', { mode }))[0] ?? 'collected', /set-uid/, mode);
    }
    // Removing the bits, or plain modes, are fine.
    for (const mode of ['0644', '755', 'u-s', 'go-st,u=rw']) assert.deepEqual(reasons(dir, file('ok', 'm', { mode })), [], mode);
    // root as owner or group, by name or number
    for (const [k, v] of [
      ['owner', 'root'],
      ['group', 'root'],
      ['owner', '0'],
      ['group', '000'],
    ] as const) {
      assert.match(reasons(dir, file('evil', 'o', { [k]: v }))[0] ?? 'collected', new RegExp(`its ${k} is root`));
    }
    assert.deepEqual(reasons(dir, file('ok', 'o', { owner: 'nobody', group: 'nogroup' })), []);
    // Widened one allowance at a time.
    assert.match(reasons({ ...dir, allow: ['setid'] }, forged)[0]!, /its owner is root/);
    const both = collectResources(registry, [{ ...dir, allow: ['setid', 'root'] }], [forged], []);
    assert.deepEqual(
      both.resources.map((r) => [r.name, r.params.path, r.params.mode]),
      [['sh@evil', '/srv/collected/sh', '4755']],
    );
  });

  it('Puppet collectors (no pattern) may not touch protected paths; any kind, any path it manages', () => {
    const puppet: CollectSpec = { kind: 'file', pattern: '', query: null, type: 'File' };
    for (const path of ['/etc/sudoers.d/evil', '/etc/cron.d/x', '/usr/local/bin/ls', '/root/.bashrc', '/home/alice/.ssh/config', '/srv/x/authorized_keys']) {
      const r = reasons(puppet, file('evil', path, { path }));
      assert.match(r[0] ?? 'collected', /in the protected location .* \(unless the collect entry has `allow: \[protected-paths\]`\)/, path);
    }
    assert.deepEqual(reasons(puppet, file('ok', '/etc/nagios/conf.d/web1.cfg', { path: '/etc/nagios/conf.d/web1.cfg' })), []);
    assert.deepEqual(reasons({ ...puppet, allow: ['protected-paths'] }, file('ok', '/etc/cron.d/x', { path: '/etc/cron.d/x' })), []);
    // Not only files: a collected line may not edit /etc/sudoers either.
    const line: Exported = { host: 'evil', kind: 'line', name: 'l', params: { path: '/etc/sudoers', line: 'evil ALL=(ALL) NOPASSWD: ALL' }, meta: {} };
    assert.match(reasons({ kind: 'line', pattern: '' }, line)[0]!, /it would touch \/etc\/sudoers/);
    assert.equal(protectedPath('/etc/crontab.bak'), undefined);
    assert.equal(protectedPath('/etc/ssh/ssh_known_hosts'), undefined);
    assert.equal(protectedPath('/etc/ssh/sshd_config.d/x.conf'), '/etc/ssh/sshd_config.d');
  });

  it('a collect pattern inside a protected location is an error of the entry unless it allows it', () => {
    assert.match(checkCollect(registry, [{ kind: 'file', pattern: '/etc/sudoers.d/' }]).errors[0]!, /protected location; add `allow: \[protected-paths\]`/);
    assert.deepEqual(checkCollect(registry, [{ kind: 'file', pattern: '/etc/sudoers.d/', allow: ['protected-paths'] }]).errors, []);
    assert.deepEqual(reasons({ kind: 'file', pattern: '/etc/sudoers.d/' }, file('evil', 'x')), []);
    assert.deepEqual(collectResources(registry, [{ kind: 'file', pattern: '/etc/sudoers.d/' }], [file('evil', 'x')], []).resources, []);
  });
});

describe('local world', () => {
  it('delivers this host’s exports to its own watchers, filtered by kind, never inside publish()', async () => {
    const w = new LocalWorld('me');
    const seen: Exported[][] = [];
    w.watch(['file'], (l) => seen.push([...l]));
    w.publish([
      { kind: 'file', name: 'a', params: { path: '/a' }, meta: {}, pos: { file: '/g.yaml', line: 2, col: 3 } },
      { kind: 'msg', name: 'm', params: {}, meta: {} },
    ]);
    assert.equal(seen.length, 0);
    await new Promise((r) => setImmediate(r));
    const last = seen.at(-1)!;
    assert.deepEqual(
      last.map((e) => [e.host, e.kind, e.name]),
      [['me', 'file', 'a']],
    );
    assert.deepEqual(last[0]!.origin, { ref: 'file[a]', file: '/g.yaml', line: 2 });
    await w.close();
  });
});
