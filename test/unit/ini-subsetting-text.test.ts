import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { editSubsetting, subsettingProblems, type SubsettingWant } from '../../src/system/formats/ini-subsetting-text.js';

const want = (w: Partial<SubsettingWant>): SubsettingWant => ({
  subsetting: '-Xmx',
  value: '512m',
  state: 'exists',
  separator: ' ',
  kvseparator: '',
  quotechar: '',
  exactmatch: false,
  insert: 'end',
  ...w,
});
const value = (current: string | undefined, w: Partial<SubsettingWant>) => {
  const e = editSubsetting(current, want(w));
  return e.inSync ? 'IN SYNC' : e.value;
};

describe('ini_subsetting: one item in a setting’s value (inifile 6 rules)', () => {
  it('adds a missing item at the end, keeping the value’s quote; a missing setting takes quotechar', () => {
    assert.equal(value('"-Xms1g -Dx=1"', {}), '"-Xms1g -Dx=1 -Xmx512m"');
    assert.equal(value(undefined, { quotechar: '"' }), '"-Xmx512m"');
    assert.equal(value(undefined, {}), '-Xmx512m');
  });
  it('changes every matching item; in sync when the first match has the value', () => {
    assert.equal(value('-Xmx1g -Xms1g -Xmx2g', {}), '-Xmx512m -Xms1g -Xmx512m');
    assert.equal(value('-Xms1g -Xmx512m', {}), 'IN SYNC');
    assert.equal(value('-Xms1g -Xmx1g', { value: undefined }), 'IN SYNC');
  });
  it('inserts at the start, before or after an item (the end when it is missing), or at an index', () => {
    assert.equal(value('a b c', { insert: 'start' }), '-Xmx512m a b c');
    assert.equal(value('a b c', { insert: 'before', insertvalue: 'b' }), 'a -Xmx512m b c');
    assert.equal(value('a b c', { insert: 'after', insertvalue: 'b' }), 'a b -Xmx512m c');
    assert.equal(value('a b c', { insert: 'after', insertvalue: 'zz' }), 'a b c -Xmx512m');
    assert.equal(value('a b c', { insert: 'index', insertvalue: '1' }), 'a -Xmx512m b c');
    assert.equal(value('a b c', { insert: 'index', insertvalue: '9' }), 'a b c -Xmx512m');
  });
  it('every character of the separator separates; items are stripped and joined with the whole separator', () => {
    assert.equal(value('a, b,c', { separator: ', ', subsetting: 'd', value: '' }), 'a, b, c, d');
  });
  it('uses the key-value separator to match and write an item; exactmatch compares whole items', () => {
    assert.equal(value('-XX:+A -XX:-B', { subsetting: '-XX', kvseparator: ':', value: '+C' }), '-XX:+C -XX:+C');
    assert.equal(value('-Xmx -Xms', { exactmatch: true, value: undefined }), 'IN SYNC');
  });
  it('removes every matching item; a setting left empty is removed (undefined)', () => {
    assert.equal(value('-Xmx1g -Xms1g -Xmx2g', { state: 'absent' }), '-Xms1g');
    assert.equal(value('-Xmx1g', { state: 'absent' }), undefined);
    assert.equal(value('"-Xmx1g"', { state: 'absent' }), '""');
    assert.equal(value('-Xms1g', { state: 'absent' }), 'IN SYNC');
  });
  it('refuses what inifile would read otherwise', () => {
    assert.equal(subsettingProblems(want({})).length, 0);
    assert.match(subsettingProblems(want({ separator: '' }))[0]!, /empty/);
    assert.match(subsettingProblems(want({ separator: 'n' }))[0]!, /regex escape/);
    assert.match(subsettingProblems(want({ separator: '.' }))[0]!, /dot/);
    assert.match(subsettingProblems(want({ insert: 'index', insertvalue: 'x' }))[0]!, /non-negative integer/);
  });
});
