/**
 * What the corpus run found, and docs/coverage.md from it. Resources are counted as Puppet's catalog counts them:
 * every resource of a Ruby type (anchors and concat fragments included), not classes, defined-type instances or
 * stages. An anchor has no vertex (it only orders) and counts as native.
 */
import { existsSync } from 'node:fs';
import type { Catalog } from '../src/puppet/catalog.js';
import type { Note } from '../src/puppet/rules.js';
import type { Status, TranslationReport } from '../src/puppet/report.js';
import type { ModuleList } from './corpus-modules.js';
import { errorFor } from './corpus-puppet-apply.js';

export interface Outcome {
  readonly type: string;
  readonly status: Status;
  /** Dropped or refused attributes (degraded, fallback), with constant messages. */
  readonly notes: readonly Note[];
  /** Attributes translated natively with a note (they only shape Puppet's own output). */
  readonly info: readonly Note[];
  readonly reason?: string;
}

export interface ExampleResult {
  readonly module: string;
  /** `apache/examples/vhost.pp` */
  readonly path: string;
  compiled: boolean;
  compileError?: string;
  report?: TranslationReport;
  outcomes?: Outcome[];
  validated?: boolean;
  validationErrors?: string[];
  /** The vertices that failed under noop, with the Puppet resource each came from (`ref`) where there is one. */
  noop?: { failures: { id: string; error: string; ref?: string }[]; ms: number; timedOut: boolean };
  /**
   * `puppet apply --noop` on the same example with the same facts, run where our result is not Puppet's on its
   * face: the graph does not validate, or a --noop failure is not a known limit of the machine.
   */
  puppetNoop?: { code: number | null; errors: string[] };
}

/** Containers of Puppet's language, not of a Ruby type. */
const NOT_RUBY_TYPES = new Set(['Class', 'Stage', 'Node']);

/** The resources of Ruby types in the catalog: what Puppet's catalog counts (not classes, defines or stages). */
export function rubyTypeResources(catalog: Catalog): Catalog['resources'] {
  return catalog.resources.filter((r) => !(NOT_RUBY_TYPES.has(r.type) || r.kind === 'defined_type' || r.kind === 'class'));
}

/** One outcome per resource of a Ruby type in the catalog. */
export function resourceOutcomes(catalog: Catalog, report: TranslationReport): Outcome[] {
  const byRef = new Map(report.resources.map((r) => [r.ref, r]));
  const out: Outcome[] = [];
  for (const r of rubyTypeResources(catalog)) {
    const ref = `${r.type}[${r.title}]`;
    const rep = byRef.get(ref);
    if (rep)
      out.push({ type: r.type, status: rep.status, notes: rep.notes, info: rep.info ?? [], ...(rep.reason !== undefined ? { reason: rep.reason } : {}) });
    else if (r.type === 'Anchor') out.push({ type: r.type, status: 'native', notes: [], info: [] });
    else out.push({ type: r.type, status: 'fallback', notes: [], info: [], reason: 'not in the translation report' });
  }
  return out;
}

interface Counts {
  total: number;
  native: number;
  degraded: number;
  fallback: number;
}

const zero = (): Counts => ({ total: 0, native: 0, degraded: 0, fallback: 0 });
const add = (c: Counts, s: Status) => {
  c.total++;
  c[s]++;
};
const pct = (n: number, d: number) => (d === 0 ? '–' : `${((n * 100) / d).toFixed(1)}%`);
const row = (name: string, c: Counts) => `| ${name} | ${c.total} | ${pct(c.native, c.total)} | ${pct(c.degraded, c.total)} | ${pct(c.fallback, c.total)} |`;
const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const cut = (s: string, n = 300) => (s.length > n ? `${s.slice(0, n)}…` : s);

/**
 * What a noop failure comes from, in a few words: the limits of the machine that ran the corpus (no PackageKit on
 * a system bus, systemd not the init system, a Puppet provider whose tool is not installed, no network) are named
 * as such; any other failure is a divergence to look into.
 */
const MACHINE_LIMITS: readonly (readonly [RegExp, string])[] = [
  [/PackageKit is not reachable/, 'PackageKit is not reachable on the system bus'],
  [/systemd is not the init system/, 'systemd is not the init system'],
  [/Provider (\w+) is not functional on this host/, 'the Puppet provider is not functional on this host (its tool is not installed)'],
  [/Could not find a suitable provider/, 'Puppet finds no suitable provider on this host'],
  [/No such file or directory - \w+/, 'a command the Puppet provider runs is not installed'],
  [/Failed to open TCP connection|Could not resolve host|getaddrinfo/, 'no network'],
];

