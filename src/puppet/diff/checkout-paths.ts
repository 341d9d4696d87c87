/**
 * File names in a catalog compiled from a temporary checkout are absolute paths inside it
 * (`/tmp/mgmt-diff-ref-x1/modules/app/manifests/init.pp`), which differ at each side and each run and name a
 * directory that is gone by the time anyone reads the report. Shown relative to the checkout instead, they are the
 * repository's own paths (`modules/app/manifests/init.pp`), the same at both sides. Paths outside the checkout (a
 * module installed elsewhere, Debian's modules) stay absolute.
 */
import { sep } from 'node:path';
import type { Catalog } from '../catalog.js';

/** `file` made relative to `dir` when it is inside it. */
export function pathInCheckout(file: string, dir: string): string {
  const prefix = dir.endsWith(sep) ? dir : dir + sep;
  return file.startsWith(prefix) ? file.slice(prefix.length) : file;
}

/** The catalog with its resources' `file` relative to the checkout `dir` (sources still resolve: `sourcePaths` are kept). */
export function withCheckoutPaths(c: Catalog, dir: string): Catalog {
  const resources = c.resources.map((r) => {
    if (r.file === undefined) return r;
    const file = pathInCheckout(r.file, dir);
    return file === r.file ? r : { ...r, file };
  });
  return resources.every((r, i) => r === c.resources[i]) ? c : { ...c, resources };
}
