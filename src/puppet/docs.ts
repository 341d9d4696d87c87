/**
 * Generates docs/puppet.md from the rule tables, so the supported list cannot drift from the code.
 * `node dist/src/puppet/docs.js` writes it; test/unit/puppet-docs.test.ts fails when it is stale.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DEFAULT_RUNINTERVAL_S, REFRESHABLE_PUPPET_TYPES } from './fallback.js';
import { coreRegistry } from '../resources/core-registry.js';
import type { Registry } from '../resources/registry.js';
import { withPuppetKind } from './fallback-kind.js';
import { REDACTED } from '../observe/redact.js';
import { type Derive, derivedFrom, describeAccept, converterOf, MSG_IGNORED_WHEN_ABSENT, MSG_UNSUPPORTED_VALUE, type Rule, type TypeRules } from './rules.js';
import { metaparamRules, typeRules } from './types/index.js';

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const code = (s: string) => `\`${s}\``;
const join = (parts: readonly (string | undefined)[], sep = '; ') => parts.filter((p) => p !== undefined && p !== '').join(sep);

/** One attribute's row: the target parameter, the conversion, and when it degrades or falls back. */
function ruleRow(rule: Rule | undefined, derives: readonly string[]): [string, string, string] {
  const derived = derives.length ? `derives ${derives.map(code).join(', ')}` : undefined;
  if (!rule) return [derived ?? '', 'see the derived parameters below', ''];
  const target = (to: string) => join([code(to), derived]);
  switch (rule.do) {
    case 'carry': {
      const c = rule.as ? converterOf(rule.as) : undefined;
      const dflt = rule.default === undefined ? undefined : `not given: ${JSON.stringify(rule.default)} (unless ensure is absent)`;
      return [target(rule.to), join([c ? c.doc : 'as is', dflt, rule.doc]), c?.refuses ? `fallback: ${c.refuses}` : ''];
    }
    case 'map': {
      const c = rule.otherwise ? converterOf(rule.otherwise) : undefined;
      const values = Object.entries(rule.values).map(([k, v]) => `${k} → ${String(v)}`);
      const dflt =
        rule.default === undefined ? undefined : `not given: ${rule.default}${rule.defaultIf ? ` when one of ${rule.defaultIf.join(', ')} is given` : ''}`;
      const conversion = join([values.join(', '), c ? `otherwise ${c.doc}` : undefined, dflt, rule.doc]);
      const outcomes = [
        ...Object.entries(rule.note ?? {}).map(([k, m]) => `${k} → degraded: ${m}`),
        ...Object.entries(rule.refuse ?? {}).map(([k, m]) => `${k} → fallback: ${m}`),
        c ? (c.refuses ? `fallback: ${c.refuses}` : undefined) : `other values → fallback: ${rule.message ?? MSG_UNSUPPORTED_VALUE}`,
      ];
      return [target(rule.to), conversion, join(outcomes)];
    }
    case 'toMeta': {
      const c = rule.as ? converterOf(rule.as) : undefined;
      const dflt = rule.default === undefined ? undefined : `not given: ${String(rule.default)}`;
      return [target(`meta.${rule.meta}`), join([c ? c.doc : 'as is', dflt, rule.doc]), c?.refuses ? `fallback: ${c.refuses}` : ''];
    }
    case 'drop':
      return [derived ?? '', join(['ignored', rule.doc], ': '), ''];
    case 'note':
      return [derived ?? '', '', join([`degraded: ${rule.message}`, rule.accept ? `(not for ${describeAccept(rule.accept)})` : undefined], ' ')];
    case 'info':
      return [derived ?? '', '', join([`native, noted: ${rule.message}`, rule.accept ? `(not for ${describeAccept(rule.accept)})` : undefined], ' ')];
    case 'refuse':
      return [derived ?? '', rule.doc ?? '', join([`fallback: ${rule.reason}`, rule.accept ? `(accepted: ${describeAccept(rule.accept)})` : undefined], ' ')];
    case 'use':
      return [derived ?? '', rule.doc, ''];
  }
}

function attributeTable(attrs: Readonly<Record<string, Rule>>, derivedBy: ReadonlyMap<string, readonly string[]> = new Map()): string {
  const rows = ['| attribute | parameter | conversion | degraded or fallback |', '|---|---|---|---|'];
  const names = [...new Set([...Object.keys(attrs), ...derivedBy.keys()])].sort();
  for (const name of names)
    rows.push(
      `| ${code(name)} | ${ruleRow(attrs[name], derivedBy.get(name) ?? [])
        .map(cell)
        .join(' | ')} |`,
    );
  return rows.join('\n');
}

