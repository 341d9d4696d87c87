// How `npm run corpus` classifies what it finds (scripts/corpus-report.ts, scripts/corpus-puppet-apply.ts): every
// --noop failure is a limit of the machine (with the reason) or a divergence, a graph that does not validate is
// checked against `puppet apply --noop`, and the contract line of docs/coverage.md says whether it holds. The corpus
// itself needs the module cache; these are its rules on Puppet's real messages (as Puppet 7.23 prints them).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ModuleList } from '../../scripts/corpus-modules.js';
import { errorFor, puppetErrors } from '../../scripts/corpus-puppet-apply.js';
import { type ExampleResult, causeOf, classify, coverageMarkdown, puppetVerdict } from '../../scripts/corpus-report.js';

const CYCLE_OUTPUT = [
  'Warning: Scope(Tomcat::Instance[default]): Passing install_from_source is deprecated.',
  'Error: Found 1 dependency cycle:',
  "(Concat_file[/opt/c.properties] => Concat[/opt/c.properties] => Service[tomcat] => Concat_file[/opt/c.properties])\\nTry the '--graph' option",
  'Error: Failed to apply catalog: One or more resource dependency cycles detected in graph',
  '',
].join('\n');

const LOGIN_PATH_OUTPUT = [
  'Notice: Compiled catalog for corpus.example.test in environment production in 0.05 seconds',
  "Error: /Stage[main]/Main/Mysql_login_path[local_dan]: Could not evaluate: Execution of '/usr/bin/mysql_config_editor print --all' returned 1: ",
  'Error: Facter: Permission denied @ rb_sysopen - /proc/1/environ',
  '',
].join('\n');

