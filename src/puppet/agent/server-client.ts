/**
 * A client of Puppet Server's v3 HTTP API, authenticated with the node's own client certificate from its ssldir
 * (the one `puppet agent` uses) and verifying the server against the node's CA certificate: the node object,
 * file metadata and content (pluginsync, `puppet:///` sources), the catalog, and the report. Bounded: every
 * request has a deadline and a response-size limit, so a misbehaving server cannot hang or flood the agent.
 */
import { readFile } from 'node:fs/promises';
import { request, type RequestOptions } from 'node:https';
import { URLSearchParams } from 'node:url';

export interface ServerIdentity {
  readonly host: string;
  readonly port: number;
  /** PEM files: the node's certificate and key, and the CA certificate. */
  readonly cert: string;
  readonly key: string;
  readonly ca: string;
}

/** An HTTP answer that is not a success, with the server's own message. */
export class ServerError extends Error {
  constructor(
    message: string,
    readonly status: number | undefined,
  ) {
    super(message);
  }
}

export interface FileMetadata {
  readonly path: string;
  readonly relative_path: string | null;
  readonly type: 'file' | 'directory' | 'link';
  readonly mode: number;
  readonly checksum: { readonly type: string; readonly value: string };
  readonly destination: string | null;
  /** In a static catalog's metadata: where the content of this code version is (`puppet:///modules/M/files/F`). */
  readonly content_uri?: string;
  /** In a static catalog's metadata: the `puppet:///` source this metadata is of. */
  readonly source?: string;
}

const DEFAULT_TIMEOUT_MS = 120_000;
/** A catalog of tens of thousands of resources stays well below this; a report too. */
const MAX_BODY = 256 * 1024 * 1024;

export class PuppetServerClient {
  private constructor(
    private readonly id: ServerIdentity,
    private readonly tls: Pick<RequestOptions, 'cert' | 'key' | 'ca'>,
  ) {}

  /** Reads the node's certificate, key and CA certificate. */
  static async open(id: ServerIdentity): Promise<PuppetServerClient> {
    const [cert, key, ca] = await Promise.all([readFile(id.cert), readFile(id.key), readFile(id.ca)]);
    return new PuppetServerClient(id, { cert, key, ca });
  }

  /** `host:port`, as a report's `server_used`. */
  get serverUsed(): string {
    return `${this.id.host}:${this.id.port}`;
  }

  async node(certname: string, environment: string, signal?: AbortSignal): Promise<{ environment?: string; parameters?: Record<string, unknown> }> {
    const body = await this.call(
      'GET',
      `/puppet/v3/node/${encodeURIComponent(certname)}?${q({ environment, transaction_uuid: undefined })}`,
      undefined,
      signal,
    );
    return JSON.parse(body.toString('utf8')) as { environment?: string };
  }

  /** A tree's metadata, recursively: a mount (`plugins`) or a path in one (`modules/ntp/conf.d`). */
  async fileMetadatas(path: string, environment: string, signal?: AbortSignal): Promise<FileMetadata[]> {
    const body = await this.call(
      'GET',
      `/puppet/v3/file_metadatas/${encodePath(path)}?${q({ environment, recurse: 'true', links: 'follow', checksum_type: 'sha256', source_permissions: 'ignore' })}`,
      undefined,
      signal,
    );
    return JSON.parse(body.toString('utf8')) as FileMetadata[];
  }

  async fileMetadata(path: string, environment: string, signal?: AbortSignal): Promise<FileMetadata> {
    const body = await this.call(
      'GET',
      `/puppet/v3/file_metadata/${encodePath(path)}?${q({ environment, links: 'follow', checksum_type: 'sha256' })}`,
      undefined,
      signal,
    );
    return JSON.parse(body.toString('utf8')) as FileMetadata;
  }

  /** `path`: mount and path, `modules/ntp/ntp.conf` or `plugins/facter/x.rb`. */
  fileContent(path: string, environment: string, signal?: AbortSignal): Promise<Buffer> {
    return this.call('GET', `/puppet/v3/file_content/${encodePath(path)}?${q({ environment })}`, undefined, signal, 'application/octet-stream');
  }

