/**
 * A PuppetDB client for its query API v4: nodes (active only), catalogs, facts and reports. HTTPS with the node's
 * Puppet certificate (puppet-ssl.ts), or plain HTTP on loopback only (facts and catalogs can hold secrets: they do
 * not cross a network in clear text). Every request has a deadline and a bound on the answer's size; lists are read
 * page by page (`limit`/`offset` with a stable order) up to a bound on their length. Errors name the URL and say
 * what to do.
 */
import { Agent as HttpAgent, type IncomingMessage, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { errnoCode, errorText, isErrno } from '../../observe/errors.js';
import type { PuppetSsl } from './puppet-ssl.js';

export interface PuppetDbClientOptions {
  /** `https://puppetdb.example.com:8081`, or `http://127.0.0.1:8080` (plain HTTP: loopback only). */
  readonly url: string;
  /** The node's Puppet identity; required for https. */
  readonly ssl?: PuppetSsl;
  /** Deadline of one request, connection to last byte. Default 60 s. */
  readonly timeoutMs?: number;
  /** The largest answer read, in bytes. Default 64 MiB: twice the largest graph text (graph/limits.ts), as PuppetDB spells a catalog out at more length. */
  readonly maxBytes?: number;
  /** Items per page of a list query. Default 1000. */
  readonly pageSize?: number;
  /** The most items a list query returns in all. Default 100,000. */
  readonly maxItems?: number;
  /** Requests in flight at once (connections kept open). Default 4. */
  readonly maxSockets?: number;
}

export class PuppetDbError extends Error {
  override readonly name = 'PuppetDbError';
  constructor(
    message: string,
    /** The HTTP status, when PuppetDB answered. */
    readonly status?: number,
  ) {
    super(message);
  }
}

/** A node as `/pdb/query/v4/nodes` lists it (the fields used here; PuppetDB sends more). */
export interface PuppetDbNode {
  readonly certname: string;
  readonly deactivated: string | null;
  readonly expired: string | null;
  readonly catalog_timestamp: string | null;
  readonly catalog_environment: string | null;
  readonly facts_timestamp: string | null;
  readonly report_timestamp: string | null;
  readonly latest_report_status: string | null;
}

/** A catalog as `/pdb/query/v4/catalogs/NODE` returns it, with its resources and edges expanded. */
export interface PuppetDbCatalogDoc {
  readonly certname: string;
  readonly version: string | null;
  readonly environment: string | null;
  readonly producer_timestamp: string | null;
  readonly transaction_uuid: string | null;
  readonly catalog_uuid: string | null;
  readonly code_id: string | null;
  readonly resources: { readonly data: readonly unknown[]; readonly href?: string };
  readonly edges: { readonly data: readonly unknown[]; readonly href?: string };
  readonly [k: string]: unknown;
}

export interface PuppetDbFacts {
  readonly certname: string;
  readonly environment: string | null;
  readonly timestamp: string | null;
  readonly values: Readonly<Record<string, unknown>>;
}

export type OrderBy = readonly { readonly field: string; readonly order?: 'asc' | 'desc' }[];

const DEFAULTS = { timeoutMs: 60_000, maxBytes: 64 * 1024 * 1024, pageSize: 1000, maxItems: 100_000, maxSockets: 4 };
const MiB = 1024 * 1024;
const sizeText = (n: number) => (n >= MiB ? `${Math.round(n / MiB)} MiB` : `${n} bytes`);

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Whether `host` (as in a URL, IPv6 in brackets) is this machine's loopback. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  return isIP(h) === 4 && h.startsWith('127.');
}

export class PuppetDbClient {
  readonly url: string;
  private readonly base: URL;
  private readonly opts: typeof DEFAULTS;
  private readonly ssl: PuppetSsl | undefined;
  private readonly agent: HttpAgent | HttpsAgent;

