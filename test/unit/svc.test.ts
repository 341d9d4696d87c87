// svc: parameters, validation, YAML loading in mgmt's shapes, automatic edges to the unit file, and the clear
// error on this machine, where PID 1 is not systemd (no double: the real machine answers).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { autoEdges } from '../../src/engine/autoedges.js';
import { formatDiagnostic } from '../../src/graph/diagnostics.js';
import { checkGraphText } from '../../src/graph/read.js';
import { svcKind, unitFilePaths } from '../../src/resources/svc.js';
import { Systemd, SystemdUnavailableError } from '../../src/system/dbus/systemd.js';
import { unitFileDir, unitName, unitNameProblem } from '../../src/system/dbus/unit-names.js';
import { check, recordingContext } from '../harness/resource-context.js';
import { registry } from '../../src/cli/registry.js';

const load = (yaml: string) => checkGraphText(registry, yaml, 'test.yaml');
const errors = (yaml: string) =>
  load(yaml)
    .diagnostics.filter((d) => d.severity === 'error')
    .map(formatDiagnostic);

describe('svc: unit names', () => {
  it('is NAME.service unless the name has a unit suffix', () => {
    assert.equal(unitName('nginx'), 'nginx.service');
    assert.equal(unitName('nginx.service'), 'nginx.service');
    assert.equal(unitName('docker.socket'), 'docker.socket');
    assert.equal(unitName('backup.timer'), 'backup.timer');
    assert.equal(unitName('getty@tty1'), 'getty@tty1.service');
    assert.equal(unitName('my.app'), 'my.app.service');
  });

  it('refuses names systemd would refuse', () => {
    assert.equal(unitNameProblem('nginx.service'), undefined);
    assert.equal(unitNameProblem('getty@tty1.service'), undefined);
    assert.equal(unitNameProblem('sys-devices-x\\x2dy.device'), undefined);
    assert.match(unitNameProblem('my app.service')!, /contains ' '.*systemd-escape/);
    assert.match(unitNameProblem('a/b.service')!, /contains '\/'/);
    assert.match(unitNameProblem('.service')!, /nothing before its suffix/);
    assert.match(unitNameProblem('a@b@c.service')!, /more than one '@'/);
    assert.match(unitNameProblem(`${'x'.repeat(300)}.service`)!, /longer than 255/);
  });

  it('validate() reports a bad name', () => {
    assert.deepEqual(svcKind.validate!('ok', {}), []);
    assert.match(svcKind.validate!('bad name', {})[0]!.message, /bad name\.service.*contains ' '/);
  });
});

describe('svc: parameters from YAML', () => {
  it('loads mgmt’s shapes; empty state/startup mean unset', () => {
    const spec = load(`graph: g
resources:
  svc:
  - {name: a, state: running, startup: enabled}
  - {name: b, state: "", startup: "", session: true}
  - {name: c, state: stopped, startup: disabled, session: false}
`).spec!;
    assert.deepEqual(
      spec.resources.map((r) => [r.name, r.params]),
      [
        ['a', { state: 'running', startup: 'enabled' }],
        ['b', { session: true }],
        ['c', { state: 'stopped', startup: 'disabled', session: false }],
      ],
    );
  });

  it('loads the mgmt-compat fixture with its notify edge', () => {
    const text = readFileSync(new URL('../../../fixtures/graphs/mgmt-compat/svc-unit-file.yaml', import.meta.url), 'utf8');
    const { spec } = load(text);
    assert.deepEqual(spec!.resources.find((r) => r.name === 'purpleidea')!.params, { session: false });
    assert.equal(spec!.edges[0]!.notify, true);
  });

  it('rejects unknown values and parameters with positions', () => {
    assert.match(errors('graph: g\nresources:\n  svc:\n  - {name: a, state: started}\n').join('\n'), /test\.yaml:4.*state/);
    assert.match(errors('graph: g\nresources:\n  svc:\n  - {name: a, startup: true}\n').join('\n'), /startup/);
    assert.match(errors('graph: g\nresources:\n  svc:\n  - {name: a, enable: true}\n').join('\n'), /enable/);
    assert.match(errors('graph: g\nresources:\n  svc:\n  - {name: a, session: maybe}\n').join('\n'), /session/);
    assert.match(errors('graph: g\nresources:\n  svc:\n  - {name: "x y"}\n').join('\n'), /contains ' '/);
  });

  it('a check of the system manager on this machine fails with the reason, not a hang', async (t) => {
    if (existsSync('/run/systemd/system')) {
      t.skip('this machine runs systemd as PID 1');
      return;
    }
    const r = svcKind.create('x', { state: '', startup: '' }, recordingContext('svc[x]'));
    await assert.rejects(check(r), /systemd is not the init system/);
  });
});

