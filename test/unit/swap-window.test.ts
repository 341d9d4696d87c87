import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { SwapWindow } from '../../src/world/swap-window.js';

describe('swap window: when collection changes are swapped in', () => {
  let clock = 0;
  let runs: number[] = [];
  let w: SwapWindow;
  const advance = (ms: number) => {
    for (let i = 0; i < ms; i++) {
      clock += 1;
      mock.timers.tick(1);
    }
  };
  beforeEach(() => {
    mock.timers.enable({ apis: ['setTimeout'] });
    clock = 1000;
    runs = [];
    w = new SwapWindow(
      25,
      () => runs.push(clock),
      () => clock,
    );
  });
  afterEach(() => mock.timers.reset());

  it('a lone change runs at once; one after a quiet window too', () => {
    w.changed();
    assert.deepEqual(runs, [1000]);
    assert.equal(w.waiting, false);
    advance(40);
    w.changed();
    assert.deepEqual(runs, [1000, 1040]);
  });

  it('changes within the window of the last run make one run at its end', () => {
    w.changed();
    advance(5);
    w.changed();
    advance(5);
    w.changed();
    assert.deepEqual(runs, [1000]);
    assert.equal(w.waiting, true);
    advance(14);
    assert.deepEqual(runs, [1000], 'not before the window ends');
    advance(1);
    assert.deepEqual(runs, [1000, 1025]);
    assert.equal(w.waiting, false);
  });

  it('a steady stream of changes (every 10 ms for 1 s) runs once per window, never held back', () => {
    for (let t = 0; t < 1000; t += 10) {
      w.changed();
      advance(10);
    }
    assert.ok(runs.length >= 38 && runs.length <= 41, `${runs.length} runs`);
    for (let i = 1; i < runs.length; i++) assert.ok(runs[i]! - runs[i - 1]! >= 25, `runs ${runs[i - 1]} and ${runs[i]} within one window`);
    assert.ok(runs.at(-1)! >= 1960, 'the last change of the stream is not held back');
  });

  it('cancel drops the waiting run', () => {
    w.changed();
    w.changed();
    w.cancel();
    advance(100);
    assert.deepEqual(runs, [1000]);
  });
});
