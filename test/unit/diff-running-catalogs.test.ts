// `mgmt puppet diff --from-puppetdb`: a catalog as PuppetDB's query API returns it loses the aliases PuppetDB's
// terminus added when it stored the catalog (the namevar of a resource titled otherwise, `main` for Stage[main]),
// so that it compares equal to a compile of the same code; aliases the manifest gave are kept. (The whole command
// against a real PuppetDB and Puppet Server: test/integration/puppet-agent-puppetdb.test.ts.)
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { catalogFromData } from '../../src/puppet/catalog.js';
import { withoutTerminusAliases } from '../../src/puppet/diff/running-catalogs.js';

const resource = (type: string, title: string, parameters: Record<string, unknown>) => ({
  resource: 'x',
  type,
  title,
  tags: [],
  exported: false,
  file: null,
  line: null,
  parameters,
});

const fromPuppetDb = (resources: unknown[]) =>
  catalogFromData(
    {
      certname: 'n1',
      version: '1',
      environment: 'production',
      producer_timestamp: null,
      transaction_uuid: null,
      catalog_uuid: 'u',
      code_id: null,
      hash: 'h',
      resources: { href: '/r', data: resources },
      edges: { href: '/e', data: [] },
    },
    'test',
  );

describe('withoutTerminusAliases', () => {
  it("drops the aliases PuppetDB's terminus adds and keeps the manifest's", () => {
    const c = withoutTerminusAliases(
      fromPuppetDb([
        resource('Stage', 'main', { name: 'main', alias: ['main'] }),
        resource('File', 'motd', { path: '/etc/motd', alias: ['/etc/motd'], ensure: 'file' }),
        resource('Exec', 'refresh', { command: '/bin/true', alias: ['/bin/true', 'kick'] }),
        resource('Package', 'web', { name: 'nginx', alias: ['nginx'] }),
        resource('Service', 'db', { alias: ['database'] }),
        resource('File', '/etc/hosts', { ensure: 'file' }),
      ]),
    );
    assert.deepEqual(
      c.resources.map((r) => [`${r.type}[${r.title}]`, r.parameters.alias]),
      [
        ['Stage[main]', undefined],
        ['File[motd]', undefined],
        ['Exec[refresh]', ['kick']],
        ['Package[web]', undefined],
        ['Service[db]', ['database']],
        ['File[/etc/hosts]', undefined],
      ],
    );
    assert.equal(c.resources[1]!.parameters.path, '/etc/motd', 'the namevar itself stays');
  });

  it('returns the same catalog when there is nothing to drop', () => {
    const c = fromPuppetDb([resource('File', '/a', { ensure: 'file' })]);
    assert.equal(withoutTerminusAliases(c), c);
  });
});
