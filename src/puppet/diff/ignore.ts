/**
 * octocatalog-diff's `--ignore` grammar (its doc/advanced-ignores.md), parsed once and matched against entries:
 *
 *   Type[title-glob]            every change to matching resources (`*` matches any characters, `/` and dots too;
 *                               the type is matched case-insensitively, `*[*]` is every resource)
 *   Type[title]+ / - / +-       only their addition / removal / both
 *   Type[title]::a::b           changes at that attribute path (and below it); without the leading `::` the path
 *                               may sit anywhere in the resource (`--ignore-attr`)
 *   Type[title]+::a / -::a      only when the attribute was added / removed
 *   ...::a=>V  =+>V  =->V       the value is V in either / the new / the old catalog
 *   ...::a=~>RE                 a changed line (`-old`, `+new`) matches the regular expression
 *   ...::a=&>RE                 every changed line (trimmed) matches it
 *   ...::a=s>=                  both values are lists with the same elements
 */
import { rubyRegexpToJs } from '../ruby-regexp.js';
import { changedLines } from './file-text.js';
import type { DiffEntry } from './entry.js';

export class IgnoreRuleError extends Error {}

type ValueTest =
  | { readonly op: 'eq'; readonly side: 'either' | 'new' | 'old'; readonly value: string }
  | { readonly op: 'any-line' | 'all-lines'; readonly re: RegExp }
  | { readonly op: 'set-equal' };

export interface IgnoreRule {
  /** The rule as given, for messages. */
  readonly text: string;
  readonly type: RegExp;
  readonly title: RegExp;
  /** Resource rules: which of additions / removals they cover (both false: every change). */
  readonly added: boolean;
  readonly removed: boolean;
  /** The attribute path, if any, and whether it starts at the top of the resource. */
  readonly path?: readonly string[];
  readonly anchored: boolean;
  readonly test?: ValueTest;
}