describe('svc: automatic edges to the unit file', () => {
  it('hints the unit file paths, refreshing', () => {
    assert.deepEqual(svcKind.autoEdges!('nginx', {}), {
      refreshAfterPath: ['/etc/systemd/system/nginx.service', '/lib/systemd/system/nginx.service', '/usr/lib/systemd/system/nginx.service'],
    });
    assert.deepEqual(unitFilePaths('getty@tty1.service', false).slice(0, 2), ['/etc/systemd/system/getty@tty1.service', '/etc/systemd/system/getty@.service']);
    const home = process.env.HOME;
    const xdg = process.env.XDG_CONFIG_HOME;
    try {
      process.env.HOME = '/home/u';
      delete process.env.XDG_CONFIG_HOME;
      assert.equal(unitFileDir(true), '/home/u/.config/systemd/user');
      assert.deepEqual(svcKind.autoEdges!('demo', { session: true }), { refreshAfterPath: ['/home/u/.config/systemd/user/demo.service'] });
      process.env.XDG_CONFIG_HOME = '/cfg';
      assert.deepEqual(svcKind.autoEdges!('demo', { session: true }), { refreshAfterPath: ['/cfg/systemd/user/demo.service'] });
    } finally {
      if (home === undefined) delete process.env.HOME;
      else process.env.HOME = home;
      if (xdg === undefined) delete process.env.XDG_CONFIG_HOME;
      else process.env.XDG_CONFIG_HOME = xdg;
    }
  });

  it('a managed unit file comes before the svc and refreshes it; an explicit edge wins', () => {
    const spec = load(`graph: g
resources:
  file:
  - {name: unit, path: /etc/systemd/system/web.service, content: "[Service]\\n"}
  - {name: other, path: /etc/systemd/system/other.service, content: "[Service]\\n"}
  svc:
  - {name: web, state: running}
  - {name: db.service, state: running}
`).spec!;
    const edges = autoEdges(registry, spec.resources, spec.edges);
    assert.deepEqual(
      edges.map((e) => [e.from.name, e.to.name, e.notify]),
      [['unit', 'web', true]],
    );
  });
});

describe('svc: no systemd system manager on this machine', () => {
  it('session: false fails at once, saying PID 1 is not systemd', async (t) => {
    if (existsSync('/run/systemd/system')) {
      t.skip('this machine runs systemd as PID 1');
      return;
    }
    const t0 = performance.now();
    await assert.rejects(Systemd.connect(false), (e: unknown) => {
      assert.ok(e instanceof SystemdUnavailableError);
      assert.match(e.message, /systemd is not the init system on this machine \(PID 1 is '.+' and \/run\/systemd\/system does not exist\)/);
      assert.match(e.message, /session: true/);
      return true;
    });
    assert.ok(performance.now() - t0 < 1000);
  });

  it('session: true without a session bus names what is missing', async () => {
    const saved = process.env.DBUS_SESSION_BUS_ADDRESS;
    try {
      process.env.DBUS_SESSION_BUS_ADDRESS = 'unix:path=/nonexistent/mgmt-test-bus';
      await assert.rejects(Systemd.connect(true, 2000), (e: unknown) => {
        assert.ok(e instanceof SystemdUnavailableError);
        assert.match(e.message, /cannot reach the user's systemd manager \(session\): .*unix:path=\/nonexistent\/mgmt-test-bus/);
        assert.match(e.message, /systemd --user/);
        return true;
      });
      delete process.env.DBUS_SESSION_BUS_ADDRESS;
      await assert.rejects(Systemd.connect(true, 2000), /DBUS_SESSION_BUS_ADDRESS is not set/);
    } finally {
      if (saved === undefined) delete process.env.DBUS_SESSION_BUS_ADDRESS;
      else process.env.DBUS_SESSION_BUS_ADDRESS = saved;
    }
  });
});
