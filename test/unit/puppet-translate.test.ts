// Unit tests of the Puppet translator: catalog formats, relationships and flattening, rule tables, names,
// redaction, YAML quoting, and the edge count / time on large catalogs.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkGraphText } from '../../src/graph/read.js';
import { yamlString } from '../../src/graph/yaml-writer.js';
import { type Catalog, CatalogError, type CatalogResource, catalogFromData, readCatalog } from '../../src/puppet/catalog.js';
import { graphYaml } from '../../src/puppet/output.js';
import { REDACTED } from '../../src/observe/redact.js';
import { normalizeRef } from '../../src/puppet/relationships.js';
import { translateCatalog } from '../../src/puppet/translate.js';
import { catalogOf, catalogResource } from '../harness/catalog.js';
import { registry } from '../../src/cli/registry.js';

const res = catalogResource;
const cat = catalogOf;
const one = (r: CatalogResource) => translateCatalog(registry, cat([r]));
const edgeSet = (c: Catalog) => translateCatalog(registry, c).spec.edges.map((e) => `${e.name}${e.notify ? ' ~' : ''}`);

describe('catalog formats', () => {
  it('rejects anything else with the source name', () => {
    assert.throws(
      () => readCatalog('[1]', 'x.json'),
      (e: Error) => e instanceof CatalogError && e.message.startsWith('x.json: '),
    );
    assert.throws(() => readCatalog('{"format":"other"}', 'y.json'), /y\.json: unknown catalog format "other"/);
    assert.throws(() => readCatalog('{nope', 'z.json'), /z\.json: not valid JSON/);
    assert.throws(() => catalogFromData({ hello: 1 }, 'w'), /w: not a catalog/);
  });
  it('reads YAML text too (strings stay strings when quoted)', () => {
    const c = readCatalog(
      'format: mgmtgraph-catalog\nversion: 1\nnode: a\nresources:\n- {type: File, title: /x, parameters: {mode: "0644"}}\nedges: []\n',
      'c.yaml',
    );
    assert.equal(c.resources[0]!.parameters.mode, '0644');
  });
});

describe('relationships', () => {
  it('normalises references as Puppet does', () => {
    assert.equal(normalizeRef('class[foo::bar]'), 'Class[Foo::Bar]');
    assert.equal(normalizeRef('mgmt::vhost[x]'), 'Mgmt::Vhost[x]');
    assert.equal(normalizeRef('Class[::a]'), 'Class[A]');
    assert.equal(normalizeRef('file[/x]'), 'File[/x]');
  });
  it('a missing reference is an error at the referencing resource', () => {
    assert.throws(
      () => translateCatalog(registry, cat([res('File', '/a', { require: 'File[/nope]' }, { file: 'm.pp', line: 7 })])),
      /m\.pp:7: File\[\/a\]: `require` names File\[\/nope\], which is not in the catalog/,
    );
  });
  it('require and subscribe point backwards; refresh only into refreshable kinds', () => {
    const c = cat([
      res('Exec', 'e', { command: '/bin/true', subscribe: ['File[/a]'] }),
      res('File', '/a'),
      res('File', '/b', { require: 'Exec[e]', subscribe: 'File[/a]' }),
    ]);
    assert.deepEqual(edgeSet(c), ['Exec[e] -> File[/b]', 'File[/a] -> Exec[e] ~', 'File[/a] -> File[/b]']);
  });
  it('dedupes parallel edges and ORs notify', () => {
    const c = cat([res('File', '/a', { before: 'Exec[e]', notify: 'Exec[e]' }), res('Exec', 'e', { command: '/bin/true', require: 'File[/a]' })]);
    assert.deepEqual(edgeSet(c), ['File[/a] -> Exec[e] ~']);
  });
  it('a refresh does not pass through an empty container on a plain hop', () => {
    const c = cat([res('File', '/a', { notify: 'Class[E]' }), res('Class', 'E', { before: 'Exec[e]' }), res('Exec', 'e', { command: '/bin/true' })]);
    assert.deepEqual(edgeSet(c), ['File[/a] -> Exec[e]']);
    const d = cat([res('File', '/a', { notify: 'Anchor[x]' }), res('Anchor', 'x', { notify: 'Exec[e]' }), res('Exec', 'e', { command: '/bin/true' })]);
    assert.deepEqual(edgeSet(d), ['File[/a] -> Exec[e] ~']);
  });
  it('nested defines inside classes reach every leaf', () => {
    const c = cat(
      [
        res('Class', 'A', { before: 'File[/z]' }),
        res('D', 'x', {}, { kind: 'defined_type' }),
        res('E', 'y', {}, { kind: 'defined_type' }),
        res('File', '/in'),
        res('File', '/z'),
      ],
      [
        { source: 'Class[A]', target: 'D[x]' },
        { source: 'D[x]', target: 'E[y]' },
        { source: 'E[y]', target: 'File[/in]' },
      ],
    );
    assert.deepEqual(edgeSet(c), ['File[/in] -> File[/z]']);
  });
});

