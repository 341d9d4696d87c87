import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatHostsLine, parseHostsLine, planHosts } from '../../src/system/formats/hosts-text.js';

describe('hosts lines', () => {
  it('parses ip, canonical name, aliases and comment with any blanks', () => {
    assert.deepEqual(parseHostsLine('10.0.0.9  other   o2 o3 # spaced  comment '), {
      ip: '10.0.0.9',
      name: 'other',
      aliases: ['o2', 'o3'],
      comment: 'spaced  comment',
    });
    assert.deepEqual(parseHostsLine('\t::1\tlocalhost\tip6-localhost'), { ip: '::1', name: 'localhost', aliases: ['ip6-localhost'], comment: '' });
    assert.deepEqual(parseHostsLine('1.2.3.4 a#tight'), { ip: '1.2.3.4', name: 'a', aliases: [], comment: 'tight' });
  });

  it('skips comments, blank lines and lines without a name', () => {
    for (const l of ['', '  ', '# 1.2.3.4 commented', '   # indented', '1.2.3.4', '1.2.3.4 # only a comment'])
      assert.equal(parseHostsLine(l), undefined, JSON.stringify(l));
  });

  it('formats like Puppet: tabs between fields, spaces between aliases, "# " before the comment', () => {
    assert.equal(formatHostsLine({ ip: '10.0.0.5', name: 'web', aliases: ['www', 'w'], comment: 'the web' }), '10.0.0.5\tweb\twww w\t# the web');
    assert.equal(formatHostsLine({ ip: '10.0.0.6', name: 'db', aliases: [], comment: '' }), '10.0.0.6\tdb');
    assert.equal(formatHostsLine({ ip: '10.0.0.6', name: 'db', aliases: [], comment: 'c' }), '10.0.0.6\tdb\t# c');
  });
});

describe('planning a hosts edit', () => {
  const table = '# my hosts\n127.0.0.1\tlocalhost\n::1     localhost ip6-localhost ip6-loopback\n\n10.0.0.5 web old # was\n';

  it('adds a missing host at the end and keeps the rest byte for byte', () => {
    const p = planHosts(table, 'db.example.com', { ip: '10.0.0.6' });
    assert.equal(p.text, `${table}10.0.0.6\tdb.example.com\n`);
    assert.deepEqual(p.changes, ['add "10.0.0.6 db.example.com" to the hosts file']);
    assert.equal(planHosts('1.1.1.1 a', 'b', { ip: '2.2.2.2', aliases: ['c'], comment: 'x' }).text, '1.1.1.1 a\n2.2.2.2\tb\tc\t# x\n');
    assert.equal(planHosts('', 'b', { ip: '2.2.2.2' }).text, '2.2.2.2\tb\n');
  });

  it('is satisfied by a matching line whatever its spacing', () => {
    const p = planHosts(table, 'web', { ip: '10.0.0.5', aliases: ['old'], comment: 'was' });
    assert.deepEqual(p, { text: table, changes: [] });
  });

  it('leaves unset fields alone and rewrites only the managed line', () => {
    const p = planHosts(table, 'web', { aliases: ['www', 'w'] });
    assert.equal(p.text, table.replace('10.0.0.5 web old # was', '10.0.0.5\tweb\twww w\t# was'));
    assert.deepEqual(p.changes, ['update the entry for web in the hosts file (line 5): aliases [old] → [www w]']);
    assert.equal(planHosts(table, 'web', { aliases: [], comment: '' }).text, table.replace('10.0.0.5 web old # was', '10.0.0.5\tweb'));
  });

  it('treats alias order as significant (Puppet’s ordered list)', () => {
    assert.equal(planHosts('1.1.1.1 a b c\n', 'a', { aliases: ['c', 'b'] }).changes.length, 1);
  });

  it('matches the canonical name only, never an alias', () => {
    const p = planHosts(table, 'ip6-localhost', { ip: '::1' });
    assert.match(p.changes[0]!, /^add/);
  });

  it('with duplicates, manages the line with the wanted ip, else the last one, and leaves the others', () => {
    assert.deepEqual(planHosts(table, 'localhost', { ip: '127.0.0.1' }).changes, []);
    assert.deepEqual(planHosts(table, 'localhost', { ip: '::1', aliases: ['ip6-localhost', 'ip6-loopback'] }).changes, []);
    const p = planHosts(table, 'localhost', { ip: '127.0.1.1' });
    assert.equal(p.text, table.replace('::1     localhost ip6-localhost ip6-loopback', '127.0.1.1\tlocalhost\tip6-localhost ip6-loopback'));
  });

  it('removes every line with the name when absent, keeping a missing final newline', () => {
    const p = planHosts('127.0.0.1 localhost\n# x\n::1 localhost\n10.0.0.1 a', 'localhost', null);
    assert.equal(p.text, '# x\n10.0.0.1 a');
    assert.equal(p.changes.length, 2);
    assert.deepEqual(planHosts(table, 'nothere', null), { text: table, changes: [] });
  });

  it('needs an ip to create an entry', () => {
    assert.throws(() => planHosts('', 'x', { aliases: [] }, '/etc/hosts'), /\/etc\/hosts has no entry for x, and `ip` must be set to create one/);
  });
});
