/**
 * The fstab format (fstab(5)): one file system per line, six fields separated by blanks (spaces or tabs):
 * device, mount point, type, options, dump frequency, fsck pass. `#` starts a comment line. The last four fields
 * may be missing (libmount then uses type `auto`, options `defaults`, 0 and 0). Blanks inside the device or the
 * mount point are written as octal escapes (`\040` for a space, `\011` for a tab).
 *
 * Pure functions only: parsing a line, formatting one, and planning the edit that makes a table hold the wanted
 * entry for one mount point. Lines are written the way Puppet's mount provider writes them (fields joined with
 * tabs), and every line the edit does not concern is kept byte for byte.
 */
import { findEntries, LineEdits } from './line-table.js';

export interface FstabEntry {
  /** Unescaped. */
  readonly device: string;
  /** Unescaped, without trailing slashes (as Puppet compares them). */
  readonly mountPoint: string;
  /** '' when the field is missing. */
  readonly type: string;
  /** '' when the field is missing. */
  readonly options: string;
  /** undefined when the field is missing; NaN when it is not a number. */
  readonly freq?: number | undefined;
  readonly passno?: number | undefined;
}

/** What a managed entry must hold. Unset fields keep what the line has (a new line gets libmount's defaults). */
export interface FstabWant {
  readonly device?: string | undefined;
  readonly type?: string | undefined;
  /** The options field as written (`noatime,errors=remount-ro`). */
  readonly options?: string | undefined;
  readonly freq: number;
  readonly passno: number;
}

export interface FstabPlan {
  /** The table after the edit (the input text when nothing changes). */
  readonly text: string;
  /** One line per change, for the log; empty when the table is already right. */
  readonly changes: readonly string[];
}

/** Decodes octal escapes (`\040`) as libmount does. */
export function unescapeField(s: string): string {
  return s.includes('\\') ? s.replace(/\\([0-3][0-7]{2})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))) : s;
}

/** Escapes what would break the field: backslash, space, tab, newline. */
export function escapeField(s: string): string {
  return s.replace(/[\\ \t\n]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
}

/** A mount point as Puppet compares it: trailing slashes removed, except for `/` itself. */
export function normalizeMountPoint(p: string): string {
  return p.length > 1 ? p.replace(/(.)\/+$/, '$1') : p;
}

function number(field: string | undefined): number | undefined {
  if (field === undefined) return undefined;
  return /^[0-9]+$/.test(field) ? Number(field) : NaN;
}

/** The entry on a line, or undefined for a comment, a blank line, or a line with fewer than two fields. */
export function parseFstabLine(line: string): FstabEntry | undefined {
  const t = line.trim();
  if (t === '' || t.startsWith('#')) return undefined;
  const f = t.split(/[ \t]+/);
  if (f.length < 2) return undefined;
  return {
    device: unescapeField(f[0]!),
    mountPoint: normalizeMountPoint(unescapeField(f[1]!)),
    type: f[2] ?? '',
    options: f[3] ?? '',
    freq: number(f[4]),
    passno: number(f[5]),
  };
}

/** One fstab line, fields joined with tabs as Puppet writes them; a missing type is `auto`, missing options `defaults`. */
export function formatFstabLine(e: { device: string; mountPoint: string; type: string; options: string; freq: number; passno: number }): string {
  return [escapeField(e.device), escapeField(e.mountPoint), e.type || 'auto', e.options || 'defaults', String(e.freq), String(e.passno)].join('\t');
}

/**
 * Plans the edit that makes the table hold exactly one entry for `mountPoint` matching `want` (null: no entry).
 * When several lines name the mount point, the last one (the one Puppet edits) is kept and the others are removed.
 * A line whose fields already match is left as it is, whatever its spacing. Throws when an entry must be created
 * but `want` lacks the device or the type.
 */
export function planFstab(text: string, mountPoint: string, want: FstabWant | null, fstab = 'the fstab'): FstabPlan {
  const edits = new LineEdits(text);
  const { lines: l, changes, remove, replace, append } = edits;
  const mp = normalizeMountPoint(mountPoint);
  const matches = findEntries(l, parseFstabLine, (e) => e.mountPoint === mp);

  if (want === null) {
    for (const m of matches) {
      remove.add(m.index);
      changes.push(`remove the entry for ${mp} from ${fstab} (line ${m.index + 1})`);
    }
  } else if (matches.length === 0) {
    if (want.device === undefined || want.type === undefined) {
      const missing = [want.device === undefined ? '`device`' : '', want.type === undefined ? '`type`' : ''].filter((x) => x).join(' and ');
      throw new Error(`${fstab} has no entry for ${mp}, and ${missing} must be set to create one`);
    }
    const line = formatFstabLine({ device: want.device, mountPoint: mp, type: want.type, options: want.options ?? '', freq: want.freq, passno: want.passno });
    append.push(line);
    changes.push(`add "${line.replace(/\t/g, ' ')}" to ${fstab}`);
  } else {
    const keep = matches[matches.length - 1]!;
    for (const m of matches.slice(0, -1)) {
      remove.add(m.index);
      changes.push(`remove the duplicate entry for ${mp} from ${fstab} (line ${m.index + 1}; line ${keep.index + 1} is kept)`);
    }
    const cur = keep.entry;
    const diffs: string[] = [];
    const field = (name: string, have: string | number | undefined, wanted: string | number) => {
      if (have !== wanted) diffs.push(`${name} ${JSON.stringify(have ?? '')} → ${JSON.stringify(wanted)}`);
    };
    if (want.device !== undefined) field('device', cur.device, want.device);
    if (want.type !== undefined) field('type', cur.type, want.type);
    if (want.options !== undefined) field('options', cur.options, want.options);
    field('freq', cur.freq ?? 0, want.freq);
    field('passno', cur.passno ?? 0, want.passno);
    if (diffs.length > 0) {
      replace.set(
        keep.index,
        formatFstabLine({
          device: want.device ?? cur.device,
          mountPoint: mp,
          type: want.type ?? cur.type,
          options: want.options ?? cur.options,
          freq: want.freq,
          passno: want.passno,
        }),
      );
      changes.push(`update the entry for ${mp} in ${fstab} (line ${keep.index + 1}): ${diffs.join(', ')}`);
    }
  }
  return edits.result();
}

/** The options field for an options map (`{noatime: '', errors: 'panic'}` → `noatime,errors=panic`), in map order. */
export function formatOptions(options: Readonly<Record<string, string>>): string {
  return Object.entries(options)
    .map(([k, v]) => (v === '' ? k : `${k}=${v}`))
    .join(',');
}

/**
 * The options map of an options field, or a message saying why it cannot be one (an option repeated: a map holds
 * each key once; an empty option).
 */
export function parseOptions(field: string): Record<string, string> | string {
  const out: Record<string, string> = {};
  for (const opt of splitOptions(field)) {
    if (opt === '') return `empty option in "${field}"`;
    const eq = opt.indexOf('=');
    const [k, v] = eq < 0 ? [opt, ''] : [opt.slice(0, eq), opt.slice(eq + 1)];
    if (k === '') return `option "${opt}" has no name`;
    if (Object.hasOwn(out, k)) return `option "${k}" is given twice`;
    out[k] = v;
  }
  return out;
}

/** Splits on commas outside double quotes (`context="a,b"` is one option). */
function splitOptions(field: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (const c of field) {
    if (c === '"') quoted = !quoted;
    if (c === ',' && !quoted) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}
