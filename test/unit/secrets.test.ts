/**
 * Sensitive values are never printed (issue 11, item 3), written as the attacks: an exec whose command is
 * sensitive (`ran:`, `would run:` under noop, the failure message), an exec whose environment is sensitive and
 * whose command prints it, a sensitive message and file content; at the default level and with debug lines, under
 * noop and on failure. Every line the process log receives is checked for the secret.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { registry } from '../../src/cli/registry.js';
import { checkGraphText } from '../../src/graph/read.js';
import { type Level, setLogLevel, setLogSink } from '../../src/observe/log.js';
import { REDACTED, Redactor, redactParams, secretsOf } from '../../src/observe/redact.js';
import { startGraph } from '../harness/engine-run.js';

const SECRET = 's3cr3t-Tok3n';

let lines: string[] = [];
let dir: string;

beforeEach(async () => {
  lines = [];
  setLogSink({ write: (l) => lines.push(l) });
  dir = await mkdtemp(join(tmpdir(), 'mgmt-secrets-'));
});
afterEach(async () => {
  setLogLevel('info');
  setLogSink({ write: (l) => process.stderr.write(l) });
  await rm(dir, { recursive: true, force: true });
});

/** Runs the graph to convergence at `level`, shuts down, and returns what was logged and which vertices failed. */
async function run(yaml: string, level: Level, noop = false): Promise<{ log: string; failed: string[] }> {
  setLogLevel(level);
  const g = await startGraph(yaml, { noop, prefix: dir });
  const failed = await g.converged();
  await g.engine.shutdown();
  await new Promise((r) => setImmediate(r));
  return { log: lines.join(''), failed: failed.map((v) => v.id) };
}

function assertNoSecret(log: string, secret = SECRET): void {
  assert.ok(!log.includes(secret), `the secret was printed:\n${log}`);
  // Nor any part of it that output or an error could carry on its own.
  assert.ok(!log.includes(secret.slice(0, 8)), `part of the secret was printed:\n${log}`);
}

describe('Sensitive values are never printed', () => {
  for (const level of ['info', 'debug'] as const) {
    it(`an exec whose command is sensitive: not in "ran:", nor in its output (${level})`, async () => {
      const out = join(dir, 'out');
      const { log, failed } = await run(
        `graph: g
resources:
  exec:
  - name: secret-cmd
    cmd: "echo ${SECRET} > ${out}"
    shell: /bin/sh
    meta: {sensitive: [cmd]}
`,
        level,
      );
      assert.deepEqual(failed, []);
      assert.equal(await readFile(out, 'utf8'), `${SECRET}\n`, 'the command ran with the clear value');
      assertNoSecret(log);
      assert.match(log, /exec\[secret-cmd\]: ran: \[redacted\]/);
    });

    it(`an exec whose command is sensitive, under noop: "would run:" is redacted (${level})`, async () => {
      const { log } = await run(
        `graph: g
resources:
  exec:
  - {name: secret-cmd, cmd: "/bin/echo ${SECRET}", meta: {sensitive: [cmd]}}
`,
        level,
        true,
      );
      assertNoSecret(log);
      assert.match(log, /exec\[secret-cmd\]: would run: \[redacted\]/);
    });

    it(`an exec whose sensitive command fails: the error and the output are redacted (${level})`, async () => {
      const { log, failed } = await run(
        `graph: g
resources:
  exec:
  - name: failing
    cmd: "echo ${SECRET}; echo ${SECRET} >&2; exit 3"
    shell: /bin/sh
    meta: {sensitive: [cmd]}
`,
        level,
      );
      assert.deepEqual(failed, ['exec[failing]']);
      assertNoSecret(log);
      assert.match(log, /exec\[failing\]: .*'\[redacted\]' exited with code 3; its output is not shown \(sensitive parameters\)/);
    });

    it(`an exec whose environment is sensitive: what the command prints of it is not logged (${level})`, async () => {
      const { log, failed } = await run(
        `graph: g
resources:
  exec:
  - name: prints-env
    cmd: 'echo "token is $TOKEN" | rev; echo "$TOKEN" | cut -c1-8; exit 4'
    shell: /bin/sh
    env: {TOKEN: ${SECRET}, PATH: /usr/bin:/bin}
    meta: {sensitive: [env]}
`,
        level,
      );
      assert.deepEqual(failed, ['exec[prints-env]']);
      assertNoSecret(log);
      assertNoSecret(log, SECRET.split('').reverse().join('')); // ASCII
      assert.match(log, /its output is not shown/);
    });
  }

  it('a sensitive message and sensitive file content are applied and never logged', async () => {
    const path = join(dir, 'secret.txt');
    const { log, failed } = await run(
      `graph: g
resources:
  msg:
  - {name: note, body: "the password is ${SECRET}", meta: {sensitive: [body]}}
  file:
  - {name: ${path}, state: exists, content: "${SECRET}\\n", mode: "0600", meta: {sensitive: [content]}}
`,
      'debug',
    );
    assert.deepEqual(failed, []);
    assert.equal(await readFile(path, 'utf8'), `${SECRET}\n`);
    assertNoSecret(log);
    assert.match(log, /msg\[note\]: \[redacted\]/);
  });

  it('a secret in the resource name is redacted from the prefix of its lines', async () => {
    const { log } = await run(
      `graph: g
resources:
  exec:
  - {name: "/bin/echo ${SECRET}", meta: {sensitive: [cmd]}}
`,
      'info',
    );
    assertNoSecret(log);
    // The command is the whole name (`cmd` defaults to it), so the whole name is the secret.
    assert.match(log, /exec\[\[redacted\]\]: ran: \[redacted\]/);
  });

  it('a misspelt sensitive name is an error at its position, not a silently printable secret', () => {
    const { diagnostics } = checkGraphText(
      registry,
      `graph: g
resources:
  exec:
  - {name: x, cmd: /bin/true, meta: {sensitive: [comd]}}
`,
      'g.yaml',
    );
    const errors = diagnostics.filter((d) => d.severity === 'error');
    assert.equal(errors.length, 1, JSON.stringify(diagnostics));
    assert.match(errors[0]!.message, /metaparam `sensitive` names `comd`, which is not a parameter of exec \(did you mean cmd\?\)/);
    assert.equal(errors[0]!.pos?.line, 4);
  });
});

