/**
 * The JSON Schema of a graph, assembled from each resource kind's parameter table and the metaparams. The
 * same schema validates every loaded graph and is published as docs/graph.schema.json for editors.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Ajv as AjvClass, ErrorObject, ValidateFunction } from 'ajv';
import { tableJsonSchema } from '../resources/params.js';
import type { Registry } from '../resources/registry.js';
import { metaParams } from './metaparams.js';
import { COLLECT_ALLOWANCES } from './spec.js';

export const SCHEMA_ID = 'https://github.com/mgmt-ts/mgmt-ts/docs/graph.schema.json';

/** The schema of a graph whose resources are of the kinds in `registry`. */
export function graphJsonSchema(registry: Registry): Record<string, unknown> {
  const definitions: Record<string, unknown> = {
    meta: { ...tableJsonSchema(metaParams), description: 'Metaparams: how the engine runs this resource.' },
    ref: {
      type: 'object',
      required: ['kind', 'name'],
      additionalProperties: false,
      properties: { kind: { type: 'string', minLength: 1 }, name: { type: 'string', minLength: 1 } },
    },
    edge: {
      type: 'object',
      required: ['from', 'to'],
      additionalProperties: false,
      properties: {
        name: { type: 'string', description: 'The edge’s identity (defaults to "from -> to").' },
        from: { $ref: '#/definitions/ref' },
        to: { $ref: '#/definitions/ref' },
        notify: { type: 'boolean', description: 'A change applied by `from` sends a refresh to `to`.' },
      },
    },
    collect: {
      type: 'object',
      required: ['kind'],
      additionalProperties: false,
      properties: {
        kind: { type: 'string' },
        pattern: { type: 'string' },
        allow: {
          type: 'array',
          items: { enum: [...COLLECT_ALLOWANCES] },
          description: 'What collected resources may carry beyond the safe default: setid modes, root owner or group, protected paths.',
        },
      },
    },
  };
  const resources: Record<string, unknown> = {};
  for (const k of registry.all()) {
    const def = `resource.${k.kind}`;
    definitions[def] = {
      ...tableJsonSchema(k.params, {
        name: { type: 'string', minLength: 1, description: 'The resource’s identity; `@@name` exports it.' },
        meta: { $ref: '#/definitions/meta' },
      }),
      required: ['name'],
      description: k.doc,
    };
    resources[k.kind] = { type: ['array', 'null'], items: { $ref: `#/definitions/${def}` } };
  }
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: SCHEMA_ID,
    title: 'mgmt-ts YAML graph',
    type: 'object',
    required: ['graph'],
    additionalProperties: false,
    properties: {
      graph: { type: 'string', minLength: 1, description: 'The graph’s name (required).' },
      comment: { type: 'string' },
      autoedges: {
        type: 'boolean',
        default: true,
        description:
          'Whether the engine adds automatic edges to this graph (default true). A translated Puppet catalog sets it to false: it carries Puppet’s own automatic relationships as explicit edges.',
      },
      remote: { type: 'string', description: 'Obsolete (mgmt <= 0.0.12); ignored with a warning.' },
      resources: {
        type: ['object', 'null'],
        additionalProperties: false,
        properties: resources,
        description: 'Resource kind -> list of resources.',
      },
      edges: { type: ['array', 'null'], items: { $ref: '#/definitions/edge' } },
      collect: { type: ['array', 'null'], items: { $ref: '#/definitions/collect' } },
    },
    definitions,
  };
}

/** Identifies a schema's content, so that a precompiled validator is used only for the schema it was made from. */
export function schemaHash(schema: unknown): string {
  return createHash('sha256').update(JSON.stringify(schema)).digest('hex');
}

/**
 * Options shared by the runtime compile and the build-time (precompiled) one. allowUnionTypes: a `string|string[]`
 * parameter is `type: [string, array]` (params.ts). inlineRefs: false: a `$ref` (the metaparams, which every kind
 * has) is one function called by every kind's code, not a copy in each; the precompiled module is 246 KB instead
 * of 422 KB, and every run parses it at start-up.
 */
export const AJV_OPTIONS = { allErrors: true, strict: true, allowUnionTypes: true, inlineRefs: false } as const;

/**
 * `npm run build` precompiles the validator of the published registry (scripts/gen-validator.ts) because
 * compiling it at start-up costs ~90 ms of every run. It carries the hash of the schema it was made from and is
 * used only for a registry whose schema has that hash; any other registry (a test registry) gets its validator
 * compiled on first use, once.
 */
interface Precompiled {
  readonly schemaHash: string;
  readonly default: ValidateFunction;
}
const PRECOMPILED = './graph-validator.generated.js';
const precompiled = (await import(PRECOMPILED).catch(() => undefined)) as Precompiled | undefined;

const compiled = new WeakMap<Registry, ValidateFunction>();

/** Validates a typed graph document against the schema of `registry`; returns ajv's errors (empty when valid). */
export function validateDocument(registry: Registry, doc: unknown): ErrorObject[] {
  const validate = validatorFor(registry);
  return validate(doc) ? [] : [...(validate.errors ?? [])];
}

function validatorFor(registry: Registry): ValidateFunction {
  let validate = compiled.get(registry);
  if (!validate) {
    const schema = graphJsonSchema(registry);
    if (precompiled?.schemaHash === schemaHash(schema)) {
      validate = precompiled.default;
    } else {
      // ajv itself is loaded only here (it is CommonJS, so it can be required synchronously).
      const { Ajv } = createRequire(import.meta.url)('ajv') as { Ajv: typeof AjvClass };
      validate = new Ajv(AJV_OPTIONS).compile(schema);
    }
    compiled.set(registry, validate);
  }
  return validate;
}
