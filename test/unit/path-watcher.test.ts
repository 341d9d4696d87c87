import { afterEach, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configurePathWatcher, pollingStats, watchPath, watcherStats } from '../../src/system/fs/path-watcher.js';

let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mgmt-pw-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
  assert.equal(watcherStats(), 0, 'every test must leave no fs.watch behind');
  assert.equal(pollingStats(), 0, 'every test must leave no poller behind');
});

interface Counter {
  count(): number;
  /** Resolves once more than `n` events have been seen (fails after `ms`). */
  after(n: number, ms?: number): Promise<void>;
  stop(): void;
}

function counter(path: string, opts?: { recursive?: boolean }): Counter {
  let n = 0;
  let waiters: (() => void)[] = [];
  const stop = watchPath(
    path,
    () => {
      n++;
      const w = waiters;
      waiters = [];
      for (const f of w) f();
    },
    opts,
  );
  return {
    count: () => n,
    after: (k, ms = 2000) =>
      new Promise<void>((resolve, reject) => {
        if (n > k) {
          resolve();
          return;
        }
        const t = setTimeout(() => reject(new Error(`no event within ${ms} ms (seen ${n}, waiting for > ${k})`)), ms);
        const check = () => {
          if (n > k) {
            clearTimeout(t);
            resolve();
          } else waiters.push(check);
        };
        waiters.push(check);
      }),
    stop,
  };
}

