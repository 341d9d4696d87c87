import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkSpec } from '../../src/graph/check-spec.js';
import { formatDiagnostic } from '../../src/graph/diagnostics.js';
import { normalizeMeta } from '../../src/graph/metaparams.js';
import { checkGraphText } from '../../src/graph/read.js';
import { validateDocument } from '../../src/graph/schema.js';
import type { GraphSpec, ResourceSpec } from '../../src/graph/spec.js';
import { normalize } from '../../src/resources/normalize.js';
import { registry } from '../../src/cli/registry.js';
import { defineKind, type ResourceKind } from '../../src/resources/resource.js';
import { collectResources } from '../../src/world/collect.js';
import { recordingContext } from '../harness/resource-context.js';

/** A kind of this test only: its table has one parameter of each kind of fact normalize applies. */
const params = {
  cmd: { type: 'string', doc: 'The name parameter.' },
  level: { type: 'string', enum: ['low', 'high'], default: 'low', doc: 'Has a default.' },
  count: { type: 'integer', default: 3, doc: 'Has a default.' },
  shell: { type: 'string', emptyIsUnset: true, doc: 'Empty is unset.' },
  target: { type: 'string', required: 'the file to act on', doc: 'Required.' },
  note: { type: 'string', doc: 'Optional, no default.' },
} as const;

const received: { name: string; params: unknown }[] = [];
const probe: ResourceKind = defineKind({
  kind: 'probe',
  doc: 'Records what it receives.',
  params,
  nameParam: 'cmd',
  reach: { touches: ['nothing'], collect: 'plain' },
  refreshable: false,
  validate: (name, p) => {
    received.push({ name, params: p });
    // typed by the table: `level`, `count`, `target` and the name parameter `cmd` are present
    const typed: { cmd: string; level: string; count: number; target: string; note?: string } = p;
    return typed.count < 0 ? [{ param: 'count', message: 'negative' }] : [];
  },
  create: (name, p) => {
    received.push({ name, params: p });
    return { watch: async () => undefined, checkApply: async () => true };
  },
});

const ini = (): ResourceKind => registry.get('ini')!;

describe('normalize', () => {
  it('applies defaults, the name parameter and empty-is-unset, and keeps what was written', () => {
    const n = normalize(probe, 'echo hi', { shell: '', target: '/t', count: 0, note: '' });
    assert.deepEqual(n.problems, []);
    assert.deepEqual(n.params, { cmd: 'echo hi', level: 'low', count: 0, target: '/t', note: '' });
  });

  it('a written value wins over the name and the default', () => {
    assert.deepEqual(normalize(probe, 'n', { cmd: 'true', level: 'high', shell: '/bin/sh', target: '/t' }).params, {
      cmd: 'true',
      level: 'high',
      count: 3,
      shell: '/bin/sh',
      target: '/t',
    });
  });

  it('reports a required parameter left unset, naming it and what to give', () => {
    assert.deepEqual(normalize(probe, 'n', {}).problems, [{ param: 'target', message: 'parameter `target` is required: set it to the file to act on' }]);
    // `''` is a value for a parameter that is not empty-is-unset
    assert.deepEqual(normalize(probe, 'n', { target: '' }).problems, []);
  });

  it('normalizing twice is normalizing once', () => {
    const once = normalize(probe, 'n', { shell: '', target: '/t' });
    const twice = normalize(probe, 'n', once.params);
    assert.deepEqual(twice.params, once.params);
    assert.deepEqual(twice.problems, []);
    // under another name too: the name parameter is already set
    assert.deepEqual(normalize(probe, 'other', once.params).params, once.params);
    // and for every real kind, from an empty resource
    for (const k of registry.all()) {
      const a = normalize(k, 'x', {});
      assert.deepEqual(normalize(k, 'x', { ...a.params }).params, a.params, k.kind);
    }
  });

  it('keeps unknown parameters, so that validation still rejects them', () => {
    assert.equal(normalize(probe, 'n', { target: '/t', colour: 'red' }).params.colour, 'red');
    const spec: GraphSpec = {
      graph: 'g',
      resources: [{ kind: 'exec', name: 'e', params: { cmd: 'true', colour: 'red' }, meta: {} }],
      exports: [],
      edges: [],
      collect: [],
    };
    assert.match(checkSpec(registry, spec).map(formatDiagnostic).join('\n'), /exec\[e\]: unknown parameter `colour`/);
    const yaml = checkGraphText(registry, 'graph: g\nresources:\n  exec:\n  - name: e\n    cmd: "true"\n    colour: red\n', 'g.yaml');
    assert.match(yaml.diagnostics.map(formatDiagnostic).join('\n'), /g\.yaml:6:5: error: exec\[e\]: unknown parameter `colour`/);
  });

  it('every default of every kind passes the JSON Schema', () => {
    const resources: Record<string, unknown[]> = {};
    for (const k of registry.all()) {
      const defaults = Object.fromEntries(Object.entries(k.params).flatMap(([key, d]) => (d.default === undefined ? [] : [[key, d.default]])));
      resources[k.kind] = [{ name: 'x', ...defaults }];
    }
    assert.deepEqual(validateDocument(registry, { graph: 'g', resources }), []);
  });
});

