/**
 * What the kernel would refuse in a path, or silently change, checked before anything runs (validation refuses what
 * a run would refuse): a NUL byte (no path can hold one: the call fails, or would stop at it), a component longer
 * than NAME_MAX (255 bytes: ENAMETOOLONG), a path of PATH_MAX (4,096 bytes with its terminating NUL) or more, and a
 * path that is not valid UTF-8. Paths reach us as JavaScript strings: bytes of a graph file that are not UTF-8
 * were decoded to U+FFFD, and a lone surrogate (a JSON escape such as \ud800) is encoded as U+FFFD's bytes, so
 * either would name a different file than the one written. One check for every kind that takes a path.
 */

/** The longest name of one path component, in bytes (Linux, every common file system). */
export const NAME_MAX = 255;
/** The longest path, in bytes, counting its terminating NUL (Linux). */
export const PATH_MAX = 4096;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The path as a message can show it: JSON-quoted (NUL and other controls escaped), long ones cut. */
export function showPath(path: string): string {
  const cut = path.length > 80 ? `${path.slice(0, 60)}...${path.slice(-12)}` : path;
  return JSON.stringify(cut);
}

/** What makes `path` unusable as a path, as a sentence that starts with the path; undefined when it is fine. */
export function pathProblem(path: string): string | undefined {
  if (path.includes('\0')) return `${showPath(path)} contains a NUL byte, which no path can hold; remove it`;
  if (path.includes('\uFFFD') || LONE_SURROGATE.test(path)) {
    return `${showPath(path)} is not valid UTF-8 (it holds U+FFFD or a lone surrogate: bytes of the graph file that are not UTF-8 are read as U+FFFD, which names a different file); write the path in UTF-8`;
  }
  // A UTF-16 unit is at most 3 bytes of UTF-8 (a surrogate pair, 2 units, is 4): short strings need no count.
  if (path.length * 3 < PATH_MAX) {
    if (path.length * 3 <= NAME_MAX) return undefined;
  } else {
    const bytes = Buffer.byteLength(path);
    if (bytes >= PATH_MAX) return `${showPath(path)} is ${bytes} bytes long; a path may have at most ${PATH_MAX - 1} bytes`;
  }
  for (const c of path.split('/')) {
    if (c.length * 3 <= NAME_MAX) continue;
    const n = Buffer.byteLength(c);
    if (n > NAME_MAX) return `${showPath(path)} has a component of ${n} bytes (${showPath(c)}); a file name may have at most ${NAME_MAX} bytes`;
  }
  return undefined;
}