describe('validation errors', () => {
  it('a kind’s message that quotes a sensitive value quotes the marker instead', () => {
    const { diagnostics } = checkGraphText(
      registry,
      `graph: g
resources:
  exec:
  - {name: x, cmd: /bin/true, cwd: "relative/${SECRET}", meta: {sensitive: [cwd]}}
`,
      'g.yaml',
    );
    const text = JSON.stringify(diagnostics);
    assert.ok(!text.includes(SECRET), text);
    assert.match(text, /`cwd` must be an absolute path, got '\[redacted\]'/);
  });

  it('a schema error on a sensitive parameter does not quote its value', () => {
    const { diagnostics } = checkGraphText(
      registry,
      `graph: g
resources:
  msg:
  - {name: x, priority: "${SECRET}", meta: {sensitive: [priority]}}
`,
      'g.yaml',
    );
    const text = JSON.stringify(diagnostics);
    assert.ok(!text.includes(SECRET), text);
    assert.match(text, /parameter `priority`: must be one of/);
  });
});

describe('the redaction helper', () => {
  it('redacts the values at the sensitive paths, keeping the shape', () => {
    const params = { cmd: 'x', env: { A: 'one', B: 'two' }, parameters: { 'a.b': ['p', 'q'] } };
    assert.deepEqual(redactParams(params, ['env', 'parameters.a.b']), {
      cmd: 'x',
      env: { A: REDACTED, B: REDACTED },
      parameters: { 'a.b': [REDACTED, REDACTED] },
    });
    assert.equal(redactParams(params, undefined), params);
    assert.deepEqual(secretsOf(params, ['env', 'parameters.a.b', 'nowhere']).sort(), ['one', 'p', 'q', 'two']);
  });

  it('replaces every occurrence in one pass, longest first, however short', () => {
    const r = new Redactor(['ab', 'abcd', 'x', '']);
    assert.equal(r.text('abcd-ab-xyz'), `${REDACTED}-${REDACTED}-${REDACTED}yz`);
    // The marker itself is not redacted again (one pass), even when a secret is part of it.
    assert.equal(new Redactor(['d']).text('d'), REDACTED);
    assert.equal(new Redactor([]).active, false);
    assert.equal(new Redactor(['a.b*']).text('a.b* and axb'), `${REDACTED} and axb`);
  });

  it('redacts errors without keeping the clear one as their cause', () => {
    const r = new Redactor(['hunter2']);
    const e = r.error(new Error('failed: hunter2', { cause: new Error('hunter2') }));
    assert.equal(e.message, `failed: ${REDACTED}`);
    assert.equal(e.cause, undefined);
    assert.ok(!String(e.stack).includes('hunter2'));
  });
});