  /**
   * A file as it was at the code version `codeId` of a static catalog (Puppet Server's code-content-command): `path`
   * is relative to the environment's directory (`modules/M/files/F`, the metadata's `content_uri`).
   */
  staticFileContent(path: string, environment: string, codeId: string, signal?: AbortSignal): Promise<Buffer> {
    return this.call(
      'GET',
      `/puppet/v3/static_file_content/${encodePath(path)}?${q({ environment, code_id: codeId })}`,
      undefined,
      signal,
      'application/octet-stream',
    );
  }

  /** The catalog (Puppet's JSON), compiled with the node's facts. */
  async catalog(
    certname: string,
    o: { environment: string; facts: unknown; transactionUuid: string; jobId?: string | undefined },
    signal?: AbortSignal,
  ): Promise<string> {
    const form = new URLSearchParams({
      environment: o.environment,
      facts_format: 'application/json',
      facts: JSON.stringify(o.facts),
      transaction_uuid: o.transactionUuid,
      static_catalog: 'true',
      checksum_type: 'sha256.sha1.md5',
      ...(o.jobId !== undefined ? { job_id: o.jobId } : {}),
    });
    const body = await this.call(
      'POST',
      `/puppet/v3/catalog/${encodeURIComponent(certname)}?${q({ environment: o.environment })}`,
      form.toString(),
      signal,
      'application/json',
      'application/x-www-form-urlencoded',
    );
    return body.toString('utf8');
  }

  /** Hands the report to the server's report processors. */
  async report(certname: string, environment: string, report: unknown, signal?: AbortSignal): Promise<void> {
    await this.call(
      'PUT',
      `/puppet/v3/report/${encodeURIComponent(certname)}?${q({ environment })}`,
      JSON.stringify(report),
      signal,
      'application/json',
      'application/json',
    );
  }

  private call(
    method: string,
    path: string,
    body: string | undefined,
    signal: AbortSignal | undefined,
    accept = 'application/json',
    contentType?: string,
  ): Promise<Buffer> {
    const where = `${method} https://${this.id.host}:${this.id.port}${path.split('?')[0] ?? path}`;
    return new Promise<Buffer>((resolve, reject) => {
      const req = request(
        {
          host: this.id.host,
          port: this.id.port,
          method,
          path,
          ...this.tls,
          // The server's certificate must name the host we asked for (dns_alt_names), as Puppet's agent requires.
          servername: this.id.host,
          headers: { Accept: accept, 'X-Puppet-Version': '7.23.0', ...(contentType ? { 'Content-Type': contentType } : {}) },
          timeout: DEFAULT_TIMEOUT_MS,
          ...(signal ? { signal } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > MAX_BODY) {
              req.destroy(new ServerError(`${where}: answer larger than ${MAX_BODY} bytes; refused`, res.statusCode));
              return;
            }
            chunks.push(c);
          });
          res.on('error', reject);
          res.on('end', () => {
            const data = Buffer.concat(chunks);
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) resolve(data);
            else reject(new ServerError(`${where}: HTTP ${status}: ${serverMessage(data)}`, status));
          });
        },
      );
      req.on('timeout', () => req.destroy(new ServerError(`${where}: no answer within ${DEFAULT_TIMEOUT_MS / 1000} s`, undefined)));
      req.on('error', (e) => reject(e instanceof ServerError ? e : new ServerError(`${where}: ${e.message}`, undefined)));
      req.end(body);
    });
  }
}

function q(params: Record<string, string | undefined>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) p.set(k, v);
  return p.toString();
}

function encodePath(p: string): string {
  return p.split('/').map(encodeURIComponent).join('/');
}

/** The server's error message: its JSON `message`, or the start of its text. */
function serverMessage(data: Buffer): string {
  const text = data.toString('utf8');
  try {
    const j = JSON.parse(text) as { message?: unknown };
    if (typeof j.message === 'string') return j.message;
  } catch {
    /* not JSON */
  }
  return text.slice(0, 500);
}
