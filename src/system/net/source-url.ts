/**
 * Download locations as the archive kind takes them (http, https, file URLs, absolute paths): which are
 * supported, and how one is shown in messages (never with its user and password). Kept apart from download.ts so
 * that validating a graph does not load the HTTP stack.
 */

/** The source for messages: a URL's user and password are never shown. */
export function shownSource(source: string): string {
  try {
    const u = new URL(source);
    if (u.username === '' && u.password === '') return source;
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return source;
  }
}

/** Whether `source` is a kind we can download: http(s), file, or an absolute path. */
export function sourceProblem(source: string): string | undefined {
  if (source.startsWith('/')) return undefined;
  let u: URL;
  try {
    u = new URL(source);
  } catch {
    return 'is neither an absolute path nor a URL';
  }
  if (u.protocol === 'http:' || u.protocol === 'https:') return undefined;
  if (u.protocol === 'file:') return u.host === '' || u.host === 'localhost' ? undefined : 'names a file on another host (file://host/...)';
  return `uses the scheme ${u.protocol.slice(0, -1)}, which is not supported (http, https, file or an absolute path)`;
}
