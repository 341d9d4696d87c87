// Puppet's augeas command language, pure: words, quotes, predicates with blanks, the context, onlyif conditions.
// The kind against the real augtool: test/integration/augeas.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { changeCommand, conditionHolds, inContext, parseCondition, splitWords } from '../../src/system/formats/augeas-commands.js';

test('words: blanks split, quotes are removed from whole words, a predicate with blanks is one word', () => {
  assert.deepEqual(splitWords(`set 1/#comment 'the "loopback" host'`), ['set', '1/#comment', 'the "loopback" host']);
  assert.deepEqual(splitWords(`set "a \\"b\\"" x`), ['set', 'a "b"', 'x']);
  assert.deepEqual(splitWords(`match *[canonical = 'db.example'] size > 0`), ['match', "*[canonical = 'db.example']", 'size', '>', '0']);
  assert.equal(splitWords(`set /x 'open`), 'unterminated single quote');
});

test('changes: relative paths joined to the context, $variables and absolute paths kept, words double-quoted for augtool', () => {
  assert.equal(changeCommand('set 2/ipaddr 10.0.0.2', '/files/etc/hosts'), 'set "/files/etc/hosts/2/ipaddr" "10.0.0.2"');
  assert.equal(changeCommand('ins alias before 2/alias[1]', '/files/etc/hosts/'), 'ins "alias" "before" "/files/etc/hosts/2/alias[1]"');
  assert.equal(changeCommand('remove $x', '/files/etc/hosts'), 'rm "$x"');
  assert.equal(changeCommand('set /a "x\\\\y"', ''), 'set "/a" "x\\\\y"');
  assert.equal(inContext('a', ''), 'a');
  assert.deepEqual(changeCommand('ins alias under 2', ''), { error: "'ins' needs 'before' or 'after' as its second argument" });
  assert.deepEqual(changeCommand('load', ''), {
    error: "unknown command 'load' (the commands are set, setm, rm, remove, clear, clearm, touch, mv, move, rename, insert, ins, defvar, defnode)",
  });
});

test('onlyif: get comparisons (as strings, as Ruby compares), match size, include and not_include', () => {
  const c = (s: string) => {
    const x = parseCondition(s, '/files/etc/hosts');
    assert.ok(!('error' in x), s);
    return x;
  };
  assert.deepEqual(c('get 1/ipaddr == 127.0.0.1'), { kind: 'get', path: '/files/etc/hosts/1/ipaddr', op: '==', value: '127.0.0.1' });
  assert.equal(conditionHolds(c('get 1/ipaddr == 127.0.0.1'), { value: '127.0.0.1' }), true);
  assert.equal(conditionHolds(c('get 1/ipaddr != 127.0.0.1'), { value: undefined }), true);
  assert.equal(conditionHolds(c('get x > 9'), { value: '10' }), false, 'strings compare as strings');
  assert.equal(conditionHolds(c('get x =~ ^1[0-9]$'), { value: '10' }), true);
  assert.equal(conditionHolds(c('match * size >= 2'), { paths: ['/a', '/b'] }), true);
  assert.equal(conditionHolds(c('match * size == 0'), { paths: ['/a'] }), false);
  assert.equal(conditionHolds(c('match * include /a'), { paths: ['/a'] }), true);
  assert.equal(conditionHolds(c('match * not_include /a'), { paths: ['/a'] }), false);
  for (const bad of ['values * include x', "match * == ['a']", 'get x ~= y', 'match * size == many']) assert.ok('error' in parseCondition(bad, ''), bad);
});
