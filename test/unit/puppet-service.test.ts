// Puppet `service` → `svc` (src/puppet/types/service.ts): names, values in both spellings, what is dropped, what goes
// to the fallback, and a refresh reaching a translated service. Goldens P16/P17 cover the same with real catalogs.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CatalogResource } from '../../src/puppet/catalog.js';
import { translateCatalog } from '../../src/puppet/translate.js';
import { catalogOf, catalogResource, translateOne } from '../harness/catalog.js';
import { registry } from '../../src/cli/registry.js';

const svc = (title: string, parameters: Record<string, unknown> = {}) => catalogResource('Service', title, parameters);
const cat = (resources: CatalogResource[]) => catalogOf(resources);
const one = translateOne;

describe('puppet service → svc', () => {
  it('P16: the name wins over the title; the origin keeps the title', () => {
    const { spec, report } = one(svc('web', { name: 'apache2', ensure: 'running', enable: true }));
    assert.deepEqual([spec.kind, spec.name, spec.params], ['svc', 'apache2', { state: 'running', startup: 'enabled' }]);
    assert.equal(spec.origin?.ref, 'Service[web]');
    assert.equal(report.status, 'native');
  });

  it('ensure and enable in their boolean and string spellings', () => {
    assert.deepEqual(one(svc('a', { ensure: true, enable: 'true' })).spec.params, { state: 'running', startup: 'enabled' });
    assert.deepEqual(one(svc('a', { ensure: false, enable: false })).spec.params, { state: 'stopped', startup: 'disabled' });
    assert.deepEqual(one(svc('a', { ensure: 'stopped', enable: 'false' })).spec.params, { state: 'stopped', startup: 'disabled' });
    assert.deepEqual(one(svc('a')).spec.params, {});
  });

  it('no provider, or provider systemd, is native whatever the compiling host runs (old bug 6)', () => {
    assert.equal(one(svc('a', { ensure: 'running' })).report.status, 'native');
    assert.equal(one(svc('a', { ensure: 'running', provider: 'systemd' })).report.status, 'native');
  });

  it('hasstatus, hasrestart and path are dropped without degrading; timeout degrades', () => {
    const r = one(svc('a', { ensure: 'running', hasstatus: true, hasrestart: false, path: ['/etc/init.d'] }));
    assert.deepEqual([r.report.status, r.spec.params], ['native', { state: 'running' }]);
    const t = one(svc('a', { ensure: 'running', timeout: 30 }));
    assert.equal(t.report.status, 'degraded');
    assert.match(t.report.notes[0]!.message, /timeout is not supported/);
  });

  it('P17: mask, Windows modes, other providers, custom commands and process matching go to the fallback', () => {
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ enable: 'mask' }, 'enable', /mask is not supported/],
      [{ enable: 'manual' }, 'enable', /Windows start modes/],
      [{ enable: 'delayed' }, 'enable', /Windows start modes/],
      [{ enable: 'sometimes' }, 'enable', /true or false/],
      [{ ensure: 'paused' }, 'ensure', /running or stopped/],
      [{ provider: 'init' }, 'provider', /only the systemd provider/],
      [{ provider: 'debian' }, 'provider', /only the systemd provider/],
      [{ restart: '/usr/sbin/apachectl graceful' }, 'restart', /custom service commands/],
      [{ start: '/bin/true' }, 'start', /custom service commands/],
      [{ stop: '/bin/true' }, 'stop', /custom service commands/],
      [{ status: '/bin/true' }, 'status', /custom service commands/],
      [{ binary: '/usr/sbin/x' }, 'binary', /by its process/],
      [{ pattern: 'x' }, 'pattern', /by its process/],
      [{ flags: '-x' }, 'flags', /provider other than systemd/],
    ];
    for (const [params, attr, re] of cases) {
      const { spec, report } = one(svc('s', params));
      assert.equal(spec.kind, 'puppet', JSON.stringify(params));
      assert.equal(spec.name, 'Service[s]');
      assert.equal(report.status, 'fallback');
      assert.equal(report.notes[0]!.attribute, attr);
      assert.match(report.notes[0]!.message, re);
    }
  });

  it('a name that is no systemd unit name goes to the fallback', () => {
    const { spec, report } = one(svc('my service', { ensure: 'running' }));
    assert.equal(spec.kind, 'puppet');
    assert.match(report.notes[0]!.message, /not a valid systemd unit name/);
  });

  it('a file notifying a service becomes a notify edge into svc', () => {
    const file: CatalogResource = { ...svc('/etc/app.conf', { content: 'x', notify: 'Service[app]' }), type: 'File' };
    const t = translateCatalog(registry, cat([file, svc('app', { ensure: 'running' })]));
    assert.deepEqual(
      t.spec.edges.map((e) => [e.from, e.to, e.notify]),
      [[{ kind: 'file', name: '/etc/app.conf' }, { kind: 'svc', name: 'app' }, true]],
    );
  });
});
