/**
 * The Puppet worker's protocol is defined once (src/puppet/runtime/protocol.ts). The Ruby worker reads the generated
 * protocol.json and checks itself at run time (test/integration/puppet-face.test.ts runs every op); these tests
 * compare, without Puppet, what its code handles and reads with the definition.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { REDACTED } from '../../src/observe/redact.js';
import { PROTOCOL_JSON_PATH, protocolJson, WORKER_OPS, type WorkerOp } from '../../src/puppet/runtime/protocol.js';

const root = new URL('../../../', import.meta.url);
const rubyDir = new URL('puppet-module/lib/puppet_x/mgmtgraph/', root);
const ruby = (name: string) => readFileSync(new URL(name, rubyDir), 'utf8');

/** The worker's handler table: op -> method name. */
function handlers(source: string): Map<string, string> {
  const table = /HANDLERS = \{([^}]*)\}/.exec(source)?.[1];
  assert.ok(table, 'worker.rb has a HANDLERS table');
  return new Map([...table.matchAll(/'(\w+)' => :(\w+)/g)].map((m) => [m[1]!, m[2]!]));
}

/** Each method of a Ruby source: its name and body (up to the next `def`). */
function methods(source: string): Map<string, string> {
  const out = new Map<string, string>();
  const parts = source.split(/^\s*def (?:self\.)?/m).slice(1);
  for (const part of parts) {
    const name = /^(\w+[?!]?)/.exec(part)?.[1];
    if (name) out.set(name, part);
  }
  return out;
}

/** The request fields a method reads through `field(request, '...')`, with those of the methods it calls. */
function fieldsRead(all: Map<string, string>, method: string, seen = new Set<string>()): Set<string> {
  const out = new Set<string>();
  if (seen.has(method)) return out;
  seen.add(method);
  const body = all.get(method) ?? '';
  for (const m of body.matchAll(/field\(request, '(\w+)'\)/g)) out.add(m[1]!);
  for (const other of all.keys()) {
    if (other !== method && new RegExp(`\\b${other}\\(`).test(body)) for (const f of fieldsRead(all, other, seen)) out.add(f);
  }
  return out;
}

describe('the Puppet worker protocol', () => {
  it(`${PROTOCOL_JSON_PATH} is generated from protocol.ts (run \`npm run docs\`)`, () => {
    assert.equal(readFileSync(new URL(PROTOCOL_JSON_PATH, root), 'utf8'), protocolJson());
  });

  it("the Ruby worker's handlers are exactly the protocol's ops", () => {
    assert.deepEqual([...handlers(ruby('worker.rb')).keys()].sort(), Object.keys(WORKER_OPS).sort());
  });

  it('the Ruby worker reads only the request fields each op declares, and only through the protocol', () => {
    const source = ruby('worker.rb');
    const all = methods(source);
    for (const [op, method] of handlers(source)) {
      const declared = Object.keys(WORKER_OPS[op as WorkerOp].request);
      for (const f of fieldsRead(all, method)) assert.ok(declared.includes(f), `worker.rb's ${method} reads '${f}', which ${op} does not declare`);
    }
    // Anything else is read through field(), which the run-time check covers: only the envelope is read directly.
    const direct = [...source.matchAll(/request\['(\w+)'\]/g)].map((m) => m[1]!);
    assert.deepEqual([...new Set(direct)].sort(), ['id', 'op']);
  });

  it('the Ruby side takes the redaction marker from the protocol', () => {
    const runner = ruby('resource_runner.rb');
    assert.match(runner, /REDACTED = Protocol::CURRENT\.redacted/);
    assert.ok(!runner.includes(`'${REDACTED}'`), 'resource_runner.rb spells the marker itself');
    assert.equal((JSON.parse(protocolJson()) as { redacted: string }).redacted, REDACTED);
  });
});
