/**
 * `puppet:///modules/...` sources of a server's catalog, fetched from the server (file_metadata, file_content,
 * file_metadatas for a directory) into a local cache that mirrors the mount paths, so the translator copies them
 * natively from there (the catalog's `sourcePaths`, as for a catalog compiled on this host). Files whose sha256
 * matches are not fetched again. A source the server does not have is left out: the translator says so.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Catalog, CatalogResource } from '../catalog.js';
import { safeRelative, syncTree } from './file-sync.js';
import { ServerError, type PuppetServerClient } from './server-client.js';

const MODULES = 'puppet:///modules/';

export async function fetchSources(
  catalog: Catalog,
  client: PuppetServerClient,
  environment: string,
  cacheDir: string,
  o: { warn: (m: string) => void; signal?: AbortSignal },
): Promise<{ catalog: Catalog; fetched: number }> {
  const resolved = new Map<string, string | null>();
  let fetched = 0;
  const resolve = async (url: string): Promise<string | null> => {
    const known = resolved.get(url);
    if (known !== undefined) return known;
    const mountPath = url.slice('puppet:///'.length);
    const rel = safeRelative(mountPath);
    let local: string | null = null;
    if (rel !== undefined && rel !== '') {
      try {
        const meta = await client.fileMetadata(rel, environment, o.signal);
        local = join(cacheDir, rel);
        if (meta.type === 'directory') {
          const tree = await client.fileMetadatas(rel, environment, o.signal);
          const r = await syncTree(tree, local, (f) => client.fileContent(f ? `${rel}/${f}` : rel, environment, o.signal), { purge: true, warn: o.warn });
          fetched += r.fetched;
        } else if (await fetchFile(local, meta.checksum.value, () => client.fileContent(rel, environment, o.signal))) fetched++;
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

/** Writes the file at `local` unless it already has the checksum (`{sha256}...`); true when it was fetched. */
async function fetchFile(local: string, checksum: string, fetch: () => Promise<Buffer>): Promise<boolean> {
  const want = /^\{sha256\}([0-9a-f]{64})$/.exec(checksum)?.[1];
  const have = await readFile(local).then(
    (b) => createHash('sha256').update(b).digest('hex'),
    () => undefined,
  );
  if (want !== undefined && have === want) return false;
  const data = await fetch();
  await mkdir(dirname(local), { recursive: true });
  await writeFile(`${local}.mgmt-tmp`, data);
  await rename(`${local}.mgmt-tmp`, local);
  return true;
}