/** A Puppet provider's command failed: `Execution of '/usr/bin/tool args' returned 1: ...`. */
const EXECUTION = /Execution of '(\/[^\s']+)[^']*' returned/;

export function causeOf(error: string): { cause: string; machine: boolean } {
  for (const [re, cause] of MACHINE_LIMITS) if (re.test(error)) return { cause, machine: true };
  // Puppet runs a missing program as a child that exits 1 with no output: the tool is not installed here.
  const run = EXECUTION.exec(error);
  if (run && !existsSync(run[1]!)) return { cause: `the Puppet provider runs ${run[1]!}, which is not installed on this machine`, machine: true };
  return { cause: cut(error.replace(/^Puppet could not check [^:]+\]: /, ''), 160), machine: false };
}

/**
 * What one --noop failure is: a known limit of the machine (causeOf), or a resource `puppet apply --noop` fails on
 * this machine too (then Puppet cannot run it here either), or else a divergence from Puppet.
 */
export function classify(failure: { error: string; ref?: string }, example: ExampleResult): { cause: string; machine: boolean } {
  const known = causeOf(failure.error);
  if (known.machine || failure.ref === undefined || example.puppetNoop === undefined) return known;
  const theirs = errorFor(example.puppetNoop.errors, failure.ref);
  return theirs === undefined ? known : { cause: `puppet apply --noop fails it too: ${cut(theirs, 160)}`, machine: true };
}

/** Puppet's verdict on an example whose graph does not validate: whether it refuses it too, with its first error. */
export function puppetVerdict(example: ExampleResult): { refuses: boolean; text: string } {
  const p = example.puppetNoop;
  if (!p) return { refuses: false, text: 'not checked' };
  // --detailed-exitcodes: 1 is a run that failed as a whole (a cycle, a catalog Puppet cannot apply).
  if (p.code === 1) return { refuses: true, text: `refuses it too: ${cut(p.errors.join(' '), 400)}` };
  return { refuses: false, text: `applies it (exit code ${p.code ?? 'none'}): a divergence` };
}

export interface NoopFailure {
  readonly path: string;
  readonly id: string;
  readonly error: string;
  readonly kind: { cause: string; machine: boolean };
}

/** Every --noop failure of the examples that ran, classified; an example that did not converge is a divergence. */
export function noopFailures(ran: readonly ExampleResult[]): NoopFailure[] {
  return ran.flatMap((r) => [
    ...(r.noop!.timedOut
      ? [{ path: r.path, id: '–', error: 'did not converge within the deadline', kind: { cause: 'did not converge within the deadline', machine: false } }]
      : []),
    ...r.noop!.failures.map((f) => ({ path: r.path, id: f.id, error: f.error, kind: classify(f, r) })),
  ]);
}

export interface CoverageInput {
  readonly list: ModuleList;
  readonly puppet: string;
  readonly results: readonly ExampleResult[];
  /** Whether the graphs ran under noop. */
  readonly noop: boolean;
  readonly seconds: number;
}

/** The totals the page and the run's summary give. */
export function totals(results: readonly ExampleResult[]): { all: Counts; info: number; dropped: number } {
  const all = zero();
  let info = 0;
  for (const r of results)
    for (const o of r.outcomes ?? []) {
      add(all, o.status);
      info += o.info.length;
    }
  // Every attribute a resource sets is carried, or named in a note (degraded, fallback, native with a note):
  // the translator has no silent drop, so nothing is dropped without a line in the report.
  return { all, info, dropped: 0 };
}