/** The type's table, its derived parameters, its checks across attributes. */
function typeSection(t: TypeRules): string[] {
  const out = [attributeTable(t.attributes, derivedFrom(t)), ''];
  const derive = Object.entries(t.derive ?? {}).filter((e): e is [string, Derive] => e[1] !== undefined);
  if (derive.length) {
    out.push('| derived parameter | from | derivation |', '|---|---|---|');
    for (const [param, d] of derive) out.push(`| ${code(param)} | ${d.from.map(code).join(', ')} | ${cell(d.by.doc)} |`);
    out.push('');
  }
  const checks = t.checks ?? [];
  if (checks.length || t.ignoredWhenAbsent?.length) {
    out.push('Across attributes:', '');
    for (const c of checks) {
      const attrs = (typeof c.attribute === 'string' ? [c.attribute] : c.attribute).map(code).join(', ');
      out.push(`- ${c.outcome === 'native' ? 'native, noted' : c.outcome} (${attrs}): ${c.message}${c.doc ? `, when ${c.doc}` : ''}`);
    }
    if (t.ignoredWhenAbsent?.length) out.push(`- native, noted (${t.ignoredWhenAbsent.map(code).join(', ')}): ${MSG_IGNORED_WHEN_ABSENT}`);
    out.push('');
  }
  if (t.sensitive?.length) {
    out.push(
      `Always Sensitive (the type declares it): ${t.sensitive.map(code).join(', ')}; redacted from every output even when the manifest does not wrap it.`,
      '',
    );
  }
  if (t.autorelations.length === 0) out.push('Automatic relationships: none.', '');
  else {
    out.push('Automatic relationships:', '');
    for (const a of t.autorelations) out.push(`- auto${a.relation} ${a.type}: ${a.doc}`);
    out.push('');
  }
  return out;
}

/** Our kinds that Puppet types translate to and that react to refreshes. */
function refreshableKinds(registry: Registry): string[] {
  const kinds = new Set<string>();
  for (const t of typeRules.values()) if (t.kind !== null && registry.get(t.kind)?.refreshable) kinds.add(t.kind);
  return [...kinds].sort();
}

