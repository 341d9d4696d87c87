import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_INI_FORMAT, editIni, iniProblems, rubyStrip, type IniFormat, type IniWant } from '../../src/system/formats/ini-text.js';

const want = (w: Partial<IniWant>): IniWant => ({ section: 'main', setting: 'k', value: 'v', state: 'exists', createsection: true, ...w });
/** The new text, or null when in sync. */
function edit(text: string, w: Partial<IniWant>, f: Partial<IniFormat> = {}): string | null {
  const e = editIni(text, want(w), { ...DEFAULT_INI_FORMAT, ...f });
  return e.inSync ? null : e.text;
}

describe('editIni: adding', () => {
  it('creates the section in an empty (or missing) file', () => {
    assert.equal(edit('', {}), '[main]\nk = v\n');
  });
  it('a top-of-file setting in an empty file has no header', () => {
    assert.equal(edit('', { section: '' }), 'k = v\n');
  });
  it('adds a missing section at the end, after a blank line', () => {
    assert.equal(edit('[a]\nx = 1\n', {}), '[a]\nx = 1\n\n[main]\nk = v\n');
    assert.equal(edit('top = 1\n', {}), 'top = 1\n\n[main]\nk = v\n');
  });
  it('no blank line when the file had nothing before the new section', () => {
    assert.equal(edit('', {}), '[main]\nk = v\n');
  });
  it('adds at the end of the section, before its trailing blank lines', () => {
    assert.equal(edit('[main]\na = 1\n\n\n[b]\nz = 2\n', {}), '[main]\na = 1\nk = v\n\n\n[b]\nz = 2\n');
  });
  it('follows the section indentation, or indentwidth', () => {
    assert.equal(edit('[main]\n    a = 1\n  b = 2\n', {}), '[main]\n    a = 1\n  b = 2\n  k = v\n');
    assert.equal(edit('[main]\n    a = 1\n', {}, { indentwidth: 1, indentchar: '\t' }), '[main]\n    a = 1\n\tk = v\n');
  });
  it('goes after a commented-out copy of the setting', () => {
    assert.equal(edit('[main]\n# k = old\na = 1\n', {}), '[main]\n# k = old\nk = v\na = 1\n');
    assert.equal(edit('[main]\n;k=old\n', {}), '[main]\n;k=old\nk = v\n');
  });
  it('with createsection false, a missing section means nothing to do', () => {
    assert.equal(edit('[a]\n', { createsection: false }), null);
    assert.equal(edit('[main]\n', { createsection: false }), '[main]\nk = v\n');
  });
  it('uses the separator given, and reads any spacing around its stripped form', () => {
    assert.equal(edit('', {}, { separator: '=' }), '[main]\nk=v\n');
    assert.equal(edit('[main]\nk   =   v\n', {}, { separator: '=' }), null);
    assert.equal(edit('[main]\nk: v\n', {}, { separator: ': ' }), null);
  });
  it('a new setting without value is written empty, and any value of an existing one is fine', () => {
    assert.equal(edit('[main]\n', { value: undefined }), '[main]\nk = \n');
    assert.equal(edit('[main]\nk = whatever\n', { value: undefined }), null);
  });
  it('other section syntax', () => {
    assert.equal(edit('<main>\n', {}, { sectionprefix: '<', sectionsuffix: '>' }), '<main>\nk = v\n');
  });
});

describe('editIni: changing', () => {
  it('keeps indentation and separator of the existing line', () => {
    assert.equal(edit('[main]\n  k:=  old\n', {}, { separator: ':=' }), '[main]\n  k:=  v\n');
    assert.equal(edit('[main]\n\tk=old ; c\n', {}), '[main]\n\tk=v\n');
  });
  it('is in sync when the value is equal, and trailing blanks count', () => {
    assert.equal(edit('[main]\nk = v\n', {}), null);
    assert.equal(edit('[main]\nk = v  \n', {}), '[main]\nk = v\n');
  });
  it('leaves every other byte alone, including CRLF lines and a missing final newline elsewhere', () => {
    const text = '; c\r\n[main]\r\nk = old\r\nz = 1\r\n[o]\r\nq=1';
    assert.equal(edit(text, {}), '; c\r\n[main]\r\nk = v\nz = 1\r\n[o]\r\nq=1\n');
  });
  it('edits the section by name, not a setting of the same key elsewhere', () => {
    assert.equal(edit('k = top\n[main]\nk = old\n', {}), 'k = top\n[main]\nk = v\n');
    assert.equal(edit('k = top\n[main]\n', { section: '' }), 'k = v\n[main]\n');
  });
  it('updates every line of a duplicated key; a repeated section is edited in its last copy', () => {
    assert.equal(edit('[main]\nk = 1\nk = 2\n', {}), '[main]\nk = v\nk = v\n');
    assert.equal(edit('[main]\nk = 1\n[main]\nx = 2\n', {}), '[main]\nk = 1\n[main]\nx = 2\nk = v\n');
  });
  it('headers may carry whitespace around them', () => {
    assert.equal(edit('  [main]  \nk = v\n', {}), null);
  });
});

describe('editIni: removing', () => {
  it('removes the setting and a section left with only its header', () => {
    assert.equal(edit('[a]\nx = 1\n[main]\nk = v\n', { state: 'absent' }), '[a]\nx = 1\n');
    assert.equal(edit('[main]\nk = v\n# keep\n', { state: 'absent' }), '[main]\n# keep\n');
  });
  it('never removes the top of the file', () => {
    assert.equal(edit('k = v\n[a]\n', { section: '', state: 'absent' }), '[a]\n');
  });
  it('in sync when the setting or section is not there', () => {
    assert.equal(edit('[main]\nx = 1\n', { state: 'absent' }), null);
    assert.equal(edit('', { state: 'absent' }), null);
  });
});

describe('iniProblems', () => {
  it('accepts ordinary settings', () => {
    assert.deepEqual(iniProblems(want({}), DEFAULT_INI_FORMAT), []);
    assert.deepEqual(iniProblems(want({ section: '', setting: 'a.b-c', value: 'x = y ; z' }), DEFAULT_INI_FORMAT), []);
  });
  it('refuses what would not read back', () => {
    for (const w of [{ setting: ' k' }, { setting: '#k' }, { setting: 'a=b' }, { value: ' v' }, { value: 'a\nb' }, { setting: '' }]) {
      assert.equal(iniProblems(want(w), DEFAULT_INI_FORMAT).length, 1, JSON.stringify(w));
    }
    assert.equal(iniProblems(want({ section: 'a\nb' }), DEFAULT_INI_FORMAT).length, 1);
  });
  it('rubyStrip strips ASCII whitespace and NUL', () => {
    assert.equal(rubyStrip('\0 \t a b \r\n'), 'a b');
  });
});
