/**
 * The Puppet worker's JSON-lines protocol (`puppet mgmtgraph worker`), defined once for both sides. The client
 * (worker.ts) takes its types from here; the Ruby worker (puppet-module/lib/puppet_x/mgmtgraph/worker.rb) reads
 * `protocol.json` beside it, generated from this definition by `npm run docs`, and checks itself against it: its
 * handlers must be exactly these ops, it reads only declared request fields and writes only declared reply fields
 * (a mismatch is an error reply). test/unit/worker-protocol.test.ts fails when protocol.json is stale or the Ruby
 * code reads or handles something else; test/integration/puppet-face.test.ts runs every op against real Puppet.
 *
 * Every request is one JSON object on one line, `{id, op, ...fields}`; every reply is one line
 * `{id, error, ...fields}`, `error` being null on success or `{message, file, line}`. An error reply may leave
 * the op's reply fields out.
 */
import { REDACTED } from '../../observe/redact.js';

/** The JSON value of a field, named for the generated description; `FieldTypes` gives each its TypeScript type. */
export type FieldType = keyof FieldTypes;

/** A resource as the worker takes it: the catalog's `{type, title, parameters, sensitive}`. */
export interface WorkerResource {
  readonly type: string;
  readonly title: string;
  readonly parameters?: Readonly<Record<string, unknown>>;
  /** Names of the parameters whose values are Sensitive. */
  readonly sensitive?: readonly string[];
}

interface FieldTypes {
  string: string;
  integer: number;
  boolean: boolean;
  object: Readonly<Record<string, unknown>>;
  'object[]': readonly Readonly<Record<string, unknown>>[];
  'string[]': readonly string[];
  resource: WorkerResource;
  /** Any JSON value (the catalog document, read by puppet/catalog.ts). */
  json: unknown;
}

export interface FieldDef {
  readonly type: FieldType;
  readonly doc: string;
  /** A request field the op cannot do without. */
  readonly required?: true;
}

export interface OpDef {
  readonly doc: string;
  readonly request: Readonly<Record<string, FieldDef>>;
  readonly reply: Readonly<Record<string, FieldDef>>;
}

const resourceFields = {
  resource: { type: 'resource', required: true, doc: 'The resource: `{type, title, parameters, sensitive: [names]}`, as the catalog has it.' },
  companions: {
    type: 'object[]',
    doc: 'Resources of the same shape added to the same one-off catalog (a `Concat_file` and its `Concat_fragment`s).',
  },
} as const satisfies Record<string, FieldDef>;

/** The ops, in the order the worker names them. */
export const WORKER_OPS = {
  ping: {
    doc: 'Is the worker up? The client sends it first, and waits for the answer before anything else.',
    request: {},
    reply: {
      pong: { type: 'boolean', doc: 'Always true.' },
      pid: { type: 'integer', doc: "The worker's process id." },
      puppet_version: { type: 'string', doc: "Puppet's version." },
    },
  },
  compile: {
    doc: 'Compiles a manifest or code into a catalog document, in a fresh environment (edited manifests and modules are read again).',
    request: {
      manifest: { type: 'string', doc: 'The manifest (file or directory) to compile.' },
      code: { type: 'string', doc: 'Puppet code to compile (instead of `manifest`).' },
      facts: { type: 'object', doc: 'Stub facts; without `facts` and `facts_file`, facter runs.' },
      facts_file: { type: 'string', doc: 'A YAML or JSON file of stub facts.' },
      node: { type: 'string', doc: 'The node to compile for (also the certname).' },
      collected: { type: 'object[]', doc: 'Exported resources that collectors find: `{type, title, parameters, host}`.' },
      collected_file: { type: 'string', doc: 'A JSON file of such resources.' },
    },
    reply: {
      catalog: { type: 'json', doc: 'The catalog document (`format: "mgmtgraph-catalog"`).' },
      watch: {
        type: 'string[]',
        doc: "What the compile read that an edit would change, for watching: the main manifest, the environment's directory, its modulepath, the global hiera.yaml and its data directories (existing paths only).",
      },
    },
  },
  check: {
    doc: 'Runs the resource in noop mode: is it in sync, and what would change?',
    request: resourceFields,
    reply: {
      in_sync: { type: 'boolean', doc: 'Nothing would change.' },
      changes: { type: 'object[]', doc: '`[{property, previous, desired}]`; Sensitive values are the redaction marker.' },
      failed: { type: 'boolean', doc: 'The resource (or one Puppet generated for it) failed.' },
    },
  },
  apply: {
    doc: 'Applies the resource.',
    request: resourceFields,
    reply: {
      changed: { type: 'boolean', doc: 'Puppet changed something.' },
      failed: { type: 'boolean', doc: 'The resource (or one Puppet generated for it) failed.' },
      events: { type: 'object[]', doc: '`[{property, status, message, previous, desired}]`; Sensitive values are the redaction marker.' },
    },
  },
  refresh: {
    doc: "Calls the type's `refresh` (exec, service, mount, package, ini_setting), as a refresh event does.",
    request: resourceFields,
    reply: {
      refreshed: { type: 'boolean', doc: 'The resource was refreshed.' },
    },
  },
} as const satisfies Record<string, OpDef>;

export type WorkerOp = keyof typeof WORKER_OPS;

/** An error reply's `error`: Puppet's message, and where in the manifest when it knows. */
export interface WorkerError {
  readonly message: string;
  readonly file?: string | null;
  readonly line?: number | null;
}

type Fields<D extends Readonly<Record<string, FieldDef>>> = {
  readonly [K in keyof D as D[K] extends { required: true } ? K : never]: FieldTypes[D[K]['type']];
} & {
  readonly [K in keyof D as D[K] extends { required: true } ? never : K]?: FieldTypes[D[K]['type']];
};

/** The fields of a request for `op` (besides `id` and `op`, which the client adds). */
export type WorkerRequest<O extends WorkerOp = WorkerOp> = O extends WorkerOp ? Fields<(typeof WORKER_OPS)[O]['request']> : never;

/** A reply: the request's `id`, `error` null on success, and the op's fields (absent from some error replies). */
export type WorkerReply<O extends WorkerOp = WorkerOp> = {
  readonly id: number | null;
  readonly error: WorkerError | null;
  readonly [field: string]: unknown;
} & (O extends WorkerOp ? Partial<Fields<(typeof WORKER_OPS)[O]['reply']>> : never);

/** The protocol as `puppet-module/lib/puppet_x/mgmtgraph/protocol.json`, which the Ruby worker reads. */
export function protocolJson(): string {
  const doc = {
    '//': 'Generated by `npm run docs` from src/puppet/runtime/protocol.ts. Do not edit.',
    format: 'mgmtgraph-worker-protocol',
    version: 1,
    request_envelope: ['id', 'op'],
    reply_envelope: ['id', 'error'],
    redacted: REDACTED,
    ops: WORKER_OPS,
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** Where protocol.json lives, relative to the repository root. */
export const PROTOCOL_JSON_PATH = 'puppet-module/lib/puppet_x/mgmtgraph/protocol.json';
