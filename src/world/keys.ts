/**
 * The etcd key layout of exported resources, and the values stored under them:
 *
 *   /_mgmt/exported/<host>/resources/<kind>/<name>  =  {"params": {...}, "meta": {...}, "origin": {...}}
 *
 * (mgmt 0.0.12-0.0.21's layout; the value is JSON with sorted keys instead of base64 Go encoding). The host is a
 * checked hostname and the kind a kind name, so neither contains `/`; the name is everything after the kind and
 * may contain `/` (file paths). Values are canonical JSON, so equal resources give equal bytes and a host can
 * tell from the stored value whether a key needs writing. A value written by a host carries `signer` (the host's
 * public key) and `signature` (over the key and the rest of the value; see host-keys.ts), which are deterministic
 * too (Ed25519).
 */
import type { Origin } from '../graph/spec.js';
import { checkSignature, type HostKey, signedBytes } from './host-keys.js';
import type { Exported } from './world.js';

export const ROOT = '/_mgmt/exported/';

/** The prefix of one host's exports. */
export function hostPrefix(host: string): string {
  return `${ROOT}${host}/resources/`;
}

export function exportKey(host: string, kind: string, name: string): string {
  return `${hostPrefix(host)}${kind}/${name}`;
}

export interface ParsedKey {
  readonly host: string;
  readonly kind: string;
  readonly name: string;
}

/** Splits an export key; undefined for anything else under the root (never trusted blindly). */
export function parseKey(key: string): ParsedKey | undefined {
  if (!key.startsWith(ROOT)) return undefined;
  const rest = key.slice(ROOT.length);
  const m = /^([^/]+)\/resources\/([^/]+)\/(.+)$/s.exec(rest);
  if (!m) return undefined;
  return { host: m[1]!, kind: m[2]!, name: m[3]! };
}

/** JSON with object keys sorted at every level (arrays keep their order). */
export function canonicalJson(v: unknown): string {
  return JSON.stringify(sortKeys(v));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (typeof v !== 'object' || v === null) return v;
  const o = v as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(o).sort()) if (o[k] !== undefined) out[k] = sortKeys(o[k]);
  return out;
}

/** The stored value of an export, signed with `key` when given (every host of ours gives it). */
export function encodeValue(e: Exported, key?: HostKey): string {
  const doc = {
    params: e.params,
    meta: e.meta,
    ...(e.origin ? { origin: e.origin } : {}),
  };
  const body = canonicalJson(doc);
  if (!key) return body;
  const signature = key.sign(signedBytes(exportKey(e.host, e.kind, e.name), body));
  return canonicalJson({ ...doc, signer: key.publicKey, signature });
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Reads a stored export back with the key that signed it (undefined: unsigned), after checking the signature; an
 * error message for a value no host of ours wrote, or whose signature does not hold.
 */
export function decodeSigned(k: ParsedKey, value: string): { readonly exported: Exported; readonly signer: string | undefined } | string {
  const doc = parseValue(value);
  if (typeof doc === 'string') return doc;
  const e = exportedOf(k, doc);
  if (typeof e === 'string') return e;
  const { signer, signature, ...rest } = doc;
  if (signer === undefined && signature === undefined) return { exported: e, signer: undefined };
  if (typeof signer !== 'string' || typeof signature !== 'string') return '`signer` and `signature` must both be strings';
  const bad = checkSignature(signer, signature, signedBytes(exportKey(k.host, k.kind, k.name), canonicalJson(rest)));
  return bad ?? { exported: e, signer };
}

/** Reads a stored export back (signature not checked: decodeSigned does); an error message for a value no host of ours wrote. */
export function decodeValue(k: ParsedKey, value: string): Exported | string {
  const doc = parseValue(value);
  return typeof doc === 'string' ? doc : exportedOf(k, doc);
}

function parseValue(value: string): Record<string, unknown> | string {
  let doc: unknown;
  try {
    doc = JSON.parse(value);
  } catch (e) {
    return `the value is not JSON (${(e as Error).message})`;
  }
  return isObj(doc) ? doc : 'the value has no `params` map';
}

function exportedOf(k: ParsedKey, doc: Record<string, unknown>): Exported | string {
  if (!isObj(doc.params)) return 'the value has no `params` map';
  if (doc.meta !== undefined && !isObj(doc.meta)) return '`meta` is not a map';
  const origin = doc.origin;
  if (origin !== undefined && (!isObj(origin) || typeof origin.ref !== 'string')) return '`origin` has no `ref`';
  return {
    host: k.host,
    kind: k.kind,
    name: k.name,
    params: doc.params,
    meta: doc.meta ?? {},
    ...(origin !== undefined ? { origin: origin as unknown as Origin } : {}),
  };
}
