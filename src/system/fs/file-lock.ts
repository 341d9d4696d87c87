/**
 * One lock per file path for the resources of this process that edit files in place (line, ini, host, mount,
 * ssh:authorized_key): the engine runs them in parallel, and two read-modify-writes of one file would read the
 * same old content and overwrite each other's edit. Every editor takes this one lock, so a `line` and a `host`
 * editing /etc/hosts take turns too. (Another process writing at the same time can still win the race; the
 * watch then reports the file, and the next check repairs it.)
 */

const locks = new Map<string, Promise<void>>();

/** Runs `fn` once every earlier `withFileLock(path, ...)` of this process has finished (FIFO, per path). */
export async function withFileLock<T>(path: string, fn: () => Promise<T>): Promise<T> {
  const previous = locks.get(path) ?? Promise.resolve();
  let release: () => void = () => undefined;
  const mine = new Promise<void>((resolve) => (release = resolve));
  const tail = previous.then(() => mine);
  locks.set(path, tail);
  await previous;
  try {
    return await fn();
  } finally {
    release();
    if (locks.get(path) === tail) locks.delete(path);
  }
}
