/**
 * One item inside the value of an INI setting (`JAVA_ARGS="-Xmx512m -Xms256m"`), with the rules of
 * puppetlabs-inifile's `ini_subsetting` (its ruby provider and `Puppet::Util::SettingValue`, inifile 6), as a pure
 * function from the setting's current value to the wanted one. The `ini:subsetting` resource
 * (src/resources/ini-subsetting.ts) reads and writes the setting itself with ini-text.ts.
 *
 * Reading a value: a value that starts and ends with `"` (or `'`) is quoted and keeps its quote; the rest is cut
 * into items, each a run of characters none of which is in `separator`, stripped (Ruby's strip). A missing setting
 * has no items, and takes `quotechar`.
 * Finding an item: the first one that starts with `subsetting` + `kvseparator` (with `exactmatch`: that equals
 * `subsetting`). Its value is what follows that prefix.
 * Writing: a new item `subsetting` + `kvseparator` + `value` goes where `insert` says (start, end, before or after
 * the item `insertvalue` names, else at the end; index: at that position, capped at the end); an existing item is
 * replaced, every matching one. Removing deletes every matching item. The value is the items joined with
 * `separator`, quoted. When removing leaves the value empty (no quote), the setting itself is removed: inifile's
 * `delete_if_empty` is a Ruby symbol, true for both of its values, so this is what inifile always does.
 */

export interface SubsettingWant {
  readonly subsetting: string;
  /** The item's value; unset: any value (a new item is `subsetting` + `kvseparator`). */
  readonly value?: string | undefined;
  readonly state: 'exists' | 'absent';
  /** Between items; every character of it separates. */
  readonly separator: string;
  /** Between the item's name and its value. */
  readonly kvseparator: string;
  /** '', '"' or "'": quotes a value that has no quote yet. */
  readonly quotechar: string;
  readonly exactmatch: boolean;
  readonly insert: 'start' | 'end' | 'before' | 'after' | 'index';
  /** The item `before`/`after` look for, or the index (digits). */
  readonly insertvalue?: string | undefined;
}

export type SubsettingEdit =
  | { readonly inSync: true }
  /** `value` undefined: remove the setting. `what` names the change without values. */
  | { readonly inSync: false; readonly value: string | undefined; readonly what: string };

/** Ruby's String#strip. */
const strip = (s: string): string => s.replace(/^[\0\t-\r ]+|[\0\t-\r ]+$/g, '');

/** Problems with a want that inifile would treat differently (checked when the graph is validated). */
export function subsettingProblems(w: SubsettingWant): string[] {
  const out: string[] = [];
  // inifile builds a regex class from the separator, escaping its first character: a letter or digit would turn
  // into a class escape (\n, \s, \d...) there, and an empty separator makes an invalid regex.
  if (w.separator === '') out.push('`subsettingseparator` is empty (inifile fails on it)');
  else if (/^[A-Za-z0-9]/.test(w.separator)) out.push('`subsettingseparator` starts with a letter or digit, which inifile reads as a regex escape');
  if (w.separator.includes('\n')) out.push('`subsettingseparator` cannot contain a newline');
  if (w.separator.includes('.')) out.push('`subsettingseparator` contains a dot, at which inifile does not split');
  if (!/^["']?$/.test(w.quotechar)) out.push(`\`quotechar\` must be '', '"' or "'"`);
  if (w.insert === 'index' && !/^[0-9]+$/.test(w.insertvalue ?? '')) out.push('`insert: index` needs `insertvalue`, a non-negative integer');
  if ((w.insert === 'before' || w.insert === 'after') && w.insertvalue === undefined)
    out.push(`\`insert: ${w.insert}\` needs \`insertvalue\`, the item to look for`);
  return out;
}

interface Items {
  readonly items: string[];
  readonly quote: string;
}

function read(value: string | undefined, w: SubsettingWant): Items {
  if (value === undefined) return { items: [], quote: w.quotechar };
  let quote = '';
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) quote = '"';
  else if (value.length >= 2 && value.startsWith("'") && value.endsWith("'")) quote = "'";
  const body = quote ? value.slice(1, -1) : value;
  const seps = new Set(w.separator);
  const items: string[] = [];
  let cur = '';
  for (const ch of body) {
    if (seps.has(ch)) {
      if (cur !== '') items.push(strip(cur));
      cur = '';
    } else cur += ch;
  }
  if (cur !== '') items.push(strip(cur));
  return { items, quote: quote || w.quotechar };
}

const matches = (item: string, w: SubsettingWant, name: string): boolean => (w.exactmatch ? item === name : item.startsWith(name + w.kvseparator));

/** Ruby's String#to_i for digits. */
const toI = (s: string | undefined): number => {
  const m = /^[\t-\r ]*([0-9]+)/.exec(s ?? '');
  return m ? Number(m[1]) : 0;
};

/** The new value of the setting (`current`: its value now, undefined when the setting is missing). */
export function editSubsetting(current: string | undefined, w: SubsettingWant): SubsettingEdit {
  const { items, quote } = read(current, w);
  const at = items.findIndex((i) => matches(i, w, w.subsetting));
  const join = () => quote + items.join(w.separator) + quote;
  if (w.state === 'absent') {
    if (at < 0) return { inSync: true };
    const kept = items.filter((i) => !matches(i, w, w.subsetting));
    items.splice(0, items.length, ...kept);
    const value = join();
    return { inSync: false, value: value === '' ? undefined : value, what: `${w.subsetting} removed${value === '' ? ' (the setting, now empty, too)' : ''}` };
  }
  const item = w.subsetting + w.kvseparator + (w.value ?? '');
  if (at >= 0) {
    // inifile reads the current value with a prefix match even with exactmatch: the first item that starts with
    // the name and kvseparator, what follows them (none: no value).
    const prefix = w.subsetting + w.kvseparator;
    const found = items.find((i) => i.startsWith(prefix));
    const now = found === undefined ? undefined : found.slice(prefix.length);
    if (w.value === undefined || now === w.value) return { inSync: true };
    for (let i = 0; i < items.length; i++) if (matches(items[i]!, w, w.subsetting)) items[i] = item;
    return { inSync: false, value: join(), what: `value of ${w.subsetting} changed` };
  }
  switch (w.insert) {
    case 'start':
      items.unshift(item);
      break;
    case 'before':
    case 'after': {
      const i = items.findIndex((x) => matches(x, w, w.insertvalue ?? ''));
      if (i < 0) items.push(item);
      else items.splice(w.insert === 'before' ? i : i + 1, 0, item);
      break;
    }
    case 'index':
      items.splice(Math.min(toI(w.insertvalue), items.length), 0, item);
      break;
    default:
      items.push(item);
  }
  return { inSync: false, value: join(), what: `${w.subsetting} added` };
}