  constructor(o: PuppetDbClientOptions) {
    let u: URL;
    try {
      u = new URL(o.url);
    } catch {
      throw new PuppetDbError(`--puppetdb ${JSON.stringify(o.url)} is not a URL: give https://HOST:8081 (or http://127.0.0.1:8080 on the PuppetDB host)`);
    }
    if (u.username || u.password) throw new PuppetDbError(`--puppetdb ${u.host}: PuppetDB authenticates by certificate, not by a password in the URL`);
    if (u.search || u.hash) throw new PuppetDbError(`--puppetdb ${o.url}: give the server's root URL, without a query`);
    if (u.protocol === 'http:') {
      if (!isLoopbackHost(u.hostname)) {
        throw new PuppetDbError(
          `--puppetdb ${o.url}: plain http is only used on loopback (catalogs and facts can hold secrets): ` +
            `use PuppetDB's https port (https://${u.hostname}:8081) with --ssldir, or run on the PuppetDB host against http://127.0.0.1:8080`,
        );
      }
    } else if (u.protocol === 'https:') {
      if (!o.ssl)
        throw new PuppetDbError(`--puppetdb ${o.url}: https needs this node's Puppet certificate: give --ssldir (and --certname if it holds several)`);
    } else {
      throw new PuppetDbError(`--puppetdb ${o.url}: the URL must start with https:// (or http:// on loopback)`);
    }
    this.base = u;
    this.url = u.origin + u.pathname.replace(/\/+$/, '');
    this.ssl = o.ssl;
    this.opts = {
      timeoutMs: o.timeoutMs ?? DEFAULTS.timeoutMs,
      maxBytes: o.maxBytes ?? DEFAULTS.maxBytes,
      pageSize: o.pageSize ?? DEFAULTS.pageSize,
      maxItems: o.maxItems ?? DEFAULTS.maxItems,
      maxSockets: o.maxSockets ?? DEFAULTS.maxSockets,
    };
    this.agent =
      u.protocol === 'https:' && o.ssl
        ? new HttpsAgent({ keepAlive: true, maxSockets: this.opts.maxSockets, ca: o.ssl.ca, cert: o.ssl.cert, key: o.ssl.key })
        : new HttpAgent({ keepAlive: true, maxSockets: this.opts.maxSockets });
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.agent.destroy();
  }

  /** GET `path` (under the root URL) with query parameters; resolves with the parsed JSON, or undefined on 404. */
  async get(path: string, params: Readonly<Record<string, string>> = {}): Promise<unknown> {
    const target = new URL(this.base.pathname.replace(/\/+$/, '') + path, this.base);
    for (const [k, v] of Object.entries(params)) target.searchParams.set(k, v);
    const shown = `${this.url}${path}`;
    // A kept-alive connection the server closed while idle fails at once with ECONNRESET: a GET is retried once.
    const res = await this.send(target, shown)
      .catch((e: unknown) => {
        if (e instanceof PuppetDbError || !isErrno(e, 'ECONNRESET')) throw e;
        return this.send(target, shown);
      })
      .catch((e: unknown) => {
        throw e instanceof PuppetDbError ? e : new PuppetDbError(this.transportMessage(shown, e));
      });
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw new PuppetDbError(this.statusMessage(shown, res.status, res.body), res.status);
    try {
      return JSON.parse(res.body) as unknown;
    } catch (e) {
      throw new PuppetDbError(`GET ${shown}: the answer is not JSON (${errorText(e)}): is ${this.url} a PuppetDB?`);
    }
  }

  /** One query on a v4 endpoint (`nodes`, `catalogs`, `facts`, `reports`...) with an AST query; a list. */
  async query(endpoint: string, ast?: unknown, page: { orderBy?: OrderBy; limit?: number; offset?: number } = {}): Promise<unknown[]> {
    const params: Record<string, string> = {};
    if (ast !== undefined) params.query = JSON.stringify(ast);
    if (page.orderBy) params.order_by = JSON.stringify(page.orderBy);
    if (page.limit !== undefined) params.limit = String(page.limit);
    if (page.offset !== undefined) params.offset = String(page.offset);
    const path = `/pdb/query/v4/${endpoint}`;
    const got = await this.get(path, params);
    if (got === undefined) throw new PuppetDbError(`GET ${this.url}${path}: not found (HTTP 404): is ${this.url} a PuppetDB 4 or later?`, 404);
    if (!Array.isArray(got)) throw new PuppetDbError(`GET ${this.url}${path}: expected a list, got ${typeof got}`);
    return got as unknown[];
  }

