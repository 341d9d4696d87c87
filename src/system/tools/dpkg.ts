/**
 * What dpkg says is installed: `dpkg-query -W` for a list of names in one call, version comparison with
 * `dpkg --compare-versions`, and the path of dpkg's status database (watched for changes made by hand, which
 * PackageKit does not announce). The pkg resource trusts this over PackageKit's own "installed" info, which on
 * Debian can be wrong (mgmt #988).
 */
import { existsSync } from 'node:fs';
import { describeOutcome, outputTail, run } from '../proc/launcher.js';

/** dpkg rewrites this file (write to status-new, then rename) after every change to the package database. */
export const DPKG_STATUS_FILE = '/var/lib/dpkg/status';

const DPKG_QUERY = '/usr/bin/dpkg-query';
const DPKG = '/usr/bin/dpkg';
const QUERY_TIMEOUT_MS = 30_000;

/** dpkg's `db:Status-Status` values that mean the package's files are in place and configured. */
const INSTALLED_STATUSES = new Set(['installed', 'triggers-awaiting', 'triggers-pending']);

export interface DpkgPackage {
  /** The name as asked for (`sl`, or `libc6:amd64`). */
  readonly name: string;
  readonly installed: boolean;
  /** The installed version when installed; otherwise the version dpkg remembers (config files), or ''. */
  readonly version: string;
  /** dpkg's status word: installed, config-files, not-installed, half-installed, unpacked... */
  readonly status: string;
  readonly arch: string;
}

export function hasDpkg(): boolean {
  return existsSync(DPKG_QUERY);
}

/** Splits `name:arch` (dpkg and PackageKit both accept the qualified form). */
export function splitArch(name: string): { base: string; arch: string | undefined } {
  const i = name.indexOf(':');
  return i < 0 ? { base: name, arch: undefined } : { base: name.slice(0, i), arch: name.slice(i + 1) };
}

function withDeadline(signal: AbortSignal | undefined, ms: number): AbortSignal {
  const t = AbortSignal.timeout(ms);
  return signal ? AbortSignal.any([signal, t]) : t;
}

/**
 * The dpkg state of each name, in one `dpkg-query` call. Unknown names come back as not installed with status
 * `not-installed`. Names are passed as arguments, never through a shell; callers validate them (no glob chars).
 */
export async function dpkgStatus(names: readonly string[], signal?: AbortSignal): Promise<Map<string, DpkgPackage>> {
  const out = new Map<string, DpkgPackage>();
  if (names.length === 0) return out;
  const lines: string[] = [];
  const r = await run(
    {
      command: { argv: [DPKG_QUERY, '-W', '--showformat=${Package}\\t${Architecture}\\t${db:Status-Status}\\t${Version}\\n', '--', ...new Set(names)] },
      signal: withDeadline(signal, QUERY_TIMEOUT_MS),
    },
    (stream, line) => {
      if (stream === 'stdout') lines.push(line);
    },
  );
  // Exit 1 with "no packages found matching X" on stderr is how dpkg-query reports names it never saw.
  if (r.aborted || (r.code !== 0 && r.code !== 1) || (r.code === 1 && !r.stderrTail.every((l) => l.includes('no packages found matching')))) {
    const tail = outputTail(r);
    throw new Error(`dpkg-query ${describeOutcome(r)}${tail ? `; ${tail}` : ''}`);
  }
  const rows = lines.map((l) => l.split('\t')).filter((f) => f.length >= 4);
  for (const name of names) {
    const { base, arch } = splitArch(name);
    const mine = rows.filter(([pkg, a]) => pkg === base && (arch === undefined || a === arch || a === 'all'));
    const inst = mine.find(([, , status]) => INSTALLED_STATUSES.has(status!));
    const any = inst ?? mine.find(([, , status]) => status !== 'not-installed') ?? mine[0];
    out.set(name, {
      name,
      installed: inst !== undefined,
      version: any?.[3] ?? '',
      status: any?.[2] ?? 'not-installed',
      arch: any?.[1] ?? '',
    });
  }
  return out;
}

/** dpkg's ordering of two version strings: negative, zero or positive like a comparator. */
export async function compareVersions(a: string, b: string, signal?: AbortSignal): Promise<number> {
  if (a === b) return 0;
  const r = await run({ command: { argv: [DPKG, '--compare-versions', a, 'lt', b] }, signal: withDeadline(signal, QUERY_TIMEOUT_MS) });
  if (r.aborted || (r.code !== 0 && r.code !== 1)) throw new Error(`dpkg --compare-versions ${describeOutcome(r)}`);
  if (r.code === 0) return -1;
  const eq = await run({ command: { argv: [DPKG, '--compare-versions', a, 'eq', b] }, signal: withDeadline(signal, QUERY_TIMEOUT_MS) });
  return eq.code === 0 ? 0 : 1;
}

let nativeArch: Promise<string | undefined> | undefined;

/** The native architecture (`amd64`), or undefined without dpkg. */
export function dpkgArchitecture(): Promise<string | undefined> {
  nativeArch ??= (async () => {
    if (!existsSync(DPKG)) return undefined;
    let arch: string | undefined;
    const r = await run({ command: { argv: [DPKG, '--print-architecture'] }, signal: AbortSignal.timeout(QUERY_TIMEOUT_MS) }, (s, l) => {
      if (s === 'stdout' && l.trim()) arch = l.trim();
    }).catch(() => undefined);
    return r?.code === 0 ? arch : undefined;
  })();
  return nativeArch;
}

/**
 * dpkg's order of a few versions, asked once (binary insertion: about log2(n) `dpkg --compare-versions` per
 * version), as a comparator over those versions. Versions dpkg finds equal compare as 0; comparing a version
 * that was not in the list is an error (unless both are the same string).
 */
export async function dpkgVersionOrder(versions: readonly string[], signal?: AbortSignal): Promise<(a: string, b: string) => number> {
  const ranks: string[][] = []; // groups of equal versions, lowest first
  for (const v of new Set(versions)) {
    let lo = 0;
    let hi = ranks.length;
    let equal = -1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const c = await compareVersions(v, ranks[mid]![0]!, signal);
      if (c === 0) {
        equal = mid;
        break;
      }
      if (c < 0) hi = mid;
      else lo = mid + 1;
    }
    if (equal >= 0) ranks[equal]!.push(v);
    else ranks.splice(lo, 0, [v]);
  }
  const rank = new Map<string, number>();
  ranks.forEach((group, i) => group.forEach((v) => rank.set(v, i)));
  return (a, b) => {
    if (a === b) return 0;
    const ra = rank.get(a);
    const rb = rank.get(b);
    if (ra === undefined || rb === undefined) throw new Error(`dpkg version order: ${ra === undefined ? a : b} was not among the versions ordered`);
    return ra - rb;
  };
}
