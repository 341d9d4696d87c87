/**
 * What the property-based tests of the input doors share (issue 11, "how to make it stay fixed"): a fixed seed, a
 * time budget per target and per case, a registry that counts every resource it would create (nothing may be
 * applied while input is read and checked), and the arbitraries of the values a graph or a catalog may hold.
 *
 * FUZZ_BUDGET_MS (default 4000) sets each target's budget; FUZZ_SEED replays another seed.
 */
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import fc from 'fast-check';
import yaml from 'js-yaml';
import type { Diagnostic } from '../../src/graph/diagnostics.js';
import { formatDiagnostic } from '../../src/graph/diagnostics.js';
import type { Registry } from '../../src/resources/registry.js';
import { registryOf } from '../../src/resources/registry.js';
import type { ResourceKind } from '../../src/resources/resource.js';

export const SEED = Number(process.env.FUZZ_SEED ?? 1106);
export const BUDGET_MS = Number(process.env.FUZZ_BUDGET_MS ?? 4000);
/** The most one case may take: no input may make a check hang. */
export const CASE_MS = 2000;

/**
 * Runs `check` on values of `arb` for BUDGET_MS with the fixed seed; a case that throws or takes more than CASE_MS
 * fails the test with the (shrunk) input. Reports and returns the number of cases run.
 */
export function fuzz<T>(t: TestContext, target: string, arb: fc.Arbitrary<T>, check: (value: T) => void): number {
  let slowest = 0;
  const details = fc.check(
    fc.property(arb, (v) => {
      const t0 = performance.now();
      check(v);
      const ms = performance.now() - t0;
      if (ms > slowest) slowest = ms;
      if (ms > CASE_MS) throw new Error(`one case took ${ms.toFixed(0)} ms, more than the ${CASE_MS} ms a case may take`);
    }),
    { seed: SEED, numRuns: 10_000_000, plugins: [fc.interruptAfterTimeLimit(BUDGET_MS, { failOnInterrupt: false })] },
  );
  if (details.failed) {
    const why = details.errorInstance instanceof Error ? (details.errorInstance.stack ?? details.errorInstance.message) : String(details.errorInstance);
    assert.fail(`${target}: ${fc.defaultReportMessage(details)}\n${why}`);
  }
  t.diagnostic(`${target}: ${details.numRuns} cases in ${BUDGET_MS} ms (seed ${SEED}), slowest ${slowest.toFixed(1)} ms`);
  assert.ok(details.numRuns >= 50, `${target}: only ${details.numRuns} cases ran`);
  return details.numRuns;
}

/** The registry's kinds, each counting the resources it is asked to create (and refusing to). */
export function spyRegistry(base: Registry): { readonly registry: Registry; created(): number } {
  let created = 0;
  const kinds = base.all().map((k): ResourceKind => ({
    ...k,
    create: () => {
      created++;
      throw new Error(`${k.kind}: created while input was only read and checked`);
    },
  }));
  return { registry: registryOf(kinds), created: () => created };
}

/** Every error carries file:line (and a column). */
export function assertLocated(ds: readonly Diagnostic[], file: string): void {
  for (const d of ds) {
    if (d.severity !== 'error') continue;
    assert.ok(d.pos?.file === file && d.pos.line >= 1 && d.pos.col >= 1, `an error without its place: ${formatDiagnostic(d)}`);
  }
}

/** Any string, lone surrogates and control characters included. */
export const anyText = (maxLength = 40): fc.Arbitrary<string> =>
  fc.array(fc.oneof(fc.integer({ min: 0, max: 0x7f }), fc.integer({ min: 0, max: 0x10ffff })), { maxLength }).map((cps) => String.fromCodePoint(...cps));

/** Scalars that mean something to a YAML 1.1 reader, a parameter or a timer. */
export const trickyScalar: fc.Arbitrary<string> = fc.constantFrom(
  '',
  '~',
  'null',
  'yes',
  'No',
  'on',
  '0644',
  '0o17',
  '0x1f',
  '1e3',
  '.inf',
  '-.inf',
  '.nan',
  '-1',
  '0',
  '2147483647',
  '2147483648',
  '3000000000',
  '99999999999999999999',
  '4294967295',
  '/tmp/x',
  '/tmp/d/',
  'relative',
  '/etc//motd',
  '@@shared',
  '$x',
  'a: b',
  '#x',
  'a,b',
  'File[/tmp/x]',
  'exists',
  'absent',
  'running',
  'u=rw,go=r',
  '\u0000',
  '\ufeff',
);

export const scalar: fc.Arbitrary<string | number | boolean | null> = fc.oneof(
  trickyScalar,
  anyText(12),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
);

/** A JSON-like value of small depth built from `leaf`. */
export function nested<T>(
  leaf: fc.Arbitrary<T>,
  keys: fc.Arbitrary<string> = fc.oneof(trickyScalar, anyText(6), fc.constantFrom('toString', 'valueOf', '__proto__', 'constructor')),
): fc.Arbitrary<unknown> {
  return fc.letrec<{ v: unknown }>((tie) => ({
    v: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, fc.array(tie('v'), { maxLength: 4 }), fc.dictionary(keys, tie('v'), { maxKeys: 4 })),
  })).v;
}

/** YAML text of a value (js-yaml's dump; JSON, which YAML reads too, for what dump refuses). */
export function toYaml(value: unknown): string {
  try {
    return yaml.dump(value, { lineWidth: -1 });
  } catch {
    return JSON.stringify(value);
  }
}
