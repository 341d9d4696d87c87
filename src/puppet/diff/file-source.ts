/**
 * `--compare-file-text` (on by default, as octocatalog-diff for local compiles): a File whose `source` is a
 * `puppet:///` URI that resolved when its side was compiled gets the file's text as `content` instead, so an
 * edit of a static file shows as a content diff, not as an unchanged URI. Only the face's catalogs know where a
 * source resolved (`source_paths`); a catalog read from a file keeps its `source`. Bounded: a file larger than
 * MAX_TEXT_BYTES, or not UTF-8 text, keeps its `source`.
 */
import { readFileSync, statSync } from 'node:fs';
import type { Catalog, CatalogResource } from '../catalog.js';

export const MAX_TEXT_BYTES = 4 * 1024 * 1024;

function textOfSource(r: CatalogResource): string | undefined {
  const src = r.parameters.source;
  const uris = (Array.isArray(src) ? src : [src]).filter((s): s is string => typeof s === 'string');
  for (const uri of uris) {
    const path = r.sourcePaths?.[uri];
    if (path === undefined) continue;
    try {
      if (statSync(path).size > MAX_TEXT_BYTES) return undefined;
      const buf = readFileSync(path);
      const text = buf.toString('utf8');
      return Buffer.from(text, 'utf8').equals(buf) ? text : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

export function withFileText(c: Catalog): Catalog {
  const resources = c.resources.map((r) => {
    if (r.type !== 'File' || r.parameters.source === undefined || r.parameters.content !== undefined) return r;
    const text = textOfSource(r);
    if (text === undefined) return r;
    const { source: _source, ...rest } = r.parameters;
    return { ...r, parameters: { ...rest, content: text } };
  });
  return resources.every((r, i) => r === c.resources[i]) ? c : { ...c, resources };
}
