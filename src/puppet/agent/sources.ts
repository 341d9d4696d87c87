/**
 * `puppet:///modules/...` sources of a server's catalog, fetched from the server (file_metadata, file_content,
 * file_metadatas for a directory) into a local cache that mirrors the mount paths, so the translator copies them
 * natively from there (the catalog's `sourcePaths`, as for a catalog compiled on this host). Files whose sha256
 * matches are not fetched again. A source the server does not have is left out: the translator says so.
 *
 * A static catalog (Puppet Server with versioned code: the catalog carries a `code_id` and, per File, the metadata
 * of its source) needs no file_metadata request: the file is fetched as it was at that code version
 * (static_file_content) and must match the checksum the catalog gives, so a deploy between compile and apply
 * cannot mix versions.
 */
import { join } from 'node:path';
import { sha256Hex, sha256OfDigest } from '../../system/fs/checksum.js';
import type { Catalog, CatalogResource } from '../catalog.js';
import { fetchUnlessCurrent, safeRelative, syncTree } from './file-sync.js';
import { type FileMetadata, ServerError, type PuppetServerClient } from './server-client.js';

const MODULES = 'puppet:///modules/';

/** What a static catalog pins: its code version and its sources' metadata, by `puppet:///` source. */
export interface StaticSources {
  readonly codeId: string;
  readonly metadata: ReadonlyMap<string, FileMetadata>;
}

/** The static part of a parsed catalog document (undefined when it is not a static catalog with file metadata). */
export function staticSources(doc: unknown): StaticSources | undefined {
  if (typeof doc !== 'object' || doc === null) return undefined;
  const d = doc as { code_id?: unknown; metadata?: unknown };
  if (typeof d.code_id !== 'string' || d.code_id === '' || typeof d.metadata !== 'object' || d.metadata === null) return undefined;
  const metadata = new Map<string, FileMetadata>();
  for (const m of Object.values(d.metadata as Record<string, unknown>)) {
    const meta = m as Partial<FileMetadata> | null;
    if (
      meta?.type === 'file' &&
      typeof meta.source === 'string' &&
      typeof meta.content_uri === 'string' &&
      meta.content_uri.startsWith('puppet:///') &&
      typeof meta.checksum?.value === 'string'
    ) {
      metadata.set(meta.source, meta as FileMetadata);
    }
  }
  return metadata.size > 0 ? { codeId: d.code_id, metadata } : undefined;
}

export async function fetchSources(
  catalog: Catalog,
  client: PuppetServerClient,
  environment: string,
  cacheDir: string,
  o: { warn: (m: string) => void; signal?: AbortSignal; pinned?: StaticSources | undefined },
): Promise<{ catalog: Catalog; fetched: number }> {
  const resolved = new Map<string, string | null>();
  let fetched = 0;
  const resolve = async (url: string): Promise<string | null> => {
    const known = resolved.get(url);
    if (known !== undefined) return known;
    const mountPath = url.slice('puppet:///'.length);
    const rel = safeRelative(mountPath);
    let local: string | null = null;
    const pinned = o.pinned?.metadata.get(url);
    const pinnedPath = pinned?.content_uri !== undefined ? safeRelative(pinned.content_uri.slice('puppet:///'.length)) : undefined;
    if (rel !== undefined && rel !== '' && pinned !== undefined && pinnedPath !== undefined && pinnedPath !== '') {
      // a static catalog: the file as it was at the catalog's code version, checked against the catalog's checksum
      const codeId = o.pinned!.codeId;
      local = join(cacheDir, rel);
      const fetch = async () => {
        const data = await client.staticFileContent(pinnedPath, environment, codeId, o.signal);
        const want = sha256OfDigest(pinned.checksum.value);
        if (want !== undefined && sha256Hex(data) !== want) {
          throw new Error(`${url}: the server's content at code version ${codeId} does not match the catalog's checksum ${pinned.checksum.value}`);
        }
        return data;
      };
      if (await fetchUnlessCurrent(local, pinned.checksum.value, fetch)) fetched++;
    } else if (rel !== undefined && rel !== '') {
      try {
        const meta = await client.fileMetadata(rel, environment, o.signal);
        local = join(cacheDir, rel);
        if (meta.type === 'directory') {
          const tree = await client.fileMetadatas(rel, environment, o.signal);
          const r = await syncTree(tree, local, (f) => client.fileContent(f ? `${rel}/${f}` : rel, environment, o.signal), { purge: true, warn: o.warn });
          fetched += r.fetched;
        } else if (await fetchUnlessCurrent(local, meta.checksum.value, () => client.fileContent(rel, environment, o.signal))) fetched++;
      } catch (e) {
        if (!(e instanceof ServerError && e.status === 404)) throw e;
        local = null;
      }
    } else o.warn(`${url}: not a path inside a mount; left to the translator`);
    resolved.set(url, local);
    return local;
  };
  const resources: CatalogResource[] = [];
  for (const r of catalog.resources) {
    const src = r.type === 'File' ? r.parameters.source : undefined;
    const urls = (Array.isArray(src) ? src : [src]).filter((s): s is string => typeof s === 'string' && s.startsWith(MODULES));
    if (urls.length === 0) {
      resources.push(r);
      continue;
    }
    const paths: Record<string, string> = { ...r.sourcePaths };
    for (const u of urls) {
      const p = await resolve(u);
      if (p !== null) paths[u] = p;
    }
    resources.push({ ...r, sourcePaths: paths });
  }
  return { catalog: { ...catalog, resources }, fetched };
}