  /**
   * Every item of a query, read a page at a time in `orderBy`'s order (which must make the order total, so that
   * pages neither skip nor repeat items). Refuses more than `maxItems` items.
   */
  async queryAll(endpoint: string, ast: unknown, orderBy: OrderBy): Promise<unknown[]> {
    const all: unknown[] = [];
    const size = this.opts.pageSize;
    for (let offset = 0; ; offset += size) {
      const page = await this.query(endpoint, ast, { orderBy, limit: size, offset });
      all.push(...page);
      if (all.length > this.opts.maxItems) {
        throw new PuppetDbError(
          `${this.url}/pdb/query/v4/${endpoint}: more than ${this.opts.maxItems} results: narrow the query (for example by --environment)`,
        );
      }
      if (page.length < size) return all;
    }
  }

  /** The active nodes (deactivated and expired ones left out), by certname; optionally of one environment. */
  async activeNodes(environment?: string): Promise<PuppetDbNode[]> {
    const active = ['=', ['node', 'active'], true];
    const ast = environment === undefined ? active : ['and', active, ['=', 'catalog_environment', environment]];
    const nodes = await this.queryAll('nodes', ast, [{ field: 'certname' }]);
    return nodes.filter((n): n is PuppetDbNode => isObj(n) && typeof n.certname === 'string' && n.deactivated == null && n.expired == null);
  }

  /** A node's entry (whether active or not), or undefined when PuppetDB does not know it. */
  async node(certname: string): Promise<PuppetDbNode | undefined> {
    const got = await this.get(`/pdb/query/v4/nodes/${encodeURIComponent(certname)}`);
    return isObj(got) && typeof got.certname === 'string' ? (got as unknown as PuppetDbNode) : undefined;
  }

  /** A node's latest catalog, resources and edges expanded; undefined when PuppetDB holds none for it. */
  async catalog(certname: string): Promise<PuppetDbCatalogDoc | undefined> {
    const path = `/pdb/query/v4/catalogs/${encodeURIComponent(certname)}`;
    const got = await this.get(path);
    if (got === undefined) return undefined;
    if (!isObj(got) || got.certname !== certname) throw new PuppetDbError(`GET ${this.url}${path}: not a catalog of ${certname}`);
    const expand = async (field: 'resources' | 'edges', orderBy: OrderBy): Promise<{ data: readonly unknown[]; href?: string }> => {
      const v = got[field];
      if (isObj(v) && Array.isArray(v.data)) return { data: v.data as unknown[] };
      // Older PuppetDBs send only the link: the list is then read on its own, a page at a time.
      const ast = ['=', 'certname', certname];
      const data = await this.queryAll(field, ast, orderBy);
      return { data, ...(isObj(v) && typeof v.href === 'string' ? { href: v.href } : {}) };
    };
    return {
      ...(got as unknown as PuppetDbCatalogDoc),
      resources: await expand('resources', [{ field: 'type' }, { field: 'title' }]),
      edges: await expand('edges', [
        { field: 'source_type' },
        { field: 'source_title' },
        { field: 'target_type' },
        { field: 'target_title' },
        { field: 'relationship' },
      ]),
    };
  }

  /** A node's latest facts; undefined when PuppetDB holds none. */
  async facts(certname: string): Promise<PuppetDbFacts | undefined> {
    const got = await this.get(`/pdb/query/v4/factsets/${encodeURIComponent(certname)}`);
    if (got === undefined) return undefined;
    if (!isObj(got)) throw new PuppetDbError(`GET ${this.url}/pdb/query/v4/factsets/${certname}: not a fact set`);
    const facts = got.facts;
    const list = isObj(facts) && Array.isArray(facts.data) ? facts.data : await this.queryAll('facts', ['=', 'certname', certname], [{ field: 'name' }]);
    const values: Record<string, unknown> = {};
    for (const f of list) if (isObj(f) && typeof f.name === 'string') values[f.name] = f.value;
    return {
      certname,
      environment: typeof got.environment === 'string' ? got.environment : null,
      timestamp: typeof got.timestamp === 'string' ? got.timestamp : null,
      values,
    };
  }

  /** A node's latest reports, newest first (at most `limit`). */
  async reports(certname: string, limit = 1): Promise<Json[]> {
    const got = await this.query('reports', ['=', 'certname', certname], { orderBy: [{ field: 'receive_time', order: 'desc' }], limit });
    return got.filter(isObj);
  }

