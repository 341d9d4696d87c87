/** The path check of the kinds that edit a file in place (line, ini, ini:subsetting): one problem, or none. */
import { posix } from 'node:path';
import { pathProblem } from '../system/fs/path-check.js';
import type { Problem } from './resource.js';

/**
 * What is wrong with `path` as the file an editing kind works on: unusable as a path, not absolute, a directory
 * (`/` at the end; `fileIs` says why not, e.g. "an INI file is a file"), or not normalized.
 */
export function editedPathProblem(path: string, fileIs: string): Problem | undefined {
  const bad = pathProblem(path);
  if (bad !== undefined) return { param: 'path', message: `path ${bad}` };
  if (!path.startsWith('/')) return { param: 'path', message: `path "${path}" is not absolute; it must start with "/"` };
  if (path.endsWith('/')) return { param: 'path', message: `path "${path}" ends with "/": ${fileIs}, not a directory` };
  if (posix.normalize(path) !== path) return { param: 'path', message: `path "${path}" is not normalized; write "${posix.normalize(path)}"` };
  return undefined;
}
