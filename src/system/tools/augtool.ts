/**
 * Running augtool (Debian package `augeas-tools`) with a script on its stdin: the files to load (one lens and its
 * `incl` files, or Augeas's own autoload of every lens when none is given), the commands, then a marker after
 * which the output is ours to read (the answers of `get`, `match` and `print`). augtool exits with 1 when a command
 * failed (an invalid path, a save that failed); put errors are read from `/augeas//error[. = "put_failed"]`.
 */
import { describeOutcome, outputTail, SpawnError, startLines, type ProcessResult } from '../proc/launcher.js';
import { errorText } from '../../observe/errors.js';
import { quoted } from '../formats/augeas-commands.js';
import { SYSTEM_TOOL_PATH } from './tool-path.js';

/** The deadline of one augtool run (loading every lens of a big /etc takes about a second). */
export const AUGTOOL_TIMEOUT_MS = 60_000;

/** What augtool loads, and where. */
export interface AugeasSetup {
  /** The file system root Augeas works under (`--root`); `/` for the real system. */
  readonly root: string;
  /** Load only these files (a glob) with `lens`, instead of every lens's default files. */
  readonly incl?: string | undefined;
  readonly lens?: string | undefined;
  /** Extra lens directories (`--include`). */
  readonly loadPath?: readonly string[] | undefined;
  /**
   * Without `incl`: the context, when it is a plain `/files/...` path, so that only the lenses whose files could
   * lie under it are loaded (as Puppet's provider narrows the autoload), instead of every lens.
   */
  readonly context?: string | undefined;
}

const MARKER = '/augeas/mgmt-marker';

export interface AugtoolAnswer {
  /** The exit code (0: every command succeeded). */
  readonly code: number | null;
  /** The output lines after the marker (the answers of the commands in `after`). */
  readonly lines: readonly string[];
  /** The last lines of stderr (`error: ...`). */
  readonly stderr: readonly string[];
}

/** Runs `before` (the changes), then the marker, then `after` (the queries), in one augtool session. */
export async function runAugtool(setup: AugeasSetup, before: readonly string[], after: readonly string[], signal?: AbortSignal): Promise<AugtoolAnswer> {
  const argv = ['augtool', '--root', setup.root, ...(setup.loadPath ?? []).flatMap((d) => ['--include', d])];
  const load: string[] = [];
  if (setup.lens !== undefined && setup.incl !== undefined) {
    argv.push('--noautoload');
    load.push(`set /augeas/load/Mgmt/lens ${quoted(setup.lens)}`, `set /augeas/load/Mgmt/incl ${quoted(setup.incl)}`, 'load');
  } else if (setup.context !== undefined && /^\/files\/[^'"[\]\s]+$/.test(setup.context)) {
    const dir = `${setup.context.replace(/^\/files/, '').replace(/\/+$/, '')}/`;
    argv.push('--noload');
    load.push(`rm /augeas/load/*['${dir}' !~ glob(incl) + regexp('/.*')]`, 'load');
  }
  const script = [...load, ...before, `set ${MARKER} begin`, `get ${MARKER}`, ...after].join('\n') + '\n';
  const deadline = AbortSignal.timeout(AUGTOOL_TIMEOUT_MS);
  const sig = signal ? AbortSignal.any([signal, deadline]) : deadline;
  let r: ProcessResult;
  try {
    const p = await startLines(
      { command: { argv }, env: { PATH: SYSTEM_TOOL_PATH, LC_ALL: 'C' }, signal: sig, stdin: 'pipe', captureStdout: true },
      () => undefined,
      () => undefined,
    );
    p.stdin?.end(script);
    r = await p.exited;
  } catch (e) {
    if (e instanceof SpawnError && e.code === 'ENOENT')
      throw new Error(`augtool is not installed (searched ${SYSTEM_TOOL_PATH}); install the Debian package "augeas-tools"`);
    throw new Error(`augtool: ${errorText(e)}`, { cause: e });
  }
  if (r.aborted)
    throw new Error(`augtool ${r.timedOut && !signal?.aborted ? `took longer than ${AUGTOOL_TIMEOUT_MS / 1000} s and was killed` : describeOutcome(r)}`);
  const out = (r.stdout ?? Buffer.alloc(0)).toString('utf8').split('\n');
  const at = out.indexOf(`${MARKER} = begin`);
  if (at < 0) {
    const tail = outputTail(r);
    throw new Error(`augtool ${describeOutcome(r)} before it ran every command${tail ? `; ${tail}` : ''}`);
  }
  return { code: r.code, lines: out.slice(at + 1).filter((l) => l !== ''), stderr: r.stderrTail };
}

/** The value `get` printed (`PATH = VALUE`), or undefined for `PATH (none)` / `PATH (o)`. */
export function getAnswer(line: string | undefined): string | undefined {
  if (line === undefined) return undefined;
  const i = line.indexOf(' = ');
  return i < 0 ? undefined : line.slice(i + 3);
}

/** The paths `match` printed (`PATH = VALUE` lines, or `  (no matches)`). */
export function matchAnswer(lines: readonly string[]): string[] {
  return lines.filter((l) => !/^\s*\(no matches\)$/.test(l)).map((l) => (l.includes(' = ') ? l.slice(0, l.indexOf(' = ')) : l.replace(/ \((none|o)\)$/, '')));
}