export function coverageMarkdown(input: CoverageInput): string {
  const { results } = input;
  const { all } = totals(results);
  const byType = new Map<string, Counts>();
  const byModule = new Map<string, Counts>();
  const attrs = new Map<string, { count: number; status: string; type: string; attribute: string; message: string }>();
  const infos = new Map<string, { count: number; type: string; attribute: string; message: string }>();
  for (const r of results) {
    for (const o of r.outcomes ?? []) {
      let t = byType.get(o.type);
      if (!t) byType.set(o.type, (t = zero()));
      add(t, o.status);
      let m = byModule.get(r.module);
      if (!m) byModule.set(r.module, (m = zero()));
      add(m, o.status);
      if (o.status !== 'native') {
        const items = o.notes.length ? o.notes : [{ attribute: '', message: o.reason ?? '' }];
        for (const n of items) {
          const key = `${o.status}\0${o.type}\0${n.attribute}\0${n.message}`;
          const g = attrs.get(key);
          if (g) g.count++;
          else attrs.set(key, { count: 1, status: o.status, type: o.type, attribute: n.attribute, message: n.message });
        }
      }
      for (const n of o.info) {
        const key = `${o.type}\0${n.attribute}\0${n.message}`;
        const g = infos.get(key);
        if (g) g.count++;
        else infos.set(key, { count: 1, type: o.type, attribute: n.attribute, message: n.message });
      }
    }
  }
  const compiled = results.filter((r) => r.compiled);
  const validated = results.filter((r) => r.validated);
  const ran = validated.filter((r) => r.noop);
  const clean = ran.filter((r) => r.noop!.failures.length === 0 && !r.noop!.timedOut);
  const vf = results.filter((r) => r.compiled && !r.validated);
  const refused = vf.filter((r) => puppetVerdict(r).refuses);
  const divergences = noopFailures(ran).filter((f) => !f.kind.machine);
  const machineOnly = ran.filter((r) => !clean.includes(r) && !divergences.some((f) => f.path === r.path));
  const out: string[] = [
    '# Puppet translation coverage on the development corpus',
    '',
    '<!-- Generated by `npm run corpus` (scripts/corpus.ts). Do not edit. -->',
    '',
    `The examples (\`examples/**/*.pp\`) of ${input.list.modules.filter((m) => m.examples).length} public modules at their newest release for ` +
      `Puppet ${input.list.puppet} (fixtures/corpus/modules.json lists each with its tag and commit), compiled by Puppet ${input.puppet} ` +
      'with the fixed Debian 12 facts of fixtures/corpus/facts-debian12.yaml, translated, validated' +
      (input.noop ? ', and run under `--noop` where the graph validates' : '') +
      '. Resources are counted as in Puppet’s catalog: every resource of a Ruby type (anchors and concat fragments included), ' +
      'not classes, defined-type instances or stages.',
    '',
    '## Totals',
    '',
    `- examples: ${results.length}; compile: ${compiled.length}; translate into a graph that validates: ${validated.length}` +
      (input.noop ? `; run under --noop without a failure: ${clean.length} of ${ran.length}` : ''),
    `- resources: ${all.total}: **${pct(all.native, all.total)} native**, ${pct(all.degraded, all.total)} degraded, ${pct(all.fallback, all.total)} fallback`,
    '- the contract (every example that compiles with `puppet apply` translates into a graph that validates and runs ' +
      'under `--noop`, apart from what cannot run on this machine): ' +
      (vf.length === refused.length && (!input.noop || divergences.length === 0) ? '**holds**' : '**does not hold**') +
      `. Of ${compiled.length} examples that compile, ${refused.length} ${refused.length === 1 ? 'is' : 'are'} refused by \`puppet apply --noop\` too ` +
      `and ${vf.length - refused.length} other${vf.length - refused.length === 1 ? ' does' : 's do'} not validate (see Validation failures)` +
      (input.noop
        ? `; of ${ran.length} that ran under --noop, ${clean.length} ran clean, ${machineOnly.length} failed only where this machine cannot run, ` +
          `and ${divergences.length} resource${divergences.length === 1 ? '' : 's'} diverged from Puppet (see Under --noop)`
        : ''),
    `- attributes dropped without a note in the report: 0; translated natively with a note (they only shape Puppet’s output): ${[...infos.values()].reduce((s, g) => s + g.count, 0)}`,
    '',
    '## Per type',
    '',
    '| type | resources | native | degraded | fallback |',
    '|---|---|---|---|---|',
    ...[...byType.entries()].sort((a, b) => b[1].total - a[1].total || (a[0] < b[0] ? -1 : 1)).map(([t, c]) => row(t, c)),
    '',
    '## Per module',
    '',
    'By the module whose example it is (a dependency’s resources count for the example’s module).',
    '',
    '| module | examples | compile | validate | resources | native | degraded | fallback |',
    '|---|---|---|---|---|---|---|---|',
    ...input.list.modules
      .filter((m) => m.examples)
      .map((m) => {
        const rs = results.filter((r) => r.module === m.name);
        const c = byModule.get(m.name) ?? zero();
        return `| ${m.name} ${m.version} | ${rs.length} | ${rs.filter((r) => r.compiled).length} | ${rs.filter((r) => r.validated).length} | ${c.total} | ${pct(c.native, c.total)} | ${pct(c.degraded, c.total)} | ${pct(c.fallback, c.total)} |`;
      }),
    '',
    '## Untranslated attributes',
    '',
    'What keeps resources from being native, most frequent first (one line per type, attribute and reason).',
    '',
  ];
  const top = [...attrs.values()].sort((a, b) => b.count - a.count || (a.type + a.attribute < b.type + b.attribute ? -1 : 1));
  if (top.length === 0) out.push('None.');
  else {
    out.push('| resources | type | attribute | outcome | reason |', '|---|---|---|---|---|');
    for (const g of top) out.push(`| ${g.count} | ${g.type} | ${g.attribute || '–'} | ${g.status} | ${cell(g.message)} |`);
  }
  out.push('', '## Native with a note', '', 'Attributes that only shape Puppet’s own output: translated natively, and named in the report.', '');
  const info = [...infos.values()].sort((a, b) => b.count - a.count || (a.type + a.attribute < b.type + b.attribute ? -1 : 1));
  if (info.length === 0) out.push('None.');
  else {
    out.push('| resources | type | attribute | note |', '|---|---|---|---|');
    for (const g of info) out.push(`| ${g.count} | ${g.type} | ${g.attribute} | ${cell(g.message)} |`);
  }
  out.push('', '## Compile failures', '');
  const cf = results.filter((r) => !r.compiled);
  if (cf.length === 0) out.push('None.');
  else {
    out.push('| example | Puppet’s error |', '|---|---|');
    for (const r of cf) out.push(`| ${r.path} | ${cell(cut(r.compileError ?? ''))} |`);
  }
  out.push('', '## Validation failures', '');
  if (vf.length === 0) out.push('None: every example that compiles translates into a graph that validates.');
  else {
    out.push(
      'Each example here also runs through `puppet apply --noop` with the same facts: the contract covers what Puppet can apply.',
      '',
      '| example | error | puppet apply --noop |',
      '|---|---|---|',
    );
    for (const r of vf) out.push(`| ${r.path} | ${cell(cut((r.validationErrors ?? []).join('; ')))} | ${cell(puppetVerdict(r).text)} |`);
  }
  if (input.noop) {
    out.push(
      '',
      '## Under --noop',
      '',
      'Each graph that validates runs on the engine with `--noop` until it converges. A failure is either something the ' +
        'machine that ran the corpus cannot run (no system manager, no PackageKit, a Puppet provider’s tool not installed, ' +
        'no network; or a resource that `puppet apply --noop` fails here too, run on the same example with the same facts ' +
        'wherever no known limit explains a failure), or a divergence from Puppet to fix.',
      '',
    );
    const failures = noopFailures(ran);
    if (failures.length === 0) out.push('Every graph ran under --noop without a failure.');
    else {
      const causes = new Map<string, { count: number; examples: Set<string>; machine: boolean }>();
      for (const f of failures) {
        const c = f.kind;
        let g = causes.get(c.cause);
        if (!g) causes.set(c.cause, (g = { count: 0, examples: new Set(), machine: c.machine }));
        g.count++;
        g.examples.add(f.path);
      }
      out.push('| resources | examples | cause | what it is |', '|---|---|---|---|');
      for (const [cause, g] of [...causes].sort((a, b) => b[1].count - a[1].count || (a[0] < b[0] ? -1 : 1))) {
        out.push(`| ${g.count} | ${g.examples.size} | ${cell(cause)} | ${g.machine ? 'cannot run on this machine' : 'divergence'} |`);
      }
      const others = failures.filter((f) => !f.kind.machine);
      if (others.length === 0) out.push('', 'No divergence: every failure is something this machine cannot run.');
      else {
        out.push('', 'The divergences (failures that are not limits of the machine):', '', '| example | resource | error |', '|---|---|---|');
        for (const f of others) out.push(`| ${f.path} | ${cell(f.id)} | ${cell(cut(f.error))} |`);
      }
    }
  }
  out.push('', `The run took ${input.seconds.toFixed(0)} s.`, '');
  return out.join('\n');
}
