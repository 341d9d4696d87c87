/**
 * Puppet collector queries (`File <<| tag == 's' and owner != 'root' |>>`), evaluated against exported
 * resources. The face hands them over as Puppet builds them for a storeconfigs backend: infix arrays,
 *
 *   null                                  every resource of the type (`<<| |>>`)
 *   [attr, "==" | "!=", value]            attr is `tag`, `title`, or a parameter name
 *   [query, "and" | "or", query]          (nested arrays for parentheses)
 *
 * Matching follows Puppet's: `tag == x` holds when x is one of the resource's tags (case-insensitive); `title`
 * compares the title; a parameter compares its value, and an array value matches when any element does; `!=`
 * is the negation of `==` (so it holds for a parameter that is not set).
 */

/** What a query sees of an exported resource. */
export interface QueryTarget {
  readonly title: string;
  readonly tags: readonly string[];
  readonly params: Readonly<Record<string, unknown>>;
}

export type Query = null | readonly [string, '==' | '!=', unknown] | readonly [Query, 'and' | 'or', Query];

/** Checks the shape of a query; returns an error message, or undefined when it can be evaluated. */
export function checkQuery(q: unknown): string | undefined {
  if (q === null || q === undefined) return undefined;
  if (!Array.isArray(q) || q.length !== 3) return `expected [attribute, "==" or "!=", value] or [query, "and" or "or", query], got ${JSON.stringify(q)}`;
  const [a, op, b] = q as unknown[];
  if (op === 'and' || op === 'or') return checkQuery(a) ?? checkQuery(b);
  if (op === '==' || op === '!=') {
    if (typeof a !== 'string') return `the attribute of ${JSON.stringify(q)} must be a name`;
    if (typeof b === 'object' && b !== null) return `the value of ${JSON.stringify(q)} must be a string, number or boolean`;
    return undefined;
  }
  return `unknown operator ${JSON.stringify(op)} in ${JSON.stringify(q)} (Puppet collectors know ==, !=, and, or)`;
}

/** Evaluates a query that passed `checkQuery`. */
export function matchQuery(q: unknown, t: QueryTarget): boolean {
  if (q === null || q === undefined) return true;
  const [a, op, b] = q as [unknown, string, unknown];
  if (op === 'and') return matchQuery(a, t) && matchQuery(b, t);
  if (op === 'or') return matchQuery(a, t) || matchQuery(b, t);
  const eq = equals(a as string, b, t);
  return op === '==' ? eq : !eq;
}

// eslint-disable-next-line @typescript-eslint/no-base-to-string -- a value read from JSON, D-Bus or a manifest; String() keeps its text whatever its shape
const text = (v: unknown) => (typeof v === 'string' ? v : v === null || v === undefined ? '' : String(v));

function equals(attr: string, value: unknown, t: QueryTarget): boolean {
  const want = text(value);
  if (attr === 'tag') {
    const w = want.toLowerCase();
    return t.tags.some((x) => x.toLowerCase() === w);
  }
  if (attr === 'title') return t.title === want;
  if (!Object.hasOwn(t.params, attr)) return false;
  const v = t.params[attr];
  return Array.isArray(v) ? v.some((x) => text(x) === want) : text(v) === want;
}
