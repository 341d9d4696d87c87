/** Reads a YAML graph file and checks it completely: syntax, schema, then semantics. */
import { open } from 'node:fs/promises';
import type { Registry } from '../resources/registry.js';
import { type Diagnostic, hasErrors, sortDiagnostics } from './diagnostics.js';
import { DEFAULT_LIMITS, type GraphLimits, tooManyBytes } from './limits.js';
import { validateGraph } from './validate.js';
import { type Loaded, loadYamlGraph } from './yaml-loader.js';
import { errnoCode, errorText } from '../observe/errors.js';

/**
 * Reads at most `limits.maxBytes` (a larger file is refused without being read) and decodes it as UTF-8 strictly:
 * a byte sequence that is not UTF-8 is an error at its line, never silently replaced (a path would name another
 * file).
 */
export async function readGraphFile(registry: Registry, path: string, limits: GraphLimits = DEFAULT_LIMITS): Promise<Loaded> {
  const text = await readGraphText(path, limits);
  return typeof text === 'string' ? checkGraphText(registry, text, path, limits) : text;
}

/**
 * The text of the graph file at `path`, read and decoded as readGraphFile does, or its refusal (a Loaded with the
 * one error and no spec): for readers that check the text their own way.
 */
export async function readGraphText(path: string, limits: GraphLimits = DEFAULT_LIMITS): Promise<string | Loaded> {
  const refuse = (message: string, line?: number): Loaded => ({
    diagnostics: [{ severity: 'error', message, ...(line !== undefined ? { pos: { file: path, line, col: 1 } } : {}) }],
  });
  let bytes: Buffer;
  try {
    const fh = await open(path, 'r');
    try {
      const size = (await fh.stat()).size;
      if (size > limits.maxBytes) return refuse(tooBig(size, limits), 1);
      // Room for one byte more than the file had: a file that grew since is read on, up to one byte past the bound.
      let buf = Buffer.alloc(size + 1);
      let n = 0;
      for (;;) {
        const { bytesRead } = await fh.read(buf, n, buf.length - n, n);
        if (bytesRead === 0) break;
        n += bytesRead;
        if (n > limits.maxBytes) return refuse(tooBig(n, limits), 1);
        if (n === buf.length) buf = Buffer.concat([buf, Buffer.alloc(Math.min(buf.length, limits.maxBytes + 1 - n))]);
      }
      bytes = buf.subarray(0, n);
    } finally {
      await fh.close();
    }
  } catch (e) {
    const code = errnoCode(e);
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : errorText(e);
    return refuse(`cannot read graph ${path}: ${why}`);
  }
  const text = decodeUtf8(bytes);
  if (typeof text !== 'string') return refuse('this line is not UTF-8; a graph is UTF-8 text (convert it, e.g. with iconv)', text.line);
  return text;
}

function tooBig(size: number, limits: GraphLimits): string {
  return `the graph is ${tooManyBytes(size, limits.maxBytes)}; split it`;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** The text, or the 1-based line of the first byte sequence that is not UTF-8. */
function decodeUtf8(bytes: Buffer): string | { line: number } {
  try {
    return utf8.decode(bytes);
  } catch {
    // The longest prefix that could still begin valid text ends where the bad sequence is found.
    let lo = 0;
    let hi = bytes.length;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (decodes(bytes.subarray(0, mid))) lo = mid;
      else hi = mid - 1;
    }
    let line = 1;
    for (let i = 0; i < lo; i++) if (bytes[i] === 10) line++;
    return { line };
  }
}

/** Whether the bytes are UTF-8, allowing a sequence cut at the end (a prefix of valid text). */
function decodes(bytes: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes, { stream: true });
    return true;
  } catch {
    return false;
  }
}

export function checkGraphText(registry: Registry, text: string, file: string, limits: GraphLimits = DEFAULT_LIMITS): Loaded {
  const loaded = loadYamlGraph(registry, text, file, limits);
  const diagnostics: Diagnostic[] = [...loaded.diagnostics];
  if (loaded.spec) diagnostics.push(...validateGraph(registry, loaded.spec, loaded.invalid, limits));
  return { ...(loaded.spec && !hasErrors(diagnostics) ? { spec: loaded.spec } : {}), diagnostics: sortDiagnostics(diagnostics) };
}
