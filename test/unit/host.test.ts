import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { hostKind } from '../../src/resources/host.js';
import { check, recordingContext, startWatch } from '../harness/resource-context.js';

let dir = '';
let target = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mgmt-host-'));
  target = join(dir, 'hosts');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const make = (name: string, params: Record<string, unknown>) => {
  assert.deepEqual(hostKind.validate!(name, params), []);
  const ctx = recordingContext(`host[${name}]`);
  return { r: hostKind.create(name, params, ctx), ctx };
};

describe('host', () => {
  it('adds the entry (noop first), keeps other lines and the file mode, then is OK', async () => {
    const before = '# local\n127.0.0.1   localhost\n\n10.0.0.9 other # spaced';
    writeFileSync(target, before);
    chmodSync(target, 0o664);
    const { r, ctx } = make('web', { ip: '10.0.0.5', aliases: ['www'], comment: 'the web', target });
    assert.equal(await check(r, { apply: false }), false);
    assert.equal(readFileSync(target, 'utf8'), before);
    assert.equal(await check(r), false);
    assert.equal(readFileSync(target, 'utf8'), `${before}\n10.0.0.5\tweb\twww\t# the web\n`);
    assert.equal(statSync(target).mode & 0o7777, 0o664);
    assert.equal(await check(r), true);
    assert.deepEqual(ctx.lines, [`info: would add "10.0.0.5 web www # the web" to ${target}`, `info: add "10.0.0.5 web www # the web" to ${target}`]);
    assert.deepEqual(readdirSync(dir), ['hosts'], 'no temp file is left behind');
  });

  it('creates a missing file with mode 0644', async () => {
    assert.equal(await check(make('db', { ip: '::1', target }).r), false);
    assert.equal(readFileSync(target, 'utf8'), '::1\tdb\n');
    assert.equal(statSync(target).mode & 0o7777, 0o644);
  });

  it('absent removes every line with the name; a missing file stays missing', async () => {
    const { r } = make('gone', { state: 'absent', target });
    assert.equal(await check(r), true);
    assert.deepEqual(readdirSync(dir), []);
    writeFileSync(target, '1.1.1.1 gone\n2.2.2.2 kept gone-alias\n::1 gone\n');
    assert.equal(await check(r), false);
    assert.equal(readFileSync(target, 'utf8'), '2.2.2.2 kept gone-alias\n');
  });

  it('resources editing one file at the same time lose no edit', async () => {
    writeFileSync(target, '# shared\n');
    const names = Array.from({ length: 12 }, (_, i) => `h${i}`);
    const results = await Promise.all(names.map((n, i) => check(make(n, { ip: `10.0.1.${i}`, target }).r)));
    assert.deepEqual(
      results,
      names.map(() => false),
    );
    const lines = readFileSync(target, 'utf8').split('\n');
    for (const [i, n] of names.entries()) assert.ok(lines.includes(`10.0.1.${i}\t${n}`), `${n} is in the file`);
    assert.equal(lines.length, names.length + 2);
  });

  it('says that an ip is needed to create the entry', async () => {
    await assert.rejects(check(make('x', { target }).r), new RegExp(`${target} has no entry for x, and \`ip\` must be set to create one`));
  });

  it('the watch reports an edit by hand', async () => {
    const { r } = make('web', { ip: '10.0.0.5', target });
    const w = await startWatch(r);
    try {
      assert.equal(w.events(), 1, 'the ready event');
      assert.equal(await check(r), false);
      const seen = w.events();
      writeFileSync(target, '10.0.0.5 web\n10.0.0.6 extra\n');
      await w.next();
      assert.ok(w.events() > seen);
      assert.equal(await check(r), true, 'a line with other spacing is right');
    } finally {
      await w.stop();
    }
  });

  it('validates like Puppet: host name labels, ip, aliases, comment, target', () => {
    const v = (name: string, p: Record<string, unknown>) =>
      hostKind.validate!(name, p)
        .map((x) => x.message)
        .join('\n');
    assert.equal(v('a-b.c_d.example', { ip: '1.2.3.4' }), '');
    assert.match(v('-bad', {}), /not a valid host name/);
    assert.match(v('a..b', {}), /not a valid host name/);
    assert.match(v('h', { ip: '1.2.3.256' }), /not an IPv4 or IPv6 address/);
    assert.equal(v('h', { ip: 'fe80::1%eth0' }), '');
    assert.match(v('h', { aliases: ['a b'] }), /alias "a b"/);
    assert.match(v('h', { comment: 'a\nb' }), /line break/);
    assert.match(v('h', { target: 'hosts' }), /absolute path/);
    assert.deepEqual(hostKind.autoEdges!('h', {}), { afterPath: ['/etc/hosts'], afterNearestAncestor: ['/etc/hosts'] });
  });
});
