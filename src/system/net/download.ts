/**
 * Downloads over http(s) and copies from local files, into a file the caller names, with the safe defaults a
 * download from another host needs: TLS certificates verified (unless the caller says otherwise), a bound on the
 * size, a deadline for the whole transfer and one for silence, at most `MAX_REDIRECTS` redirects and never from
 * https down to http, credentials sent only to the host they were given for, and the body hashed while it is
 * written (one pass over the bytes).
 *
 * node:http/https rather than the global fetch: verification can be turned off per request (`allow_insecure`)
 * without a second HTTP stack, and the socket's idle timeout is the transfer's.
 *
 * The destination is created with O_EXCL|O_NOFOLLOW (a temp name the caller chose, usually through a directory
 * held by safe-path.ts), and removed again when the transfer fails: no half-written file is left behind.
 */
import { createHash } from 'node:crypto';
import { constants, createReadStream } from 'node:fs';
import { open, unlink } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { errnoCode, errorText } from '../../observe/errors.js';
import { shownSource } from './source-url.js';

/** Redirects followed before giving up, as curl's and browsers' limits go. */
export const MAX_REDIRECTS = 10;

export interface DownloadOptions {
  /** `http://`, `https://`, `file://` or an absolute path. */
  readonly source: string;
  /** Stop with an error beyond this many bytes. */
  readonly maxBytes: number;
  /** The whole transfer's deadline. */
  readonly timeoutMs: number;
  /** Give up when no byte arrives for this long. */
  readonly idleTimeoutMs: number;
  /** Accept any TLS certificate (Puppet's `allow_insecure`); off by default. */
  readonly insecure?: boolean;
  /** Extra request headers. */
  readonly headers?: Readonly<Record<string, string>>;
  /** HTTP basic authentication, sent to the source's own host only. */
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  /** A hash algorithm of node:crypto (`sha256`) computed over the bytes as they are written. */
  readonly hash?: string | undefined;
  readonly signal?: AbortSignal;
}

export interface DownloadResult {
  readonly bytes: number;
  /** The hex digest, with `hash`. */
  readonly digest?: string;
}

/** A transfer failed; the message says what, where (the source without credentials) and what to do. */
export class DownloadError extends Error {
  override readonly name = 'DownloadError';
}

