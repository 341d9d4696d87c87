import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { msgKind } from '../../src/resources/msg.js';
import { noopKind } from '../../src/resources/noop.js';
import { timerKind } from '../../src/resources/timer.js';
import { check, recordingContext, startWatch } from '../harness/resource-context.js';

describe('noop', () => {
  it('is always in its desired state and logs a refresh', async () => {
    const ctx = recordingContext('noop[n]');
    const r = noopKind.create('n', {}, ctx);
    assert.equal(await check(r), true);
    assert.equal(await check(r, { refresh: true }), true);
    assert.deepEqual(ctx.lines, ['info: received a refresh']);
  });
});

describe('msg', () => {
  it('logs once, again on refresh, and only says what it would log under noop', async () => {
    const ctx = recordingContext('msg[m]');
    const r = msgKind.create('m', { body: 'hello', fields: { b: '2', a: '1' } }, ctx);
    assert.equal(await check(r, { apply: false }), false);
    assert.equal(await check(r), false);
    assert.equal(await check(r), true);
    assert.equal(await check(r, { refresh: true }), false);
    assert.deepEqual(ctx.lines, ['info: would log: hello a=1 b=2', 'info: hello a=1 b=2', 'info: hello a=1 b=2']);
  });

  it('defaults the body to the name and maps priorities to log levels', async () => {
    const ctx = recordingContext('msg[m]');
    await check(msgKind.create('disk full', { priority: 'Crit' }, ctx));
    assert.deepEqual(ctx.lines, ['error: disk full']);
  });
});

describe('timer', () => {
  it('sends an event at start and on each tick', async () => {
    const r = timerKind.create('t', { interval: 1 }, recordingContext());
    const w = await startWatch(r);
    assert.equal(w.events(), 1);
    await w.next(1500);
    assert.equal(w.events(), 2);
    await w.stop();
  });

  it('is OK unless refreshed; a refresh restarts the ticker and counts as a change', async () => {
    const ctx = recordingContext('timer[t]');
    const r = timerKind.create('t', { interval: 1 }, ctx);
    const w = await startWatch(r);
    assert.equal(await check(r), true);
    assert.equal(await check(r, { refresh: true, apply: false }), false);
    assert.equal(await check(r, { refresh: true }), false);
    assert.deepEqual(ctx.lines, ['info: refresh: ticker restarted']);
    await w.stop();
  });

  it('needs an interval', () => {
    assert.deepEqual(timerKind.validate!('t', {}), [{ param: 'interval', message: 'parameter `interval` is required: set it to the seconds between ticks' }]);
  });
});