/** Runs `action` and waits for at least one event caused by it. */
async function expectEvent(c: Counter, action: () => void): Promise<void> {
  const before = c.count();
  action();
  await c.after(before);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` every 2 ms until it holds (fails after `ms`). */
async function waitFor(cond: () => boolean, what: string, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

test('events on write, overwrite, delete and recreate of a file', async () => {
  const f = join(dir, 'f');
  const c = counter(f);
  try {
    await expectEvent(c, () => writeFileSync(f, 'one'));
    await expectEvent(c, () => writeFileSync(f, 'two'));
    await expectEvent(c, () => rmSync(f));
    await expectEvent(c, () => writeFileSync(f, 'three'));
    await expectEvent(c, () => writeFileSync(f, 'four'));
  } finally {
    c.stop();
  }
});

test('an atomic replace (write temp + rename) is seen, and the watch survives it', async () => {
  const f = join(dir, 'f');
  writeFileSync(f, 'old');
  const c = counter(f);
  try {
    await expectEvent(c, () => {
      writeFileSync(join(dir, '.f.tmp'), 'new');
      renameSync(join(dir, '.f.tmp'), f);
    });
    await expectEvent(c, () => writeFileSync(f, 'again'));
  } finally {
    c.stop();
  }
});

test('a path under missing directories is followed down as they appear, and back up when removed', async () => {
  const f = join(dir, 'a', 'b', 'f');
  const c = counter(f);
  try {
    await expectEvent(c, () => mkdirSync(join(dir, 'a')));
    await expectEvent(c, () => mkdirSync(join(dir, 'a', 'b')));
    await expectEvent(c, () => writeFileSync(f, 'x'));
    await expectEvent(c, () => writeFileSync(f, 'y'));
    await expectEvent(c, () => rmSync(join(dir, 'a'), { recursive: true }));
    // All at once: the watch moves down after the fact, and the move itself is reported.
    await expectEvent(c, () => {
      mkdirSync(join(dir, 'a', 'b'), { recursive: true });
      writeFileSync(f, 'z');
    });
    await sleep(20);
    await expectEvent(c, () => writeFileSync(f, 'w'));
  } finally {
    c.stop();
  }
});

test('the parent directory deleted or replaced: the watch is re-established on the new one', async () => {
  const d = join(dir, 'd');
  const f = join(d, 'f');
  mkdirSync(d);
  writeFileSync(f, 'x');
  const c = counter(f);
  try {
    await expectEvent(c, () => rmSync(d, { recursive: true }));
    await expectEvent(c, () => mkdirSync(d));
    await expectEvent(c, () => writeFileSync(f, 'y'));
    // Moved away and replaced by a new directory: events must come from the new one, not the old inode.
    await expectEvent(c, () => {
      renameSync(d, join(dir, 'old'));
      mkdirSync(d);
    });
    await sleep(20);
    await expectEvent(c, () => writeFileSync(f, 'z'));
    // A grandparent renamed away: still noticed (directories are guarded through their parents).
    mkdirSync(join(dir, 'g', 'h'), { recursive: true });
    const deep = counter(join(dir, 'g', 'h', 'f'));
    try {
      await expectEvent(deep, () => renameSync(join(dir, 'g'), join(dir, 'g2')));
      await expectEvent(deep, () => mkdirSync(join(dir, 'g', 'h'), { recursive: true }));
      await sleep(20);
      await expectEvent(deep, () => writeFileSync(join(dir, 'g', 'h', 'f'), 'deep'));
    } finally {
      deep.stop();
    }
  } finally {
    c.stop();
  }
});

test('one fs.watch per directory: 100 files in one directory share it, dispatch is by name', async () => {
  const d = join(dir, 'many');
  mkdirSync(d);
  const ancestors = d.split('/').length; // "/", each ancestor and d itself
  const counters: Counter[] = [];
  try {
    counters.push(counter(join(d, 'f0')));
    const withOne = watcherStats();
    assert.equal(withOne, ancestors);
    for (let i = 1; i < 100; i++) counters.push(counter(join(d, `f${i}`)));
    assert.equal(watcherStats(), withOne, '100 files in one directory must not add watches');
    await expectEvent(counters[57]!, () => writeFileSync(join(d, 'f57'), 'x'));
    await sleep(20);
    assert.deepEqual(
      counters.map((c, i) => (c.count() > 0 ? i : -1)).filter((i) => i >= 0),
      [57],
      'only the subscriber of f57 hears about f57',
    );
  } finally {
    for (const c of counters.splice(0, 50)) c.stop();
  }
  assert.equal(watcherStats(), ancestors, 'still watched while subscribers remain');
  for (const c of counters) c.stop();
  assert.equal(watcherStats(), 0, 'the last unsubscribe closes the watches');
});

test('no lost event: two writes 5 ms apart each produce an event', async () => {
  const f = join(dir, 'f');
  writeFileSync(f, '0');
  const c = counter(f);
  try {
    for (let i = 0; i < 5; i++) {
      await expectEvent(c, () => writeFileSync(f, `a${i}`));
      await sleep(5);
      await expectEvent(c, () => writeFileSync(f, `b${i}`));
    }
  } finally {
    c.stop();
  }
});

test('recursive: changes anywhere below a directory, including in subdirectories created later', async () => {
  const root = join(dir, 'tree');
  mkdirSync(join(root, 'x'), { recursive: true });
  const c = counter(root, { recursive: true });
  try {
    const watchesBefore = watcherStats();
    await expectEvent(c, () => writeFileSync(join(root, 'x', 'f'), '1'));
    await expectEvent(c, () => mkdirSync(join(root, 'y')));
    await sleep(20);
    await expectEvent(c, () => writeFileSync(join(root, 'y', 'g'), '1'));
    await expectEvent(c, () => mkdirSync(join(root, 'y', 'z')));
    await waitFor(() => watcherStats() === watchesBefore + 2, 'one watch per new directory of the tree');
    await expectEvent(c, () => writeFileSync(join(root, 'y', 'z', 'h'), '1'));
    await expectEvent(c, () => rmSync(join(root, 'y'), { recursive: true }));
    await waitFor(() => watcherStats() === watchesBefore, 'watches of removed directories to be released');
    await expectEvent(c, () => rmSync(root, { recursive: true }));
    await expectEvent(c, () => mkdirSync(join(root, 'q'), { recursive: true }));
    await sleep(20);
    await expectEvent(c, () => writeFileSync(join(root, 'q', 'f'), '1'));
  } finally {
    c.stop();
  }
});

test('a watch that errors is re-established', async () => {
  const handles: FSWatcher[] = [];
  const restore = configurePathWatcher({
    watchFactory: (d, listener) => {
      const h = watch(d, (type, name) => listener(type, name));
      handles.push(h);
      return h;
    },
  });
  const f = join(dir, 'f');
  const c = counter(f);
  try {
    const parentHandle = handles[handles.length - 1]!;
    await expectEvent(c, () => parentHandle.emit('error', new Error('boom')));
    await expectEvent(c, () => writeFileSync(f, 'after the error'));
  } finally {
    c.stop();
    restore();
  }
});

test('ENOSPC: falls back to polling that directory, with one warning naming the limit', async () => {
  const warnings: string[] = [];
  const restore = configurePathWatcher({
    watchFactory: () => {
      throw Object.assign(new Error('ENOSPC: System limit for number of file watchers reached'), { code: 'ENOSPC' });
    },
    warn: (m) => warnings.push(m),
    pollIntervalMs: 20,
  });
  mkdirSync(join(dir, 'a'));
  const c1 = counter(join(dir, 'f'));
  const c2 = counter(join(dir, 'a', 'g'));
  try {
    assert.equal(watcherStats(), 0);
    assert.ok(pollingStats() > 0);
    await expectEvent(c1, () => writeFileSync(join(dir, 'f'), 'x'));
    await expectEvent(c2, () => writeFileSync(join(dir, 'a', 'g'), 'x'));
    await expectEvent(c2, () => rmSync(join(dir, 'a', 'g')));
    assert.equal(warnings.length, 1, 'one warning, however many directories are polled');
    assert.match(warnings[0]!, /fs\.inotify\.max_user_watches/);
  } finally {
    c1.stop();
    c2.stop();
    restore();
  }
});

test('unsubscribe inside the callback is safe and stops further calls', async () => {
  const f = join(dir, 'f');
  let calls = 0;
  let stop: () => void = () => undefined;
  await new Promise<void>((resolve) => {
    stop = watchPath(f, () => {
      calls++;
      stop();
      resolve();
    });
    writeFileSync(f, 'x');
  });
  writeFileSync(f, 'y');
  await sleep(20);
  assert.equal(calls, 1);
});
