// The Puppet translation rule vocabulary (src/puppet/rules.ts): typed targets, named converters, derived
// parameters, checks. The `@ts-expect-error` lines are the type-level tests: a misspelled target parameter must not
// compile (the build fails if it does, because the directive is then unused).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { registry } from '../../src/cli/registry.js';
import type { ExecParams } from '../../src/resources/exec.js';
import { applyRules, type Derivation, derivedFrom, refused, sourced, type TypeRules } from '../../src/puppet/rules.js';
import { metaparamRules, typeRules } from '../../src/puppet/types/index.js';
import { catalogResource } from '../harness/catalog.js';

const base = { type: 'Exec', kind: 'exec', doc: 'test', name: (r: { title: string }) => r.title, autorelations: [] } as const;

export const misspelledCarry: TypeRules<ExecParams> = {
  ...base,
  attributes: {
    // @ts-expect-error `cwdir` is not a parameter of exec
    cwd: { do: 'carry', to: 'cwdir' },
  },
};

export const misspelledMap: TypeRules<ExecParams> = {
  ...base,
  attributes: {
    // @ts-expect-error `refresh_only` is not a parameter of exec
    refreshonly: { do: 'map', to: 'refresh_only', values: { true: true } },
  },
};

export const misspelledDerived: TypeRules<ExecParams> = {
  ...base,
  attributes: {},
  derive: {
    // @ts-expect-error `command` is not a parameter of exec (its command is `cmd`)
    command: { from: ['command'], by: { doc: 'x', derive: () => 'x' } },
  },
};

export const misspelledMeta: TypeRules<ExecParams> = {
  ...base,
  attributes: {
    // @ts-expect-error `retries` is not a metaparam (it is `retry`)
    tries: { do: 'toMeta', meta: 'retries' },
  },
};

const joined: Derivation = {
  doc: 'a and b joined',
  derive: (ctx) =>
    ctx.has('a') || ctx.has('b')
      ? [ctx.value('a'), ctx.value('b')]
          .filter((v) => v !== undefined)
          .map(String)
          .join(' ')
      : undefined,
};

const rules: TypeRules<ExecParams> = {
  ...base,
  attributes: {
    user: { do: 'carry', to: 'user', as: 'string' },
    refreshonly: { do: 'carry', to: 'refreshonly', as: 'boolean' },
    cwd: { do: 'carry', to: 'cwd', as: 'text' },
    ensure: { do: 'map', to: 'ifcmd', values: { on: 'true' }, refuse: { off: 'off is refused' }, note: { on: 'on is noted' }, default: 'on', defaultIf: ['a'] },
    timeout: { do: 'toMeta', meta: 'timeout', as: 'milliseconds', default: 5 },
    logoutput: { do: 'note', message: 'not logged', accept: [false] },
  },
  derive: {
    cmd: { from: ['a', 'b'], by: joined },
    shell: { from: ['a'], by: { doc: 'constant', derive: (ctx) => (ctx.has('a') ? sourced('/bin/sh', []) : undefined) } },
    nifcmd: { from: ['c'], by: { doc: 'refuses', derive: (ctx) => (ctx.has('c') ? refused('c is refused') : undefined) } },
  },
  checks: [{ attribute: ['a', 'b'], outcome: 'fallback', message: 'empty', when: (ctx, a) => ctx.value(a) === '' }],
};

const run = (parameters: Record<string, unknown>, sensitive: string[] = []) =>
  applyRules(rules, metaparamRules, catalogResource('Exec', 't', parameters, { sensitive }));

describe('puppet rule vocabulary', () => {
  it('carries through named converters; a converter refusal is blamed on the attribute', () => {
    const r = run({ user: 42, refreshonly: 'yes', cwd: 7 });
    assert.deepEqual(r.params, { user: '42', refreshonly: true });
    assert.deepEqual(r.refusals, [{ attribute: 'cwd', message: 'the value is not a string' }]);
  });

  it('maps through value, refuse and note tables; defaults apply only when defaultIf is given', () => {
    assert.deepEqual(run({ ensure: 'on' }).notes, [{ attribute: 'ensure', message: 'on is noted' }]);
    assert.deepEqual(run({ ensure: 'off' }).refusals, [{ attribute: 'ensure', message: 'off is refused' }]);
    assert.deepEqual(run({ ensure: 'other' }).refusals, [{ attribute: 'ensure', message: 'value has no translation' }]);
    assert.equal(run({}).params.ifcmd, undefined);
    assert.equal(run({ a: 'x' }).params.ifcmd, 'true');
  });

  it('applies metaparam defaults through the converter', () => {
    assert.deepEqual(run({}).meta, { timeout: 5000 });
    assert.deepEqual(run({ timeout: 2 }).meta, { timeout: 2000 });
  });

  it('derives one parameter from several attributes, tracking Sensitive sources', () => {
    const r = run({ a: 'x', b: 'y' }, ['b']);
    assert.equal(r.params.cmd, 'x y');
    assert.equal(r.params.shell, '/bin/sh');
    assert.deepEqual(r.sensitiveParams, ['cmd']);
    assert.deepEqual(run({ c: 1 }).refusals, [{ attribute: 'c', message: 'c is refused' }]);
  });

  it('checks conditions per attribute; a note rule accepts harmless values', () => {
    assert.deepEqual(run({ a: '', b: '' }).refusals, [
      { attribute: 'a', message: 'empty' },
      { attribute: 'b', message: 'empty' },
    ]);
    assert.deepEqual(run({ logoutput: false }).notes, []);
    assert.deepEqual(run({ logoutput: true }).notes, [{ attribute: 'logoutput', message: 'not logged' }]);
  });

  it('refuses an attribute no rule consumes', () => {
    assert.deepEqual(run({ zzz: 1 }).refusals, [{ attribute: 'zzz', message: 'attribute has no translation rule' }]);
  });

  it('every type table targets parameters its kind has (the runtime twin of the typed targets)', () => {
    for (const t of typeRules.values()) {
      if (t.kind === null) continue;
      const params = registry.get(t.kind)?.params;
      assert.ok(params, `${t.type}: kind ${t.kind} is not registered`);
      const targets = [
        ...Object.values(t.attributes).flatMap((r) => (r.do === 'carry' || r.do === 'map' ? [r.to] : [])),
        ...Object.keys(t.derive ?? {}),
        ...(t.ignoredWhenAbsent ?? []),
      ];
      for (const p of targets) assert.ok(Object.hasOwn(params, p), `${t.type}: ${t.kind} has no parameter ${p}`);
      for (const a of derivedFrom(t).keys()) assert.ok(!(a in metaparamRules) || a in t.attributes, `${t.type}: derived from metaparam ${a}`);
    }
  });

  it('no type needs a finish hook any more', () => {
    for (const t of typeRules.values()) assert.equal('finish' in t, false, t.type);
  });
});
