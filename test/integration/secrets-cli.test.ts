/**
 * The attacks of issue 11 item 3 through the `mgmt` command, as a user runs it: an exec whose command is
 * Sensitive (`ran:`, `would run:` under --noop, the failure), and one whose environment is Sensitive and whose
 * command prints it; at the default level and with -v. Nothing of the secret reaches stderr or stdout.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { mgmtRun, scratchDirPerTest } from '../harness/cli.js';

const SECRET = 's3cr3t-cli-Tok3n';
let dir = '';
scratchDirPerTest('mgmt-secrets-cli-', (d) => (dir = d));

function graph(): string {
  const file = join(dir, 'g.yaml');
  writeFileSync(
    file,
    `graph: g
resources:
  exec:
  - name: secret-cmd
    cmd: "/bin/echo ${SECRET}"
    meta: {sensitive: [cmd]}
  - name: secret-env
    cmd: 'echo "$TOKEN" > ${dir}/out; echo "$TOKEN"; echo "$TOKEN" >&2'
    shell: /bin/sh
    env: {TOKEN: ${SECRET}}
    meta: {sensitive: [env]}
  - name: secret-fails
    cmd: "echo ${SECRET}; exit 7"
    shell: /bin/sh
    meta: {sensitive: [cmd]}
`,
  );
  return file;
}

describe('mgmt run never prints a Sensitive value', () => {
  for (const flags of [[], ['-v'], ['--noop'], ['--noop', '-v']]) {
    it(`exec with a sensitive command or environment: ${flags.join(' ') || 'default level'}`, async () => {
      const r = await mgmtRun(['run', '--yaml', graph(), '--converged-timeout', '0', '--tmp-prefix', ...flags]);
      const all = r.stderr + r.stdout;
      assert.ok(!all.includes(SECRET) && !all.includes(SECRET.slice(0, 8)), `the secret was printed:\n${all}`);
      if (flags.includes('--noop')) {
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stderr, /exec\[secret-cmd\]: would run: \[redacted\]/);
      } else {
        assert.notEqual(r.code, 0, 'secret-fails fails');
        assert.match(r.stderr, /exec\[secret-cmd\]: ran: \[redacted\]/);
        assert.match(r.stderr, /exec\[secret-fails\]: .*'\[redacted\]' exited with code 7; its output is not shown/);
        assert.equal(readFileSync(join(dir, 'out'), 'utf8'), `${SECRET}\n`, 'applied with the clear value');
      }
    });
  }
});