describe('the corpus report', () => {
  it('reads Puppet’s Error messages, joining a message that goes on over lines, and finds the one for a resource', () => {
    assert.deepEqual(puppetErrors(CYCLE_OUTPUT), [
      "Found 1 dependency cycle: (Concat_file[/opt/c.properties] => Concat[/opt/c.properties] => Service[tomcat] => Concat_file[/opt/c.properties])\\nTry the '--graph' option",
      'Failed to apply catalog: One or more resource dependency cycles detected in graph',
    ]);
    const errors = puppetErrors(LOGIN_PATH_OUTPUT);
    assert.equal(errors.length, 1, 'Facter’s complaints are not the example’s errors');
    assert.equal(errorFor(errors, 'Mysql_login_path[local_dan]'), "Could not evaluate: Execution of '/usr/bin/mysql_config_editor print --all' returned 1:");
    assert.equal(errorFor(errors, 'Mysql_login_path[dan]'), undefined, 'a title that only ends the same is another resource');
  });

  it('a provider command that is not installed here is a limit of the machine; one that is installed and fails is not', () => {
    const missing = causeOf("Puppet could not check Mysql_login_path[client]: Execution of '/nonexistent/mysql_config_editor print --all' returned 1: ");
    assert.deepEqual(missing, { cause: 'the Puppet provider runs /nonexistent/mysql_config_editor, which is not installed on this machine', machine: true });
    const failing = causeOf("Puppet could not check Foo[x]: Execution of '/bin/false' returned 1: ");
    assert.equal(failing.machine, false);
    assert.equal(failing.cause, "Execution of '/bin/false' returned 1: ");
  });

  it('a failure no rule explains is a machine limit only when puppet apply --noop fails the same resource', () => {
    const failure = { id: 'puppet[Foo[x]]', ref: 'Foo[x]', error: 'Puppet could not check Foo[x]: something odd' };
    const example = (errors: string[]): ExampleResult => ({ module: 'm', path: 'm/examples/x.pp', compiled: true, puppetNoop: { code: 4, errors } });
    assert.deepEqual(classify(failure, example(['/Stage[main]/Main/Foo[x]: Could not evaluate: something odd'])), {
      cause: 'puppet apply --noop fails it too: Could not evaluate: something odd',
      machine: true,
    });
    assert.deepEqual(classify(failure, example(['/Stage[main]/Main/Foo[y]: Could not evaluate: other'])), { cause: 'something odd', machine: false });
    assert.equal(classify({ error: 'no such user' }, example([])).machine, false, 'without a Puppet resource: a divergence');
  });

  it('a graph that does not validate: Puppet refuses it too (exit code 1), or applies it, which is a divergence', () => {
    const refused: ExampleResult = { module: 'm', path: 'm/examples/a.pp', compiled: true, puppetNoop: { code: 1, errors: puppetErrors(CYCLE_OUTPUT) } };
    assert.equal(puppetVerdict(refused).refuses, true);
    assert.match(puppetVerdict(refused).text, /^refuses it too: Found 1 dependency cycle: \(Concat_file/);
    const applied: ExampleResult = { module: 'm', path: 'm/examples/b.pp', compiled: true, puppetNoop: { code: 2, errors: [] } };
    assert.deepEqual(puppetVerdict(applied), { refuses: false, text: 'applies it (exit code 2): a divergence' });
  });

  it('the page says whether the contract holds, and lists every divergence', () => {
    const list: ModuleList = { puppet: '7.23.0', modules: [{ name: 'm', repo: 'o/m', tag: 'v1.0.0', commit: 'c', version: '1.0.0', examples: true }] };
    const refused: ExampleResult = {
      module: 'm',
      path: 'm/examples/cycle.pp',
      compiled: true,
      validationErrors: ['dependency cycle: a -> b -> a'],
      puppetNoop: { code: 1, errors: ['Found 1 dependency cycle: (A[a] => B[b] => A[a])'] },
    };
    const limited: ExampleResult = {
      module: 'm',
      path: 'm/examples/svc.pp',
      compiled: true,
      validated: true,
      outcomes: [],
      noop: { failures: [{ id: 'svc[x]', error: 'svc[x]: systemd is not the init system here' }], ms: 1, timedOut: false },
    };
    const page = (results: ExampleResult[]) => coverageMarkdown({ list, puppet: '7.23.0', results, noop: true, seconds: 1 });
    const holds = page([refused, limited]);
    assert.match(holds, /the contract .*: \*\*holds\*\*\. Of 2 examples that compile, 1 is refused by `puppet apply --noop` too and 0 others do not validate/);
    assert.match(holds, /of 1 that ran under --noop, 0 ran clean, 1 failed only where this machine cannot run, and 0 resources diverged from Puppet/);
    assert.match(holds, /\| m\/examples\/cycle\.pp \| dependency cycle: a -> b -> a \| refuses it too: Found 1 dependency cycle/);
    assert.match(holds, /\| 1 \| 1 \| systemd is not the init system \| cannot run on this machine \|/);
    assert.match(holds, /No divergence: every failure is something this machine cannot run\./);

    const diverging: ExampleResult = {
      ...limited,
      path: 'm/examples/user.pp',
      noop: { failures: [{ id: 'ssh:authorized_key[k]', ref: 'Ssh_authorized_key[k]', error: "no such user 'jeff'" }], ms: 1, timedOut: false },
      puppetNoop: { code: 2, errors: [] },
    };
    const applied: ExampleResult = { ...refused, path: 'm/examples/valid-for-puppet.pp', puppetNoop: { code: 2, errors: [] } };
    const broken = page([applied, diverging]);
    assert.match(broken, /\*\*does not hold\*\*\. Of 2 examples that compile, 0 are refused by `puppet apply --noop` too and 1 other does not validate/);
    assert.match(broken, /and 1 resource diverged from Puppet/);
    assert.match(broken, /\| m\/examples\/valid-for-puppet\.pp \| .* \| applies it \(exit code 2\): a divergence \|/);
    assert.match(broken, /\| 1 \| 1 \| no such user 'jeff' \| divergence \|/);
    assert.match(broken, /\| m\/examples\/user\.pp \| ssh:authorized_key\[k\] \| no such user 'jeff' \|/);
  });
});