  private statusMessage(shown: string, status: number, body: string): string {
    const said = body.trim().slice(0, 500);
    const tail = said ? `: ${said}` : '';
    if (status === 401 || status === 403) {
      const who = this.ssl ? `the certificate of ${this.ssl.certname}` : 'a request without a client certificate';
      return `GET ${shown}: PuppetDB refused ${who} (HTTP ${status})${tail}: add it to PuppetDB's certificate-allowlist (or use its https port with --ssldir)`;
    }
    if (status === 400) return `GET ${shown}: PuppetDB did not accept the query (HTTP 400)${tail}`;
    if (status === 503) return `GET ${shown}: PuppetDB is not ready (HTTP 503)${tail}: it may be starting or in maintenance mode; try again shortly`;
    return `GET ${shown}: PuppetDB answered HTTP ${status}${tail}`;
  }

  /** One GET; rejects with a PuppetDbError for a too large answer, else with the transport's error as it came. */
  private send(target: URL, shown: string): Promise<{ status: number; body: string }> {
    const { timeoutMs, maxBytes } = this.opts;
    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = (e: unknown) => {
        if (settled) return;
        settled = true;
        reject(e);
      };
      const onResponse = (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (d: Buffer) => {
          if (settled) return;
          size += d.length;
          if (size > maxBytes) {
            fail(new PuppetDbError(`GET ${shown}: the answer is larger than ${sizeText(maxBytes)}: narrow the query`));
            res.destroy();
            return;
          }
          chunks.push(d);
        });
        res.on('end', () => {
          if (settled) return;
          settled = true;
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
        });
        res.on('error', fail);
      };
      const options = { agent: this.agent, method: 'GET', headers: { accept: 'application/json' }, signal: AbortSignal.timeout(timeoutMs) };
      const req = target.protocol === 'https:' ? httpsRequest(target, options, onResponse) : httpRequest(target, options, onResponse);
      req.on('error', fail);
      req.end();
    });
  }

  private transportMessage(shown: string, e: unknown): string {
    const code = errnoCode(e);
    const at = `GET ${shown}`;
    if (e instanceof Error && (e.name === 'AbortError' || e.name === 'TimeoutError')) {
      return `${at}: no complete answer within ${this.opts.timeoutMs / 1000} s: PuppetDB may be overloaded or the network slow; try again, or raise --timeout`;
    }
    switch (code) {
      case 'ECONNREFUSED':
        return `${at}: connection refused: is PuppetDB running and listening on ${this.base.host}? (check the --puppetdb URL and port)`;
      case 'ENOTFOUND':
      case 'EAI_AGAIN':
        return `${at}: cannot resolve ${this.base.hostname}: check the --puppetdb host name`;
      case 'ECONNRESET':
        return `${at}: the connection was reset${this.ssl ? ': does PuppetDB trust the CA that signed this certificate?' : ''}`;
      case 'ERR_TLS_CERT_ALTNAME_INVALID':
        return `${at}: PuppetDB's certificate does not name ${this.base.hostname}: use the host name its certificate was issued for`;
      case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
      case 'SELF_SIGNED_CERT_IN_CHAIN':
      case 'DEPTH_ZERO_SELF_SIGNED_CERT':
      case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
      case 'CERT_SIGNATURE_FAILURE':
        return `${at}: PuppetDB's certificate is not signed by the CA in ${this.ssl?.ssldir ?? 'the ssldir'}/certs/ca.pem (${code}): give the ssldir of a node of this Puppet CA`;
      case 'CERT_HAS_EXPIRED':
      case 'CERT_NOT_YET_VALID':
        return `${at}: PuppetDB's certificate is not valid now (${code}): check the clocks, or renew the certificate`;
      default:
        if (code?.startsWith('ERR_SSL_') || code === 'EPROTO') {
          return `${at}: the TLS handshake failed (${errorText(e)}): does PuppetDB trust the CA that signed ${this.ssl?.certname ?? 'this node'}'s certificate?`;
        }
        return `${at}: ${errorText(e)}${code ? ` (${code})` : ''}`;
    }
  }
}
