import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CatalogResource } from '../../src/puppet/catalog.js';
import { registry } from '../../src/cli/registry.js';
import { checkSpec } from '../../src/graph/check-spec.js';
import { assembleConcat, checkFragment, groupConcat } from '../../src/puppet/concat.js';
import { translateCatalog } from '../../src/puppet/translate.js';
import { catalogOf, catalogResource } from '../harness/catalog.js';

const res = (type: string, title: string, parameters: Record<string, unknown>, sensitive: string[] = []): CatalogResource => ({
  type,
  title,
  tags: [],
  exported: false,
  virtual: false,
  parameters,
  sensitive,
});
const frag = (title: string, order: unknown, content: string, extra: Record<string, unknown> = {}) =>
  res('Concat_fragment', title, { target: '/f', content, ...(order === undefined ? {} : { order }), ...extra });
const content = (file: Record<string, unknown>, parts: CatalogResource[]) => {
  const a = assembleConcat(res('Concat_file', '/f', file), parts);
  return a.ok ? a.content : `REFUSED: ${a.refusals[0]!.message}`;
};

describe('concat: which fragments belong to which file', () => {
  it('by path, by title, by equal tag; a fragment may feed several files or none', () => {
    const rs = [
      res('Concat_file', 'motd', { path: '/etc/motd', tag: 't1' }),
      res('Concat_file', '/other', { tag: 't2' }),
      frag('by-path', undefined, 'a', { target: '/etc/motd' }),
      frag('by-title', undefined, 'b', { target: 'motd' }),
      res('Concat_fragment', 'by-tag', { tag: 't2', content: 'c' }),
      res('Concat_fragment', 'both', { target: 'motd', tag: 't2', content: 'd' }),
      frag('orphan', undefined, 'e', { target: '/nowhere' }),
    ];
    const g = groupConcat(rs, () => true);
    assert.deepEqual(g.partsOf.get(0), [2, 3, 5]);
    assert.deepEqual(g.partsOf.get(1), [4, 5]);
    assert.deepEqual(g.filesOf.get(5), [0, 1]);
    assert.deepEqual(g.filesOf.get(6), []);
    assert.equal(g.filesOf.get(0), undefined);
  });
  it('leaves out what `include` rejects (exported resources)', () => {
    const rs = [res('Concat_file', '/f', {}), frag('x', undefined, 'a')];
    assert.deepEqual(groupConcat(rs, (r) => r.type !== 'Concat_fragment').partsOf.get(0), []);
  });
});

describe('concat: sorting and joining', () => {
  it('numeric (the type’s default): orders compare as integers, then names', () => {
    assert.equal(content({}, [frag('b', '10', 'B'), frag('a', 2, 'A'), frag('c', '010', 'C'), frag('z', '9', 'Z')]), 'AZBC');
    assert.equal(content({}, [frag('100', 1, 'x'), frag('20', 1, 'y')]), 'yx');
  });
  it('alpha: orders and names compare as strings', () => {
    assert.equal(content({ order: 'alpha' }, [frag('b', '10', 'B'), frag('a', 2, 'A'), frag('z', '9', 'Z')]), 'BAZ');
  });
  it('the default order is 10', () => {
    assert.equal(content({}, [frag('a', undefined, 'A'), frag('b', 9, 'B'), frag('c', 11, 'C')]), 'BAC');
  });
  it('a mix of numeric and other orders cannot be sorted numerically (Puppet fails too)', () => {
    assert.match(content({}, [frag('a', 'x', 'A'), frag('b', 1, 'B')]), /REFUSED: fragments mix numeric and non-numeric/);
    assert.equal(content({ order: 'alpha' }, [frag('a', 'x', 'A'), frag('b', 1, 'B')]), 'BA');
  });
  it('ensure_newline adds a newline where one is missing (even to an empty fragment)', () => {
    assert.equal(content({ ensure_newline: true }, [frag('a', 1, 'a'), frag('b', 2, 'b\n'), frag('c', 3, '')]), 'a\nb\n\n');
  });
  it('bytes, not UTF-16 units, decide string order', () => {
    assert.equal(content({ order: 'alpha' }, [frag('\u{1F600}', 1, 'emoji'), frag('\uFF21', 1, 'fullwidth')]), 'fullwidthemoji');
  });
  it('a Sensitive fragment makes the content sensitive', () => {
    const a = assembleConcat(res('Concat_file', '/f', {}), [frag('a', 1, 'pw', {}), res('Concat_fragment', 's', { target: '/f', content: 'x' }, ['content'])]);
    assert.ok(a.ok && a.sensitive);
  });
});