describe('rule tables', () => {
  it('every unknown attribute sends the resource to the fallback (never dropped silently)', () => {
    const { spec, report } = one(res('File', '/a', { content: 'x', nosuch: 1 }));
    assert.equal(spec.resources[0]!.kind, 'puppet');
    assert.deepEqual(report.resources[0]!.notes, [{ attribute: 'nosuch', message: 'attribute has no translation rule' }]);
  });
  it('file: puppet:/// source and replace => false go to the fallback with a reason', () => {
    assert.match(one(res('File', '/a', { source: 'puppet:///modules/m/x' })).report.resources[0]!.reason!, /^no module file found for it/);
    assert.match(one(res('File', '/a', { source: 'puppet:///files/x' })).report.resources[0]!.reason!, /^only puppet:\/\/\/modules\//);
    assert.equal(one(res('File', '/a', { content: 'x', replace: false })).report.resources[0]!.status, 'fallback');
    assert.equal(one(res('File', '/a', { content: 'x', replace: true })).report.resources[0]!.status, 'native');
  });
  it('file: ensure absent drops properties with a note (native: Puppet ignores them too); a trailing slash in the title is normalised', () => {
    const { spec, report } = one(res('File', '/a/', { ensure: 'absent', mode: '0644' }));
    assert.deepEqual(spec.resources[0]!.params, { path: '/a', state: 'absent' });
    assert.equal(report.resources[0]!.status, 'native');
    assert.deepEqual(report.resources[0]!.info, [{ attribute: 'mode', message: 'ignored when ensure is absent' }]);
  });
  it('exec: title is the name, command defaults to the title, no stale fields', () => {
    const { spec } = one(res('Exec', '/usr/bin/make'));
    assert.deepEqual(spec.resources[0]!.params, { cmd: '/usr/bin/make', shell: '/bin/sh' });
    assert.deepEqual(spec.resources[0]!.meta, { timeout: 300000 });
    assert.equal(spec.resources[0]!.name, '/usr/bin/make');
  });
  it('exec: returns 0 is fine, tries 1 means no retry, timeout 0 means none', () => {
    const { spec, report } = one(res('Exec', 'e', { command: '/bin/true', returns: [0], tries: 1, timeout: 0 }));
    assert.equal(report.resources[0]!.status, 'native');
    assert.deepEqual(spec.resources[0]!.meta, { retry: 0, timeout: 0 });
  });
  it('notify: loglevels map to priorities', () => {
    for (const [lvl, p] of [
      ['err', 'Err'],
      ['debug', 'Debug'],
      ['crit', 'Crit'],
      ['warning', 'Warning'],
    ]) {
      assert.equal(one(res('Notify', 'x', { loglevel: lvl })).spec.resources[0]!.params.priority, p);
    }
  });
  it('a duplicate kind[name] is an error naming both origins', () => {
    const c = cat([res('File', '/a', {}, { line: 1 }), res('File', '/a', {}, { line: 9 })]);
    assert.throws(() => translateCatalog(registry, c), /File\[\/a\] \(site\.pp:9\) and File\[\/a\] \(site\.pp:1\) both become file\[\/a\]/);
  });
  it('collectors become collect entries carrying the query', () => {
    const c: Catalog = {
      ...cat([]),
      collectors: [
        { type: 'File', query: ['tag', '==', 's'] },
        { type: 'Cron', query: null },
        { type: 'Tidy', query: null },
      ],
    };
    assert.deepEqual(translateCatalog(registry, c).spec.collect, [
      { kind: 'file', pattern: '', query: ['tag', '==', 's'], type: 'File' },
      { kind: 'crontab:entry', pattern: '', query: null, type: 'Cron' },
      { kind: 'puppet', pattern: '', query: null, type: 'Tidy' },
    ]);
  });
  it('the runinterval sets meta.poll of fallbacks', () => {
    const { spec } = translateCatalog(registry, cat([res('Tidy', '/tmp/t', { age: '1w', before: 'File[/a]' }), res('File', '/a')]), { runinterval: 60 });
    assert.deepEqual(spec.resources.find((r) => r.kind === 'puppet')!.meta, { poll: 60 });
    assert.deepEqual(spec.resources.find((r) => r.kind === 'puppet')!.params.parameters, { age: '1w' });
  });
});

describe('printing', () => {
  it('quotes every string a YAML 1.1 or 1.2 reader could retype', () => {
    for (const s of ['0644', 'yes', 'No', 'on', '1e3', '0o17', '~', 'null', '.inf', '-1', '', 'a: b', '#x', '@@a', 'a,b', 'true']) {
      assert.notEqual(yamlString(s), s, s);
    }
    assert.equal(yamlString('/etc/motd'), '/etc/motd');
  });
  it('sensitive values are applied in the spec and redacted in the YAML', () => {
    const { spec } = one(res('File', '/s', { content: 'pw\n' }, { sensitive: ['content'] }));
    assert.equal(spec.resources[0]!.params.content, 'pw\n');
    assert.deepEqual(spec.resources[0]!.meta.sensitive, ['content']);
    const y = graphYaml(spec);
    assert.ok(!y.includes('pw\\n') && y.includes(REDACTED));
    assert.match(y, /not meant to be applied as is/);
    // The marking is printed with the graph, so the engine redacts it when the YAML is run.
    assert.match(y, /meta:\n\s+sensitive:\n\s+- content/);
  });
  it('a Sensitive exec command or environment marks the translated parameter, which the engine redacts', () => {
    const cmd = one(res('Exec', 'secret', { command: '/bin/echo s3cret' }, { sensitive: ['command'] })).spec.resources[0]!;
    assert.equal(cmd.params.cmd, '/bin/echo s3cret');
    assert.deepEqual(cmd.meta.sensitive, ['cmd']);
    const env = one(res('Exec', 'env', { command: '/bin/true', environment: ['TOKEN=abc'] }, { sensitive: ['environment'] })).spec.resources[0]!;
    assert.deepEqual(env.meta.sensitive, ['env']);
    assert.ok(!graphYaml(one(res('Exec', 'secret', { command: '/bin/echo s3cret' }, { sensitive: ['command'] })).spec).includes('s3cret'));
  });
  it('awkward strings round-trip through the YAML front door', () => {
    const { spec } = one(res('File', '/tmp/a b', { content: '1e3\n\t"quoted" #not a comment: yes\u2028', mode: '0644', owner: '0' }));
    const loaded = checkGraphText(registry, graphYaml(spec), 'x.yaml');
    assert.deepEqual(
      loaded.diagnostics.filter((d) => d.severity === 'error'),
      [],
    );
    assert.deepEqual(loaded.spec!.resources[0]!.params, spec.resources[0]!.params);
  });
});

/** A catalog like a real site: classes of 10 resources with chains, defines, notifies. */
export function bigCatalog(n: number): Catalog {
  const resources: CatalogResource[] = [res('Stage', 'main'), res('Class', 'main')];
  const edges: { source: string; target: string }[] = [{ source: 'Stage[main]', target: 'Class[main]' }];
  for (let c = 0; c < n / 10; c++) {
    const cls = `Class[C${c}]`;
    resources.push(res('Class', `C${c}`, c > 0 ? { require: `Class[C${c - 1}]` } : {}));
    edges.push({ source: 'Stage[main]', target: cls });
    for (let i = 0; i < 10; i++) {
      const k = c * 10 + i;
      const r =
        i === 9
          ? res('Exec', `e${k}`, { command: `/bin/echo ${k}`, unless: '/bin/false', path: ['/bin'] })
          : i === 8
            ? res('Notify', `n${k}`, { message: `m${k}` })
            : res('File', `/tmp/f${k}`, { content: `${k}\n`, mode: '0644', ...(i === 7 ? { notify: `Exec[e${c * 10 + 9}]` } : {}) });
      resources.push(r);
      edges.push({ source: cls, target: `${r.type}[${r.title}]` });
    }
  }
  return { node: 'big', resources, edges, collectors: [], source: 'big' };
}

describe('scale', () => {
  it("edges stay linear in the number of resources (timing is the benchmark's job: npm run bench -- puppet)", () => {
    const small = translateCatalog(registry, bigCatalog(1000));
    // Class[Ci] require Class[Ci-1]: 10 x 10 leaf edges per pair, plus one notify per class.
    assert.equal(small.spec.edges.length, 99 * 100 + 100);
    assert.equal(small.spec.resources.length, 1000);
    const big = translateCatalog(registry, bigCatalog(10000));
    assert.equal(big.spec.resources.length, 10000);
    assert.equal(big.spec.edges.length, 999 * 100 + 1000);
  });
});

describe('mount, host and ssh_authorized_key rules', () => {
  it('mount: the vertex is the namevar without trailing slashes; ensure values; options map; target → fstab', () => {
    const t = one(res('Mount', 'm', { name: '/mnt/data//', ensure: 'present', device: 'd', fstype: 'ext4', options: 'ro,uid=0', target: '/tmp/fstab' }));
    const r = t.spec.resources[0]!;
    assert.equal(`${r.kind}[${r.name}]`, 'mount[/mnt/data]');
    assert.deepEqual(r.params, { state: 'defined', device: 'd', type: 'ext4', options: { ro: '', uid: '0' }, freq: 0, passno: 0, fstab: '/tmp/fstab' });
    assert.equal(one(res('Mount', '/', { ensure: 'mounted', device: 'd', fstype: 'ext4' })).spec.resources[0]!.name, '/');
    const fb = (p: Record<string, unknown>) => one(res('Mount', '/m', p)).report.resources[0]!;
    assert.match(fb({ device: 'd' }).reason!, /without ensure/);
    assert.match(fb({ ensure: 'mounted', remounts: false }).reason!, /remounts => false/);
    assert.match(fb({ ensure: 'mounted', fstype: 'swap' }).reason!, /swapon/);
    assert.match(fb({ ensure: 'mounted', dump: 'x' }).reason!, /non-negative integer/);
    assert.equal(fb({ ensure: 'mounted', remounts: 'true', provider: 'parsed' }).status, 'native');
  });

  it('host and ssh_authorized_key default to present; key type aliases are spelled out', () => {
    assert.deepEqual(one(res('Host', 'h', { ip: '1.2.3.4', host_aliases: 'a' })).spec.resources[0]!.params, { state: 'exists', ip: '1.2.3.4', aliases: ['a'] });
    const k = one(res('Ssh_authorized_key', 'c', { user: 'u', type: 'ed25519', key: 'AAAA', options: 'absent' })).spec.resources[0]!;
    assert.equal(k.kind, 'ssh:authorized_key');
    assert.deepEqual(k.params, { state: 'exists', user: 'u', type: 'ssh-ed25519', key: 'AAAA', options: [] });
    assert.match(one(res('Ssh_authorized_key', 'c', { type: 'rsa', key: 'AAAA' })).report.resources[0]!.reason!, /neither user nor target/);
  });

  it("Cron becomes crontab:entry (not mgmt's cron, a systemd timer): name wins over title, values as strings", () => {
    const c = one(res('Cron', 'c', { command: ' /bin/true ', hour: 2, minute: [0, 'absent'], weekday: 'absent', special: 'absent' }));
    assert.equal(c.report.resources[0]!.status, 'fallback', '"*" cannot be combined with other values');
    const r = one(res('Cron', 'c', { name: 'nightly', command: ' /bin/true ', hour: 2, minute: [0, 30], weekday: 'absent', special: 'absent', target: 'app' }));
    assert.equal(r.report.resources[0]!.status, 'native');
    const spec = r.spec.resources[0]!;
    assert.equal(spec.kind, 'crontab:entry');
    assert.equal(spec.name, 'nightly');
    assert.deepEqual(spec.params, { state: 'exists', user: 'app', command: '/bin/true', minute: ['0', '30'], hour: '2', weekday: '*' });
  });

  it('Cron: a target other than the user, no command, or an invalid field go to the fallback with the reason', () => {
    const reason = (p: Record<string, unknown>) => one(res('Cron', 'c', p)).report.resources[0]!.reason;
    assert.match(reason({ command: '/bin/x', user: 'a', target: 'b' })!, /target differs from user/);
    assert.match(reason({ hour: 1 })!, /without command/);
    assert.match(reason({ command: '/bin/x', month: 13 })!, /not a valid value/);
    assert.match(reason({ command: '/bin/x', special: 'daily', minute: 5 })!, /special and a time field/);
    assert.match(reason({ command: '/bin/x', environment: ['not an assignment'] })!, /NAME=value/);
    assert.match(reason({ command: '/bin/x', provider: 'other' })!, /only the crontab provider/);
    assert.equal(reason({ command: '/bin/x', special: 'daily', minute: '*', provider: 'crontab', user: 'u', target: 'u' }), undefined);
    assert.match(reason({ command: '/bin/x', special: 'absent' })!, /special => absent without a time field/);
  });

  it('Cron: an attribute left out is left out (our kind leaves that part of an existing entry alone, as Puppet)', () => {
    const spec = one(res('Cron', 'c', { command: '/bin/x', hour: 2 })).spec.resources[0]!;
    assert.deepEqual(spec.params, { state: 'exists', command: '/bin/x', hour: '2' });
  });
});