/** Copies or downloads `opts.source` into the new file `dest` (mode 0600 until the caller changes it). */
export async function download(dest: string, opts: DownloadOptions): Promise<DownloadResult> {
  const deadline = AbortSignal.timeout(opts.timeoutMs);
  const signal = opts.signal ? AbortSignal.any([opts.signal, deadline]) : deadline;
  const shown = shownSource(opts.source);
  const fh = await open(dest, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  let ok = false;
  try {
    const hash = opts.hash ? createHash(opts.hash) : undefined;
    let bytes = 0;
    const sink = async (body: AsyncIterable<Buffer>, expected: number | undefined) => {
      for await (const chunk of body) {
        bytes += chunk.length;
        if (bytes > opts.maxBytes) {
          throw new DownloadError(`${shown} is larger than the limit of ${opts.maxBytes} bytes; raise max_size if it is expected`);
        }
        hash?.update(chunk);
        await fh.write(chunk);
      }
      if (expected !== undefined && bytes !== expected) {
        throw new DownloadError(`${shown} ended after ${bytes} of ${expected} bytes (the connection was cut); try again, or check the server`);
      }
    };
    try {
      if (isLocal(opts.source)) await sink(localStream(opts.source, signal), undefined);
      else {
        const res = await get(opts.source, opts, signal);
        const length = res.headers['content-length'];
        const expected = length !== undefined && /^[0-9]+$/.test(length) ? Number(length) : undefined;
        if (expected !== undefined && expected > opts.maxBytes) {
          res.destroy();
          throw new DownloadError(`${shown} is ${expected} bytes, larger than the limit of ${opts.maxBytes}; raise max_size if it is expected`);
        }
        await sink(res, expected);
      }
    } catch (e) {
      throw explain(e, shown, signal, opts);
    }
    ok = true;
    return { bytes, ...(hash ? { digest: hash.digest('hex') } : {}) };
  } finally {
    await fh.close();
    if (!ok) await unlink(dest).catch(() => undefined);
  }
}

/** A small text (a checksum file) at `source`, at most `maxBytes`. */
export async function fetchText(source: string, opts: Omit<DownloadOptions, 'source' | 'hash'>): Promise<string> {
  const deadline = AbortSignal.timeout(opts.timeoutMs);
  const signal = opts.signal ? AbortSignal.any([opts.signal, deadline]) : deadline;
  const shown = shownSource(source);
  const chunks: Buffer[] = [];
  let bytes = 0;
  try {
    const body: AsyncIterable<Buffer> = isLocal(source) ? localStream(source, signal) : await get(source, { ...opts, source }, signal);
    for await (const chunk of body) {
      bytes += chunk.length;
      if (bytes > opts.maxBytes) throw new DownloadError(`${shown} is larger than the limit of ${opts.maxBytes} bytes for a checksum file`);
      chunks.push(chunk);
    }
  } catch (e) {
    throw explain(e, shown, signal, opts);
  }
  return Buffer.concat(chunks).toString('utf8');
}

const isLocal = (source: string) => source.startsWith('/') || source.startsWith('file:');

function localStream(source: string, signal: AbortSignal): Readable {
  const path = source.startsWith('/') ? source : fileURLToPath(source);
  return createReadStream(path, { signal });
}

/** The response to a GET of `url`, after redirects; rejects on a status other than 2xx. */
async function get(url: string, opts: DownloadOptions, signal: AbortSignal): Promise<IncomingMessage> {
  const origin = new URL(url);
  let current = origin;
  for (let hops = 0; ; hops++) {
    const res = await requestOnce(current, origin, opts, signal);
    const status = res.statusCode ?? 0;
    if (status >= 200 && status < 300) return res;
    res.resume();
    const location = res.headers.location;
    if ([301, 302, 303, 307, 308].includes(status) && location !== undefined) {
      if (hops >= MAX_REDIRECTS) throw new DownloadError(`${shownSource(url)}: more than ${MAX_REDIRECTS} redirects; point source at the final location`);
      const next = new URL(location, current);
      if (current.protocol === 'https:' && next.protocol !== 'https:') {
        throw new DownloadError(
          `${shownSource(url)} redirects from https to ${next.protocol.slice(0, -1)} (${shownSource(next.toString())}), which is refused; point source at the final location`,
        );
      }
      if (next.protocol !== 'http:' && next.protocol !== 'https:') {
        throw new DownloadError(`${shownSource(url)} redirects to a ${next.protocol.slice(0, -1)} URL, which is refused`);
      }
      current = next;
      continue;
    }
    throw new DownloadError(
      `${shownSource(current.toString())} answered HTTP ${status}${res.statusMessage ? ` ${res.statusMessage}` : ''}; check source (and username/password)`,
    );
  }
}

function requestOnce(url: URL, origin: URL, opts: DownloadOptions, signal: AbortSignal): Promise<IncomingMessage> {
  const headers: Record<string, string> = { 'user-agent': 'mgmt-ts', ...opts.headers };
  // credentials (given, or in the URL) go to the source's own host only, never to where it redirects
  const sameHost = url.host === origin.host && url.protocol === origin.protocol;
  const user = opts.username ?? (origin.username !== '' ? decodeURIComponent(origin.username) : undefined);
  const pass = opts.password ?? (origin.password !== '' ? decodeURIComponent(origin.password) : undefined);
  if (sameHost && user !== undefined) headers.authorization = `Basic ${Buffer.from(`${user}:${pass ?? ''}`).toString('base64')}`;
  // a redirect to another host gets neither the credentials nor the cookie
  const sent = sameHost ? headers : Object.fromEntries(Object.entries(headers).filter(([k]) => !['authorization', 'cookie'].includes(k.toLowerCase())));
  const target = new URL(url.toString());
  target.username = '';
  target.password = '';
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(target, { method: 'GET', headers: sent, signal, timeout: opts.idleTimeoutMs, rejectUnauthorized: opts.insecure !== true }, resolve);
    req.on('timeout', () => req.destroy(Object.assign(new Error('no data'), { code: 'EIDLE' })));
    req.on('error', reject);
    req.end();
  });
}

/** An error of the transfer as a DownloadError that names the source and says what to do. */
function explain(e: unknown, shown: string, signal: AbortSignal, opts: Pick<DownloadOptions, 'timeoutMs' | 'idleTimeoutMs' | 'signal'>): Error {
  if (e instanceof DownloadError) return e;
  if (signal.aborted && !opts.signal?.aborted) {
    return new DownloadError(`${shown}: the transfer took longer than ${opts.timeoutMs / 1000} s and was stopped; raise download_timeout, or check the server`);
  }
  if (opts.signal?.aborted) return new DownloadError(`${shown}: the transfer was cancelled`);
  const code = errnoCode(e);
  const why: Record<string, string> = {
    ECONNREFUSED: 'the server refused the connection (is it down?)',
    ENOTFOUND: 'the host name does not resolve',
    EAI_AGAIN: 'the host name could not be resolved (DNS failure)',
    ECONNRESET: 'the connection was reset',
    EHOSTUNREACH: 'the host is unreachable',
    ENETUNREACH: 'the network is unreachable',
    EIDLE: `no data arrived for ${opts.idleTimeoutMs / 1000} s`,
    ENOENT: 'the file does not exist',
    EACCES: 'permission denied',
    EISDIR: 'it is a directory',
    CERT_HAS_EXPIRED: 'its TLS certificate has expired',
    DEPTH_ZERO_SELF_SIGNED_CERT: 'its TLS certificate is self-signed',
    SELF_SIGNED_CERT_IN_CHAIN: 'its TLS certificate chain is self-signed',
    UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'its TLS certificate cannot be verified',
    ERR_TLS_CERT_ALTNAME_INVALID: 'its TLS certificate is for another host name',
  };
  const text = code !== undefined && why[code] !== undefined ? why[code] : errorText(e) === 'aborted' ? 'the connection was cut before the end' : errorText(e);
  const hint = code?.includes('CERT') ? '; install the CA that signed it, or set allow_insecure (not recommended)' : '; check source and try again';
  return new DownloadError(`cannot get ${shown}: ${text}${hint}`, { cause: e });
}
