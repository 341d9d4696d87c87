/**
 * PuppetDB as a catalog source: a node's latest catalog in our catalog model (catalog.ts), with its facts and
 * what PuppetDB says about it (catalog version, times, environment, code_id, whether the node is deactivated).
 * `mgmt puppet translate --puppetdb`, `mgmt puppet coverage` and `mgmt puppet diff --from-puppetdb` read nodes here.
 */
import { type Catalog, CatalogError, catalogFromData } from '../catalog.js';
import { readPuppetSsl } from './puppet-ssl.js';
import { PuppetDbClient, PuppetDbError, type PuppetDbFacts } from './puppetdb-client.js';

/** Where PuppetDB is and who this node is to it (the flags --puppetdb, --ssldir, --certname). */
export interface PuppetDbSource {
  readonly url: string;
  /** The agent's ssldir, for https. */
  readonly ssldir?: string;
  /** The certname whose certificate is used; default: the only one in ssldir. */
  readonly certname?: string;
  readonly timeoutMs?: number;
}

/** A client for `src`: the node's certificate from its ssldir when the URL is https. Close it when done. */
export function puppetDbClient(src: PuppetDbSource): PuppetDbClient {
  const https = src.url.startsWith('https:');
  if (https && src.ssldir === undefined) {
    throw new PuppetDbError(`--puppetdb ${src.url}: https needs this node's Puppet certificate: give --ssldir DIR (puppet config print ssldir)`);
  }
  const ssl = https && src.ssldir !== undefined ? readPuppetSsl(src.ssldir, src.certname) : undefined;
  return new PuppetDbClient({ url: src.url, ...(ssl ? { ssl } : {}), ...(src.timeoutMs !== undefined ? { timeoutMs: src.timeoutMs } : {}) });
}

export interface PuppetDbCatalogInfo {
  readonly certname: string;
  readonly version: string | null;
  readonly environment: string | null;
  /** When the catalog was compiled (Puppet Server's clock). */
  readonly producerTimestamp: string | null;
  readonly transactionUuid: string | null;
  readonly catalogUuid: string | null;
  readonly codeId: string | null;
  /** When the node was deactivated (`puppet node deactivate`), or null while it is active. */
  readonly deactivated: string | null;
}

export interface NodeCatalog {
  readonly catalog: Catalog;
  readonly info: PuppetDbCatalogInfo;
  /** The node's latest facts (undefined when not asked for, or when PuppetDB holds none). */
  readonly facts?: PuppetDbFacts;
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/**
 * The latest catalog PuppetDB holds for `certname`, in our catalog model; with `facts`, the node's latest facts too.
 * A node PuppetDB holds no catalog for is an error that lists nodes it does hold.
 */
export async function nodeCatalogFromPuppetDb(client: PuppetDbClient, certname: string, opts: { facts?: boolean } = {}): Promise<NodeCatalog> {
  const [doc, node, facts] = await Promise.all([client.catalog(certname), client.node(certname), opts.facts ? client.facts(certname) : undefined]);
  if (!doc) {
    const known = await client.activeNodes().catch(() => []);
    const some = known.slice(0, 10).map((n) => n.certname);
    const hint = some.length
      ? `; its active nodes include ${some.join(', ')}${known.length > some.length ? ` (${known.length} in all)` : ''}`
      : '; it holds no active node';
    throw new PuppetDbError(
      `PuppetDB at ${client.url} holds no catalog for ${certname}: check the certname, and that its Puppet Server stores catalogs there ` +
        `(storeconfigs_backend = puppetdb)${hint}`,
      404,
    );
  }
  const source = `puppetdb ${client.url} ${certname}${doc.version ? ` (catalog ${doc.version})` : ''}`;
  let catalog: Catalog;
  try {
    catalog = catalogFromData(doc, source);
  } catch (e) {
    if (e instanceof CatalogError) throw e;
    throw new CatalogError(`${source}: ${(e as Error).message}`);
  }
  return {
    catalog,
    info: {
      certname,
      version: str(doc.version),
      environment: str(doc.environment),
      producerTimestamp: str(doc.producer_timestamp),
      transactionUuid: str(doc.transaction_uuid),
      catalogUuid: str(doc.catalog_uuid),
      codeId: str(doc.code_id),
      deactivated: node?.deactivated ?? null,
    },
    ...(facts ? { facts } : {}),
  };
}
