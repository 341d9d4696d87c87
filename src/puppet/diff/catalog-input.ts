/**
 * A catalog side of `mgmt puppet diff` read from a file (`--from-catalog`/`--to-catalog`): every shape
 * readCatalog knows (the face's document, Puppet's catalog JSON, PuppetDB's wire format, the answer of
 * `/pdb/query/v4/catalogs/NODE`), and the two ways PuppetDB hands out the catalogs of many nodes, from which
 * the node's is picked (`-n NODE`, or the only one there is):
 * - a query answer: a JSON array of catalogs, as PQL `catalogs { certname = "web1" }` or `/pdb/query/v4/catalogs`
 *   return them (resources and edges as `{data, href}`, or as arrays in the wire format);
 * - an export archive, as `puppet db export` writes it (PuppetDB's `/pdb/admin/v1/archive`): a gzipped tar holding
 *   `puppetdb-bak/catalogs/<certname>-<sha1>.json` (PuppetDB 7; `<certname>.json` in older ones) in the wire
 *   format (v9). Only that member is unpacked, into a temporary directory, bounded like any catalog file, and its
 *   `certname` must be the node's.
 */
import { mkdtemp, open, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_LIMITS, tooManyBytes } from '../../graph/limits.js';
import { outputTail, run, SpawnError } from '../../system/proc/launcher.js';
import { SYSTEM_TOOL_PATH } from '../../system/tools/tool-path.js';
import { type Catalog, catalogFromData, CatalogError, parseCatalogText, readCatalog } from '../catalog.js';

const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);
/** Where an export archive keeps each node's catalog: `puppetdb-bak/catalogs/<certname>[-<sha1 of it>].json`. */
const EXPORT_CATALOG = /^(?:\.\/)?[^/]+\/catalogs\/([^/]+?)(?:-[0-9a-f]{40})?\.json$/;

/** The catalog of `node` (or the only one) in the file at `path`. */
export async function readCatalogInput(path: string, node: string | undefined): Promise<Catalog> {
  let head: Buffer;
  let size: number;
  try {
    size = (await stat(path)).size;
    const fh = await open(path, 'r');
    try {
      head = Buffer.alloc(2);
      await fh.read(head, 0, 2, 0);
    } finally {
      await fh.close();
    }
  } catch (e) {
    throw new CatalogError(`cannot read catalog ${path}: ${(e as Error).message}`);
  }
  if (head.equals(GZIP_MAGIC)) return fromExportArchive(path, node);
  if (size > DEFAULT_LIMITS.maxBytes) throw new CatalogError(`${path}: the catalog is ${tooManyBytes(size, DEFAULT_LIMITS.maxBytes)}`);
  const doc = parseCatalogText(await readFile(path, 'utf8'), path);
  return Array.isArray(doc) ? fromQueryAnswer(doc, path, node) : catalogFromData(doc, path);
}

const certnameOf = (c: unknown): string | undefined =>
  typeof c === 'object' && c !== null && typeof (c as { certname?: unknown }).certname === 'string' ? (c as { certname: string }).certname : undefined;

/** One catalog of a PuppetDB query answer (a JSON array of catalogs). */
function fromQueryAnswer(list: unknown[], path: string, node: string | undefined): Catalog {
  const names = list.map(certnameOf);
  if (names.some((n) => n === undefined))
    throw new CatalogError(`${path}: a JSON array is read as PuppetDB's answer to a catalogs query, and every entry must be a catalog with a certname`);
  const pick = pickNode(names as string[], path, node, 'the query answer');
  return catalogFromData(list[pick], `${path} (${names[pick]!})`);
}

/** The index of `node` among `names`, or of the only name; an error that lists them otherwise. */
function pickNode(names: readonly string[], path: string, node: string | undefined, what: string): number {
  if (node !== undefined) {
    const i = names.indexOf(node);
    if (i < 0) throw new CatalogError(`${path}: ${what} has no catalog for ${node}${listed(names)}`);
    return i;
  }
  if (names.length === 1) return 0;
  throw new CatalogError(
    `${path}: ${what} holds ${names.length === 0 ? 'no catalog' : `the catalogs of ${names.length} nodes`}; name one with -n NODE${listed(names)}`,
  );
}

const listed = (names: readonly string[]) => (names.length === 0 ? '' : ` (it has ${names.slice(0, 10).join(', ')}${names.length > 10 ? ', ...' : ''})`);

async function tar(args: string[], what: string): Promise<Buffer> {
  let r;
  try {
    r = await run({ command: { argv: ['tar', ...args] }, env: { PATH: SYSTEM_TOOL_PATH }, captureStdout: true });
  } catch (e) {
    if (e instanceof SpawnError) throw new CatalogError(`${what}: cannot run tar: ${e.message}`);
    throw e;
  }
  if (r.code !== 0) throw new CatalogError(`${what}: tar failed (is it a puppet db export archive?): ${outputTail(r)}`);
  return r.stdout ?? Buffer.alloc(0);
}

/** The node's catalog in a `puppet db export` archive. */
async function fromExportArchive(path: string, node: string | undefined): Promise<Catalog> {
  const members = (await tar(['-t', '-z', '-f', path], `listing ${path}`)).toString('utf8').split('\n');
  const catalogs = new Map<string, string>();
  for (const m of members) {
    const hit = EXPORT_CATALOG.exec(m);
    if (hit) catalogs.set(hit[1]!, m);
  }
  const names = [...catalogs.keys()];
  const member = catalogs.get(names[pickNode(names, path, node, 'the export archive')]!)!;
  const dir = await mkdtemp(join(tmpdir(), 'mgmt-diff-export-'));
  try {
    await tar(['-x', '-z', '-f', path, '-C', dir, '--no-same-owner', '--no-same-permissions', '--', member], `unpacking ${member} from ${path}`);
    const file = join(dir, member);
    const size = (await stat(file)).size;
    if (size > DEFAULT_LIMITS.maxBytes) throw new CatalogError(`${path}: ${member} is ${tooManyBytes(size, DEFAULT_LIMITS.maxBytes)}`);
    const catalog = readCatalog(await readFile(file, 'utf8'), `${path}:${member}`);
    if (node !== undefined && catalog.node !== node) throw new CatalogError(`${path}: ${member} is the catalog of ${catalog.node}, not of ${node}`);
    return catalog;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Both sides' catalogs of each node (`nodes` empty: the one catalog of each file, under the new one's node name). */
export async function readCatalogPairs(from: string, to: string, nodes: readonly string[]): Promise<{ node: string; from: Catalog; to: Catalog }[]> {
  if (nodes.length === 0) {
    const [a, b] = await Promise.all([readCatalogInput(from, undefined), readCatalogInput(to, undefined)]);
    return [{ node: b.node, from: a, to: b }];
  }
  return Promise.all(nodes.map(async (node) => ({ node, from: await readCatalogInput(from, node), to: await readCatalogInput(to, node) })));
}
