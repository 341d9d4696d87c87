/**
 * Extracting an archive with the system's tar or unzip, chosen by the file name as voxpupuli-archive does
 * (`.tar`, `.tar.gz`/`.tgz`, `.tar.bz2`/`.tbz`, `.tar.xz`/`.txz`, `.zip`/`.war`/`.jar`), run in the extraction
 * directory through the process launcher, optionally as another user and group. GNU tar and unzip refuse
 * members that climb out of the directory (`../`) and strip leading `/`; as under Puppet, tar run as root keeps
 * the owners recorded in the archive.
 */
import { describeOutcome, outputTail, run, SpawnError } from '../proc/launcher.js';
import { errorText } from '../../observe/errors.js';
import { SYSTEM_TOOL_PATH } from './tool-path.js';
import { EXTRACTABLE, extractionCommand } from './extraction-command.js';

/** The Debian package of each extraction tool, for the "not installed" message. */
const PACKAGES: Readonly<Record<string, string>> = { tar: 'tar', unzip: 'unzip' };

export interface ExtractOptions {
  /** The archive's path (absolute). */
  readonly archive: string;
  /** The directory to extract into (absolute; it must exist). */
  readonly into: string;
  readonly uid?: number | undefined;
  readonly gid?: number | undefined;
  readonly signal?: AbortSignal;
}

/** Extracts the archive, or throws an error that names the command, its outcome and its last output lines. */
export async function extractArchive(opts: ExtractOptions): Promise<void> {
  const cmd = extractionCommand(opts.archive);
  if (cmd === undefined) throw new Error(`cannot extract ${opts.archive}: not an archive name we know (${EXTRACTABLE})`);
  const tool = cmd[0]!;
  const argv = [...cmd, opts.archive];
  const shown = `${argv.join(' ')} (in ${opts.into})`;
  let r;
  try {
    r = await run({
      command: { argv },
      cwd: opts.into,
      env: { PATH: SYSTEM_TOOL_PATH, LC_ALL: 'C' },
      uid: opts.uid,
      gid: opts.gid,
      ...(opts.signal ? { signal: opts.signal } : {}),
      lineMax: 2000,
    });
  } catch (e) {
    if (e instanceof SpawnError && e.code === 'ENOENT') {
      throw new Error(
        `cannot extract ${opts.archive}: ${tool} is not installed (or ${opts.into} does not exist); install the Debian package "${PACKAGES[tool] ?? tool}"`,
      );
    }
    throw new Error(`${shown}: ${errorText(e)}`, { cause: e });
  }
  if (r.code === 0 && !r.aborted) return;
  const tail = outputTail(r);
  throw new Error(`${shown} ${describeOutcome(r)}${tail ? `; ${tail}` : ''}: the archive may be corrupt or not of the type its name says`);
}