function glob(pattern: string, flags: string): RegExp {
  const body = pattern
    .split('*')
    .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${body}$`, flags);
}

function regexOf(src: string, rule: string): RegExp {
  const c = rubyRegexpToJs(src);
  if (!c.ok) throw new IgnoreRuleError(`--ignore ${JSON.stringify(rule)}: the regular expression ${JSON.stringify(src)} cannot be used: ${c.reason}`);
  try {
    return new RegExp(c.source);
  } catch (e) {
    throw new IgnoreRuleError(`--ignore ${JSON.stringify(rule)}: bad regular expression ${JSON.stringify(src)}: ${(e as Error).message}`);
  }
}

/** The attribute part (`::a::b=>v`, `a::b`): the path, whether anchored, and the value test. */
function attrPart(attr: string, rule: string): Pick<IgnoreRule, 'path' | 'anchored' | 'test'> {
  const m = /=(\+|-|~|&|s)?>/.exec(attr);
  const pathText = m ? attr.slice(0, m.index) : attr;
  const anchored = pathText.startsWith('::');
  const path = (anchored ? pathText.slice(2) : pathText).split('::');
  if (path.some((p) => p === '')) throw new IgnoreRuleError(`--ignore ${JSON.stringify(rule)}: empty part in the attribute path ${JSON.stringify(pathText)}`);
  if (!m) return { path, anchored };
  const value = attr.slice(m.index + m[0].length);
  let test: ValueTest;
  switch (m[1]) {
    case undefined:
      test = { op: 'eq', side: 'either', value };
      break;
    case '+':
      test = { op: 'eq', side: 'new', value };
      break;
    case '-':
      test = { op: 'eq', side: 'old', value };
      break;
    case '~':
      test = { op: 'any-line', re: regexOf(value, rule) };
      break;
    case '&':
      test = { op: 'all-lines', re: regexOf(value, rule) };
      break;
    default:
      if (value !== '=') throw new IgnoreRuleError(`--ignore ${JSON.stringify(rule)}: the set test is written =s>=`);
      test = { op: 'set-equal' };
  }
  return { path, anchored, test };
}

/** Parses one rule: `Type[title]`, with the optional suffixes and attribute part described above. */
export function parseIgnore(text: string): IgnoreRule {
  const m = /^([^[\]]+)\[(.*?)\](\+-|-\+|\+|-)?(?=$|::|[^[\]:+-])(.*)$/s.exec(text);
  if (!m) {
    throw new IgnoreRuleError(
      `--ignore ${JSON.stringify(text)}: expected Type[title] (with * as a wildcard), optionally followed by +, - or +- and ::attribute::path; e.g. File[/etc/*]::parameters::owner`,
    );
  }
  const [, type, title, suffix = '', attr = ''] = m;
  const base = { text, type: glob(type!, 'i'), title: glob(title!, ''), added: suffix.includes('+'), removed: suffix.includes('-') };
  return attr === '' ? { ...base, anchored: false } : { ...base, ...attrPart(attr, text) };
}

/** `--ignore-attr PATH`: the attribute anywhere (or from the top with a leading `::`) in any resource. */
export function parseIgnoreAttr(text: string): IgnoreRule {
  return { text, type: /^/, title: /^/, added: false, removed: false, ...attrPart(text, text) };
}

/** Splits a flag's value on commas outside brackets (`File[a],Exec[b]`). */
export function splitRules(value: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of value) {
    if (ch === '[') depth++;
    if (ch === ']') depth = Math.max(0, depth - 1);
    if (ch === ',' && depth === 0) {
      if (cur !== '') out.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (cur !== '') out.push(cur);
  return out;
}

/** A value as the `=>` test and the changed lines see it. */
function valueText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

function pathMatches(rule: IgnoreRule, structure: readonly string[]): boolean {
  const p = rule.path!;
  const starts = rule.anchored ? [0] : structure.map((_, i) => i);
  return starts.some((s) => p.length <= structure.length - s && p.every((k, i) => k.toLowerCase() === structure[s + i]!.toLowerCase()));
}

function lines(e: DiffEntry): string[] {
  if (typeof e.old_value === 'string' && typeof e.new_value === 'string') return changedLines(e.old_value, e.new_value);
  return [...(e.old_value !== null ? [`-${valueText(e.old_value)}`] : []), ...(e.new_value !== null ? [`+${valueText(e.new_value)}`] : [])];
}

function sameSet(a: unknown, b: unknown): boolean {
  if (!Array.isArray(a) || !Array.isArray(b)) return false;
  const sa = new Set(a.map((x) => JSON.stringify(x)));
  const sb = new Set(b.map((x) => JSON.stringify(x)));
  return sa.size === sb.size && [...sa].every((x) => sb.has(x));
}

function testPasses(t: ValueTest, e: DiffEntry): boolean {
  switch (t.op) {
    case 'eq':
      return (
        (t.side !== 'new' && e.old_value !== null && valueText(e.old_value) === t.value) ||
        (t.side !== 'old' && e.new_value !== null && valueText(e.new_value) === t.value)
      );
    case 'any-line':
      return lines(e).some((l) => t.re.test(l));
    case 'all-lines': {
      const ls = lines(e);
      return ls.length > 0 && ls.every((l) => t.re.test(l.trim()));
    }
    case 'set-equal':
      return sameSet(e.old_value, e.new_value);
  }
}

/** Does this rule hide the entry? */
export function ruleMatches(rule: IgnoreRule, e: DiffEntry): boolean {
  if (!rule.type.test(e.type) || !rule.title.test(e.title)) return false;
  if (rule.path === undefined) {
    if (!rule.added && !rule.removed) return true;
    return (rule.added && e.diff_type === '+') || (rule.removed && e.diff_type === '-');
  }
  if (e.structure.length === 0 || !pathMatches(rule, e.structure)) return false;
  if (rule.added || rule.removed) {
    const added = e.diff_type === '!' && e.old_value === null;
    const removed = e.diff_type === '!' && e.new_value === null;
    if (!((rule.added && added) || (rule.removed && removed))) return false;
  }
  return rule.test === undefined || testPasses(rule.test, e);
}
