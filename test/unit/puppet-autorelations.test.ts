// Puppet's automatic relationships in a translation (src/puppet/autorelations.ts, relationships.ts): lookups by
// title and namevar, Puppet's rule against explicit relationships, refresh edges, exported resources. What each
// type declares is checked against real Puppet in test/integration/puppet-autorelations.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { autoRelations, filePath } from '../../src/puppet/autorelations.js';
import { refOf } from '../../src/puppet/catalog.js';
import type { TypeRules } from '../../src/puppet/rules.js';
import { translateCatalog } from '../../src/puppet/translate.js';
import { typeRules } from '../../src/puppet/types/index.js';
import { registry } from '../../src/cli/registry.js';
import { catalogOf, catalogResource as res } from '../harness/catalog.js';

const edgesOf = (...rs: Parameters<typeof catalogOf>[0]) => translateCatalog(registry, catalogOf(rs)).spec.edges.map((e) => `${e.name}${e.notify ? ' ~' : ''}`);

describe('Puppet automatic relationships', () => {
  it("munges file paths as Puppet's File does", () => {
    assert.deepEqual(['/a//b/', '/a/./b', '/a/b/../c', '/', '/a/.hidden', 'rel/'].map(filePath), ['/a/b', '/a/b', '/a/c', '/', '/a/.hidden', 'rel/']);
  });

  it('finds the nearest managed ancestor by title or by (munged) path, skipping unmanaged levels', () => {
    assert.deepEqual(edgesOf(res('File', 'top', { path: '/srv/app/', ensure: 'directory' }), res('File', '/srv/app/a/b/c', { ensure: 'file' })), [
      'File[top] -> File[/srv/app/a/b/c]',
    ]);
  });

  it('an explicit relationship in either direction wins; one in the same direction is not doubled', () => {
    assert.deepEqual(edgesOf(res('File', '/d', { ensure: 'directory' }), res('File', '/d/f', { ensure: 'file', before: 'File[/d]' })), [
      'File[/d/f] -> File[/d]',
    ]);
    assert.deepEqual(edgesOf(res('File', '/d', { ensure: 'directory', before: 'File[/d/f]' }), res('File', '/d/f', { ensure: 'file' })), [
      'File[/d] -> File[/d/f]',
    ]);
  });

  it('accounts by login name (the namevar), not numeric ones; exported-only resources take no part', () => {
    assert.deepEqual(
      edgesOf(
        res('User', 'web-user', { name: 'web', ensure: 'present' }),
        res('File', '/srv/a', { ensure: 'file', owner: 'web', group: '100' }),
        res('File', '/srv/b', { ensure: 'file', owner: 'other' }),
        res('User', 'other', { ensure: 'present' }, { exported: true, virtual: true }),
      ),
      ['User[web-user] -> File[/srv/a]'],
    );
  });

  it('autosubscribe and autonotify become refresh edges, in the right direction', () => {
    const rules = (type: string): TypeRules | undefined =>
      type === 'Service'
        ? {
            ...typeRules.get('Service')!,
            autorelations: [
              { relation: 'subscribe', type: 'File', doc: 'test', names: () => ['/etc/a.conf'] },
              { relation: 'notify', type: 'Exec', doc: 'test', names: () => ['after'] },
            ],
          }
        : typeRules.get(type);
    const cat = catalogOf([res('Service', 's'), res('File', '/etc/a.conf'), res('Exec', 'after')]);
    const autos = autoRelations(cat, rules, () => true).map((a) => `${refOf(cat.resources[a.from]!)} -> ${refOf(cat.resources[a.to]!)}${a.notify ? ' ~' : ''}`);
    assert.deepEqual(autos, ['File[/etc/a.conf] -> Service[s] ~', 'Service[s] -> Exec[after] ~']);
  });

  it('every translated type declares its automatic relationships (an empty list is a statement)', () => {
    for (const t of typeRules.values()) assert.ok(Array.isArray(t.autorelations), t.type);
  });
});
