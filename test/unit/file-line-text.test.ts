import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chomp, editFileLine, lineRulesProblems, readlines, type LineRules } from '../../src/system/formats/file-line-text.js';

const base: LineRules = { state: 'exists', multiple: false, replace: true, replaceall: false, appendonnomatch: true };
const rules = (r: Partial<LineRules>): LineRules => ({ ...base, ...r });
/** The new text, or null when in sync. */
function edit(text: string, r: Partial<LineRules>): string | null {
  const e = editFileLine(text, rules(r), '/f');
  return e.inSync ? null : e.text;
}

describe('readlines and chomp (Ruby readlines / chomp)', () => {
  it('cuts after each newline and keeps a last line without one', () => {
    assert.deepEqual(readlines(''), []);
    assert.deepEqual(readlines('a'), ['a']);
    assert.deepEqual(readlines('a\nb'), ['a\n', 'b']);
    assert.deepEqual(readlines('a\r\n\nb\n'), ['a\r\n', '\n', 'b\n']);
  });
  it('removes one line ending', () => {
    assert.equal(chomp('a\r\n'), 'a');
    assert.equal(chomp('a\n\n'), 'a\n');
    assert.equal(chomp('a\r'), 'a');
    assert.equal(chomp('a'), 'a');
  });
});

describe('editFileLine: present, no match', () => {
  it('appends to an empty file, a file with and without a final newline', () => {
    assert.equal(edit('', { line: 'x' }), 'x\n');
    assert.equal(edit('a\n', { line: 'x' }), 'a\nx\n');
    assert.equal(edit('a', { line: 'x' }), 'a\nx\n');
  });
  it('is in sync when the line is anywhere, whatever its line ending', () => {
    assert.equal(edit('a\nx\nb\n', { line: 'x' }), null);
    assert.equal(edit('x', { line: 'x' }), null);
    assert.equal(edit('a\r\nx\r\n', { line: 'x' }), null);
    assert.equal(edit(' x\n', { line: 'x' }), ' x\n' + 'x\n');
  });
  it('keeps CRLF endings of other lines when appending', () => {
    assert.equal(edit('a\r\nb\r\n', { line: 'x' }), 'a\r\nb\r\nx\n');
  });
  it('an empty line is a line', () => {
    assert.equal(edit('a\n', { line: '' }), 'a\n\n');
    assert.equal(edit('a\n\nb\n', { line: '' }), null);
  });
});

describe('editFileLine: after', () => {
  it('inserts after the line that matches, else appends', () => {
    assert.equal(edit('a\nb\nc\n', { line: 'x', after: /^b$/ }), 'a\nb\nx\nc\n');
    assert.equal(edit('a\nc\n', { line: 'x', after: /^b$/ }), 'a\nc\nx\n');
  });
  it('several matches of after: an error, or with multiple, after each', () => {
    assert.throws(() => edit('b\nb\n', { line: 'x', after: /^b/ }), /2 lines in \/f match `after`/);
    assert.equal(edit('b\nb\n', { line: 'x', after: /^b/, multiple: true }), 'b\nx\nb\nx\n');
  });
  it('a line already there is not moved', () => {
    assert.equal(edit('x\nb\n', { line: 'x', after: /^b$/ }), null);
  });
});

describe('editFileLine: match', () => {
  it('replaces the matching line in place', () => {
    assert.equal(edit('a\nk=1\nb\n', { line: 'k=2', match: /^k=/ }), 'a\nk=2\nb\n');
  });
  it('appends when nothing matches, or leaves the file with appendonnomatch false', () => {
    assert.equal(edit('a\n', { line: 'k=2', match: /^k=/ }), 'a\nk=2\n');
    assert.equal(edit('a\n', { line: 'k=2', match: /^k=/, appendonnomatch: false }), null);
  });
  it('with after and no match, inserts after the first after line only', () => {
    assert.equal(edit('s\ns\n', { line: 'k=2', match: /^k=/, after: /^s/ }), 's\nk=2\ns\n');
  });
  it('is in sync when the line is there, even if other lines match', () => {
    assert.equal(edit('k=1\nk=2\n', { line: 'k=2', match: /^k=/ }), null);
  });
  it('replaceall replaces every other matching line even then', () => {
    assert.equal(edit('k=1\nk=2\nk=3\n', { line: 'k=2', match: /^k=/, multiple: true, replaceall: true }), 'k=2\nk=2\nk=2\n');
  });
  it('several matches: an error unless multiple', () => {
    assert.throws(() => edit('k=1\nk=3\n', { line: 'k=2', match: /^k=/ }), /more than one line in \/f matches `match`/);
    assert.equal(edit('k=1\nk=3\n', { line: 'k=2', match: /^k=/, multiple: true }), 'k=2\nk=2\n');
  });
  it('replace false: a match is enough', () => {
    assert.equal(edit('k=1\n', { line: 'k=2', match: /^k=/, replace: false }), null);
    assert.equal(edit('a\n', { line: 'k=2', match: /^k=/, replace: false }), 'a\nk=2\n');
  });
  it('the regex sees the line without its newline but with a carriage return', () => {
    assert.equal(edit('k=1\r\n', { line: 'k=2', match: /^k=1$/s }), 'k=1\r\nk=2\n');
    assert.equal(edit('k=1\r\n', { line: 'k=2', match: /^k=.*$/s }), 'k=2\n');
  });
  it('normalises a missing final newline when it rewrites', () => {
    assert.equal(edit('a\nk=1', { line: 'k=2', match: /^k=/ }), 'a\nk=2\n');
  });
});

describe('editFileLine: absent', () => {
  it('removes every line equal to line, keeping the rest byte for byte', () => {
    assert.equal(edit('x\na\nx\r\nb', { state: 'absent', line: 'x' }), 'a\nb');
    assert.equal(edit('a\nb', { state: 'absent', line: 'x' }), null);
    assert.equal(edit('', { state: 'absent', line: 'x' }), null);
  });
  it('with match: removes what it finds; several need multiple', () => {
    assert.equal(edit('k=1\na\n', { state: 'absent', match: /^k=/ }), 'a\n');
    assert.equal(edit('a\n', { state: 'absent', match: /^k=/ }), null);
    assert.throws(() => edit('k=1\nk=2\n', { state: 'absent', match: /^k=/ }), /more than one line/);
    assert.equal(edit('k=1\nk=2\na', { state: 'absent', match: /^k=/, multiple: true }), 'a');
  });
});

describe('lineRulesProblems', () => {
  it('mirrors file_line’s own checks', () => {
    assert.deepEqual(lineRulesProblems(rules({ line: 'x' })), []);
    assert.match(lineRulesProblems(rules({}))[0]!, /`line` is required/);
    assert.deepEqual(lineRulesProblems(rules({ state: 'absent', match: /x/ })), []);
    assert.match(lineRulesProblems(rules({ line: 'a\nb' })).join(), /newline/);
    assert.match(lineRulesProblems(rules({ line: 'a', match: /a/, replaceall: true, multiple: true, replace: false })).join(), /needs `replace: true`/);
  });
});