/** `registry`: the kinds the translation targets. */
export function puppetMarkdown(registry: Registry): string {
  const out = [
    '# Puppet translator reference',
    '',
    '<!-- Generated by `node dist/src/puppet/docs.js` from the rule tables in src/puppet/types/. Do not edit. -->',
    '',
    '`mgmt puppet translate (--manifest FILE | --code TEXT | --catalog FILE)` turns Puppet code into a graph. Every',
    'resource is reported as **native**, **degraded** (translated; the dropped attributes are named) or **fallback**',
    '(applied by Puppet itself through the `puppet` kind, polled every runinterval, default',
    `${DEFAULT_RUNINTERVAL_S} s, with its edges kept). An attribute without a rule always sends its resource to the fallback.`,
    '',
    '## Relationships and containers',
    '',
    '- before/require/notify/subscribe (and `->`/`~>`) become edges between the resources they name; a class,',
    '  define instance or stage stands for every resource it contains, recursively (`contain` contains,',
    '  `include` does not). Classes, stages, define instances and anchors get no vertex.',
    `- notify/subscribe become \`notify: true\` edges when the target reacts to refreshes (${refreshableKinds(registry).join(', ')}, and the`,
    `  fallback for ${[...REFRESHABLE_PUPPET_TYPES].sort().join(', ')}); otherwise the edge only orders.`,
    '- An empty class or an anchor is bridged: its predecessors come before its successors.',
    "- Puppet's automatic relationships (autorequire, autobefore, autosubscribe, autonotify), as each type's Ruby",
    '  definition declares them (listed per type below), become explicit edges: autorequire/autobefore plain,',
    '  autosubscribe/autonotify with `notify`. They name resources by title or namevar (a file by its munged',
    '  path) and depend on nothing of the compiling host. As in Puppet, none is added where an explicit',
    '  relationship between the same two resources exists, in either direction (so `File[/d/f] before File[/d]`',
    '  is not a cycle). The graph says `autoedges: false`: the engine adds none of its own automatic edges, so',
    '  `mgmt run` of a translated graph orders it exactly as `mgmt puppet` does.',
    '',
    '## Sensitive values',
    '',
    `Sensitive values are applied but never printed: graph YAML shows \`${REDACTED}\` (such a YAML is not meant to be`,
    'applied as is), and the report lists only the names of sensitive attributes.',
    '',
    '## exec environment',
    '',
    "Puppet's exec inherits the agent's environment; ours starts empty. `path` becomes `env.PATH` (joined with `:`)",
    'and `environment` entries are added; nothing else is set: no HOME, no LANG. Without `path`, Puppet requires',
    'fully qualified commands anyway, and our exec looks programs up in `/usr/bin:/bin`. Give HOME or LANG in',
    "`environment` when a command needs them. `timeout` defaults to Puppet's 300 s (`meta.timeout: 300000`).",
    '',
    '## concat, file_line and ini_setting',
    '',
    '- **concat**: each `concat_file` becomes a `file` whose `content` is assembled at translation time from the',
    '  `concat_fragment` resources that target it, exactly as concat 7 sorts and joins them (the header of',
    '  `warn` is a fragment too; `format` json and its variants merge them as concat does). Fragments get no',
    '  vertex; a relationship to a fragment is a relationship to its file, so `Concat::Fragment[x] ~> Service[y]`',
    '  refreshes the service when the file changes (in Puppet a fragment never changes, so such a notify never',
    '  fires). Where that contradicts the file’s own relationships and would make a cycle (a module ordering a',
    '  fragment and its file on opposite sides of a service), fragments are bridged as Puppet sees them: they do',
    '  nothing, and only the file’s own relationships order it. A file that cannot be assembled here (a fragment',
    '  with `source`, which must be read on the host that applies it; `format` yaml; orders Puppet cannot',
    '  sort; Deferred content) goes to the fallback **with its fragments as `companions`**: the worker applies',
    '  them in one catalog, so Puppet assembles the file (alone, a fallback concat_file would write nothing).',
    '  A Sensitive fragment makes the whole content sensitive.',
    '- **file_line** becomes `line`: its Ruby `match`/`after` regexes are converted to JavaScript (ASCII `\\s`,',
    '  `\\A`/`\\Z`, `\\h`, `{,n}`, ASCII POSIX classes); inline options, possessive quantifiers, Unicode POSIX',
    '  classes and other syntax go to the fallback. Known difference: Ruby tests a line with its newline, so a',
    '  pattern that only matches by consuming it (`\\s$` on `x\\n`) matches in Puppet only. A missing file fails',
    '  for `ensure => present` as in Puppet; for `ensure => absent` it is in sync (Puppet fails).',
    '- **ini_setting** becomes `ini`, with inifile 5 rules (the section named last when a header repeats is',
    '  edited; inifile would write that copy twice and lose the first). Both kinds are checked against the real',
    '  types on over 400 cases (test/integration/puppet-edit-differential.test.ts).',
    '',
    '## cron',
    '',
    "Puppet's `cron` becomes `crontab:entry`, an entry of the user's crontab run by cron(8), as Puppet writes it:",
    '`# Puppet Name: <name>`, the environment lines, then the schedule and the command. It is **not** mgmt’s `cron`',
    'kind, which is a systemd timer. Entries a Puppet agent wrote are found by that comment and taken over. As in',
    'Puppet, an attribute left out is not managed: an existing entry keeps that time field, its environment lines,',
    'or its schedule when neither a time field nor `special` is given (a new entry gets `*` and no environment);',
    '`absent` resets a time field to `*`. `special => absent` alone (turn an @special entry back into a numeric one)',
    'stays with Puppet. Known differences:',
    '',
    '- We write no `# HEADER:` lines (Puppet puts four, with a time stamp, at the top of every crontab it writes) and',
    '  keep every line that is not the entry as it is; Puppet rewrites the whole crontab in its own layout.',
    '- An unnamed entry with the same schedule and command is taken as the entry, as Puppet does; when it must',
    '  change (its environment), we write it with its name comment, where Puppet writes the environment lines',
    '  without one (and again on every run).',
    '- `TZ=` in `environment` stays with its entry; Puppet moves the first `TZ=` line of the crontab to its top when',
    '  it writes, and so finds the entry changed and writes the line again on its next run.',
    '- `environment => absent` writes no line; Puppet writes a literal `absent` line, which crontab(1) refuses.',
    '',
    '## Types',
    '',
  ];
  for (const t of [...typeRules.values()].sort((a, b) => (a.type < b.type ? -1 : 1))) {
    out.push(`### ${t.type} → ${t.kind === null ? 'no vertex' : `\`${t.kind}\``}`, '', t.doc, '', ...typeSection(t));
  }
  out.push(
    '### Metaparameters (every type)',
    '',
    attributeTable(metaparamRules),
    '',
    '### Every other type',
    '',
    'A type without a table above goes to the fallback: vertex `puppet[<Type>[<title>]]`, applied by Puppet, with',
    'the reason "no native translation yet".',
    '',
  );
  return out.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(new URL('../../../docs/puppet.md', import.meta.url), puppetMarkdown(withPuppetKind(coreRegistry)));
  process.stdout.write('wrote docs/puppet.md\n');
}
