/**
 * `mgmt puppet diff --from-puppetdb --puppetdb-url URL` (octocatalog-diff's flags): the "from" side is the catalog
 * each node runs now, its latest in PuppetDB (stored there by its Puppet Server), and its latest facts, which the
 * "to" side's compile uses unless fact files are given. A node PuppetDB cannot answer for fails alone, as a node
 * that does not compile does.
 */
import { readFileSync } from 'node:fs';
import { errorText } from '../../observe/errors.js';
import { nodeCatalogFromPuppetDb, type PuppetDbSource, puppetDbClient } from '../agent/puppetdb-catalog.js';
import { PuppetDbClient } from '../agent/puppetdb-client.js';
import { type Catalog, CatalogError, type CatalogResource } from '../catalog.js';
import type { Facts } from './facts.js';

/** Where PuppetDB is, and the client certificate: an agent's ssldir, or octocatalog-diff's three PEM files. */
export interface RunningSource extends PuppetDbSource {
  /** `--puppetdb-ssl-ca`, `--puppetdb-ssl-client-cert`, `--puppetdb-ssl-client-key`. */
  readonly files?: { readonly ca: string; readonly cert: string; readonly key: string };
}

function clientFor(src: RunningSource): PuppetDbClient {
  if (!src.files) return puppetDbClient(src);
  const read = (path: string, flag: string) => {
    try {
      return readFileSync(path, 'utf8');
    } catch (e) {
      throw new CatalogError(`${flag} ${path}: ${errorText(e)}`);
    }
  };
  const f = src.files;
  const ssl = {
    certname: src.certname ?? 'the client certificate',
    ca: read(f.ca, '--puppetdb-ssl-ca'),
    cert: read(f.cert, '--puppetdb-ssl-client-cert'),
    key: read(f.key, '--puppetdb-ssl-client-key'),
    ssldir: f.cert,
  };
  return new PuppetDbClient({ url: src.url, ssl, ...(src.timeoutMs !== undefined ? { timeoutMs: src.timeoutMs } : {}) });
}

export type RunningCatalog =
  | { readonly ok: true; readonly catalog: Catalog; readonly facts: Facts | undefined; readonly version: string | null }
  | { readonly ok: false; readonly message: string };

/** Parameters that are the namevar, where it is not `name` (the types whose namevar PuppetDB's terminus may alias). */
const NAMEVAR: Readonly<Record<string, string>> = { File: 'path', Exec: 'command', Tidy: 'path', Archive: 'path', Concat_file: 'path' };

/**
 * The catalog without the aliases PuppetDB's terminus adds when it stores a catalog (each resource whose namevar
 * differs from its title gets the namevar in `alias`; `Stage[main]` gets `main`): a compile has none, so they would
 * show as a change of every such resource. Aliases the manifest gave stay.
 */
export function withoutTerminusAliases(c: Catalog): Catalog {
  const strip = (r: CatalogResource): CatalogResource => {
    const alias = r.parameters.alias;
    if (alias === undefined) return r;
    const namevar = r.parameters[NAMEVAR[r.type] ?? 'name'];
    const kept = (Array.isArray(alias) ? alias : [alias]).filter((a) => a !== r.title && a !== namevar);
    if (kept.length === (Array.isArray(alias) ? alias.length : 1)) return r;
    const { alias: _alias, ...rest } = r.parameters;
    return { ...r, parameters: kept.length === 0 ? rest : { ...rest, alias: kept.length === 1 && !Array.isArray(alias) ? kept[0] : kept } };
  };
  const resources = c.resources.map(strip);
  return resources.every((r, i) => r === c.resources[i]) ? c : { ...c, resources };
}

/** Nodes asked of PuppetDB at once. */
const CONCURRENCY = 4;

/** Each node's latest catalog and facts from PuppetDB, in `nodes` order. */
export async function runningCatalogs(src: RunningSource, nodes: readonly string[]): Promise<RunningCatalog[]> {
  const client = clientFor(src);
  try {
    const out: RunningCatalog[] = new Array<RunningCatalog>(nodes.length);
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < nodes.length; i = next++) {
        try {
          const n = await nodeCatalogFromPuppetDb(client, nodes[i]!, { facts: true });
          out[i] = { ok: true, catalog: withoutTerminusAliases(n.catalog), facts: n.facts ? { ...n.facts.values } : undefined, version: n.info.version };
        } catch (e) {
          out[i] = { ok: false, message: errorText(e) };
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, nodes.length) }, worker));
    return out;
  } finally {
    client.close();
  }
}