describe('concat: a fragment’s own checks', () => {
  it('source, missing content and bad orders are refusals', () => {
    assert.equal(checkFragment(frag('a', 1, 'x')).refusals.length, 0);
    assert.match(checkFragment(res('Concat_fragment', 's', { target: '/f', source: '/x' })).refusals[0]!.message, /source is read by Puppet/);
    assert.match(checkFragment(res('Concat_fragment', 'n', { target: '/f' })).refusals[0]!.message, /needs content/);
    assert.match(checkFragment(frag('o', 'a/b', 'x')).refusals[0]!.message, /without \/, : or newline/);
  });
  it('metaparameters have no effect on a fragment and are not refused', () => {
    assert.deepEqual(checkFragment(frag('a', 1, 'x', { noop: true, schedule: 'daily', before: 'File[/x]' })), { notes: [], info: [], refusals: [] });
  });
});

describe('concat: format (concat 9)', () => {
  const a = frag('a', 1, '{"k": {"x": 1}, "list": [1, 2], "s": "one"}');
  const b = frag('b', 2, '{"k": {"y": true}, "list": [2, 3], "t": null}');
  it('json merges the fragments deeply (arrays without duplicates), in fragment order', () => {
    assert.equal(content({ format: 'json' }, [b, a]), '{"k":{"x":1,"y":true},"list":[1,2,3],"s":"one","t":null}');
  });
  it('json-pretty prints as Ruby’s JSON.pretty_generate', () => {
    assert.equal(
      content({ format: 'json-pretty' }, [frag('a', 1, '{"a": [1], "e": {"x": null}}')]),
      '{\n  "a": [\n    1\n  ],\n  "e": {\n    "x": null\n  }\n}',
    );
    // Ruby's json 2.6 (Debian 12) prints an empty object as "{\n}", 2.7 and later as "{}": refused.
    assert.match(content({ format: 'json-pretty' }, [frag('a', 1, '{"e": {}}')]), /^REFUSED: .*empty object or array/);
    assert.equal(content({ format: 'json' }, [frag('a', 1, '{"e": {}, "a": []}')]), '{"e":{},"a":[]}');
  });
  it('json-array and json-array-pretty list the fragments', () => {
    assert.equal(content({ format: 'json-array' }, [b, a]).startsWith('[{"k":{"x":1}'), true);
    assert.equal(content({ format: 'json-array-pretty' }, [frag('a', 1, '1'), frag('b', 2, '"x"')]), '[\n  1,\n  "x"\n]');
  });
  it('a key given two values fails in Puppet without force; with force the earlier value stays', () => {
    const x = frag('x', 1, '{"k": "first"}');
    const y = frag('y', 2, '{"k": "second"}');
    assert.match(content({ format: 'json' }, [x, y]), /^REFUSED: .*force is not set/);
    assert.equal(content({ format: 'json', force: true }, [y, x]), '{"k":"first"}');
  });
  it('what JavaScript would print unlike Ruby is refused: floats, numeric keys, invalid JSON', () => {
    assert.match(content({ format: 'json' }, [frag('a', 1, '{"f": 1.5}')]), /^REFUSED: .*number/);
    assert.match(content({ format: 'json' }, [frag('a', 1, '{"10": 1, "a": 2}')]), /^REFUSED: .*numeric object key/);
    assert.match(content({ format: 'json' }, [frag('a', 1, '{oops')]), /^REFUSED: .*not valid JSON/);
    assert.match(content({ format: 'json' }, [frag('a', 1, '5'), frag('b', 2, '{"a": 1}')]), /^REFUSED: /);
  });
  it('plain stays the default; ensure_newline applies before JSON parsing', () => {
    assert.equal(content({ format: 'plain', ensure_newline: true }, [frag('a', 1, 'x')]), 'x\n');
    assert.equal(content({ format: 'json', ensure_newline: true }, [frag('a', 1, '{"a": 1}')]), '{"a":1}');
  });
});

describe('concat: relationships through fragments', () => {
  const file = catalogResource('Concat_file', '/etc/app.conf', { require: 'Service[app]' });
  const fragment = (extra: Record<string, unknown>) => catalogResource('Concat_fragment', 'part', { target: '/etc/app.conf', content: 'x', ...extra });
  const service = catalogResource('Service', 'app', { ensure: 'running' });
  const cmd = catalogResource('Exec', 'after', { command: '/bin/true' });
  const edges = (rs: CatalogResource[]) => {
    const t = translateCatalog(registry, catalogOf(rs));
    assert.equal(checkSpec(registry, t.spec).filter((d) => d.severity === 'error').length, 0, 'the graph validates');
    return t.spec.edges.map((e) => e.name).sort();
  };
  it('a relationship to a fragment stands for its file (an exec after a fragment runs after the file)', () => {
    assert.deepEqual(edges([catalogResource('Concat_file', '/etc/app.conf'), fragment({ before: 'Exec[after]' }), cmd]), [
      'Concat_file[/etc/app.conf] -> Exec[after]',
    ]);
  });
  it('where that makes a cycle (fragment and file on opposite sides of a service), fragments are bridged as in Puppet', () => {
    assert.deepEqual(edges([file, fragment({ before: 'Service[app]' }), service]), ['Service[app] -> Concat_file[/etc/app.conf]']);
  });
});