describe('kinds receive normalized parameters, whoever calls them', () => {
  it('create and validate get defaults, the name parameter and no empty-is-unset values', () => {
    received.length = 0;
    probe.create('ls /', { shell: '', target: '/t' }, recordingContext());
    assert.deepEqual(probe.validate!('ls /', { shell: '', target: '/t' }), []);
    assert.deepEqual(
      received.map((r) => r.params),
      [
        { cmd: 'ls /', level: 'low', count: 3, target: '/t' },
        { cmd: 'ls /', level: 'low', count: 3, target: '/t' },
      ],
    );
  });

  it('a required parameter left unset: validate reports it (and the kind’s own checks wait), create refuses', () => {
    received.length = 0;
    assert.deepEqual(probe.validate!('n', { count: -1 }), [{ param: 'target', message: 'parameter `target` is required: set it to the file to act on' }]);
    assert.throws(() => probe.create('n', {}, recordingContext()), /^Error: probe\[n\]: parameter `target` is required: set it to the file to act on$/);
    assert.deepEqual(received, []);
  });
});

describe('required parameters: the errors every front door gives (new messages)', () => {
  it('YAML: kind[name], the parameter, what to give, and the position', () => {
    const text = [
      'graph: g',
      'resources:',
      '  ini:',
      '  - name: i',
      '    setting: k',
      '  timer:',
      '  - name: t',
      '  mount:',
      '  - name: /mnt/x',
      '  line:',
      '  - name: l',
      '    line: x',
      '',
    ].join('\n');
    const out = checkGraphText(registry, text, 'g.yaml').diagnostics.map(formatDiagnostic);
    assert.deepEqual(out, [
      'g.yaml:4:5: error: ini[i]: parameter `path` is required: set it to the absolute path of the INI file',
      'g.yaml:7:5: error: timer[t]: parameter `interval` is required: set it to the seconds between ticks',
      'g.yaml:9:5: error: mount[/mnt/x]: parameter `state` is required: set it to exists, unmounted, defined or absent',
      'g.yaml:11:5: error: line[l]: parameter `path` is required: set it to the absolute path of the file to edit',
    ]);
  });

  it('a spec that did not come from YAML (a Puppet translation): placed at its origin', () => {
    const spec: GraphSpec = {
      graph: 'g',
      resources: [{ kind: 'puppet', name: 'Tidy[/tmp]', params: { title: '/tmp' }, meta: {}, origin: { ref: 'Tidy[/tmp]', file: '/srv/site.pp', line: 4 } }],
      exports: [],
      edges: [],
      collect: [],
    };
    assert.deepEqual(checkSpec(registry, spec).map(formatDiagnostic), [
      '/srv/site.pp:4:1: error: puppet[Tidy[/tmp]]: parameter `type` is required: set it to the Puppet resource type, such as Tidy',
    ]);
  });

  it('a collected export missing a required parameter is refused with the same message', () => {
    const c = collectResources(registry, [{ kind: 'ini', pattern: '' }], [{ host: 'h1', kind: 'ini', name: 'i', params: { setting: 'k' }, meta: {} }], []);
    assert.deepEqual(c.resources, []);
    assert.match(c.rejected[0]!.reason, /^parameter `path` is required: set it to the absolute path of the INI file$/);
  });

  it('the name parameter is never required: the name supplies it', () => {
    for (const k of registry.all()) if (k.nameParam) assert.equal(k.params[k.nameParam]?.required, undefined, k.kind);
    assert.deepEqual(ini().validate!('i', { path: '/etc/a.ini', setting: 'k' }), []);
  });
});

describe('collected resources are normalized under the exported name', () => {
  it('the name parameter keeps the exporter’s name, not `<name>@<host>`', () => {
    const c = collectResources(registry, [{ kind: 'exec', pattern: '' }], [{ host: 'h1', kind: 'exec', name: 'uptime', params: {}, meta: {} }], []);
    const r: ResourceSpec = c.resources[0]!;
    assert.equal(r.name, 'uptime@h1');
    assert.equal(r.params.cmd, 'uptime');
  });
});

describe('metaparams remember whether they were set', () => {
  const metaOf = (meta: string) => {
    const loaded = checkGraphText(registry, `graph: g\nresources:\n  exec:\n  - name: e\n    cmd: "true"\n${meta}`, 'g.yaml');
    assert.deepEqual(
      loaded.diagnostics.filter((d) => d.severity === 'error'),
      [],
    );
    return normalizeMeta(loaded.spec!.resources[0]!.meta);
  };

  it('an explicit `retry: 0` is set; an unset one has no value (the engine retries it until it succeeds)', () => {
    const explicit = metaOf('    meta:\n      retry: 0\n');
    const unset = metaOf('');
    assert.equal(explicit.values.retry, 0);
    assert.equal(unset.values.retry, undefined);
    assert.deepEqual(Object.fromEntries(Object.entries(explicit.values).filter(([k]) => k !== 'retry')), unset.values);
    assert.deepEqual([...explicit.set], ['retry']);
    assert.deepEqual([...unset.set], []);
  });

  it('every default is filled in; a null value is unset; an obsolete exec parameter moved into meta counts as set', () => {
    const m = metaOf('    meta:\n      retry: ~\n      noop: false\n    timeout: 5\n');
    assert.deepEqual([...m.set].sort(), ['noop', 'timeout']);
    assert.equal(m.values.timeout, 5000);
    assert.equal(m.values.autoedge, true);
    assert.equal(m.values.limit, undefined);
  });
});
