import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rubyRegexpToJs } from '../../src/puppet/ruby-regexp.js';

const conv = (s: string) => {
  const c = rubyRegexpToJs(s);
  return c.ok ? c.source : `REFUSED: ${c.reason}`;
};

describe('rubyRegexpToJs', () => {
  it('keeps what means the same', () => {
    for (const s of [
      '^export\\ HTTP_PROXY\\=',
      '^#?Port\\s',
      'a|b',
      '(?:x)+?',
      '(?<n>a)\\k<n>',
      '(a)\\1',
      '[^#;]',
      'a{2,3}',
      '\\d\\w\\W\\b',
      '(?=a)(?!b)(?<=c)(?<!d)',
      'x{',
      '\\.\\*',
    ]) {
      assert.doesNotMatch(conv(s), /REFUSED/, s);
    }
    assert.equal(conv('^export\\ HTTP_PROXY\\='), '^export\\ HTTP_PROXY\\=');
  });
  it('converts what differs', () => {
    assert.equal(conv('\\s+'), '[\\t-\\r ]+');
    assert.equal(conv('[\\s,]'), '[\\t-\\r ,]');
    assert.equal(conv('\\S'), '[^\\t-\\r ]');
    assert.equal(conv('\\h\\H'), '[0-9A-Fa-f][^0-9A-Fa-f]');
    assert.equal(conv('\\Afoo\\Z'), '^foo$');
    assert.equal(conv('a{,3}'), 'a{0,3}');
    assert.equal(conv('[[:space:][:digit:]]'), '[\\t-\\r 0-9]');
    assert.equal(conv('\\e\\a\\x1'), '\\x1b\\x07\\x01');
    assert.equal(conv('[]a]'), '[\\]a]');
  });
  it('refuses what it cannot carry over', () => {
    for (const s of [
      '(?i)x',
      '(?>a)',
      'a++',
      'a*+',
      'a{2}+',
      '\\z',
      '\\G',
      '\\K',
      '\\R',
      '\\p{L}',
      '[[:alpha:]]',
      '[a[b]]',
      '[a&&b]',
      '\\u{41}',
      '\\07',
      '(?#c)',
      '\\1',
      '[\\S]',
      '(',
      'x\\',
    ]) {
      assert.match(conv(s), /^REFUSED/, s);
    }
  });
  it('a converted pattern behaves like Ruby on a line (flag s, no newline)', () => {
    const re = new RegExp(conv('^k\\s*=.*$'), 's');
    assert.ok(re.test('k = 1\r'), 'Ruby’s . matches a carriage return');
    assert.ok(!new RegExp(conv('\\s'), 's').test('\u00a0'), 'Ruby’s \\s is ASCII');
  });
});
