/**
 * Which tool extracts an archive, chosen by its file name as voxpupuli-archive does: the pure rule that validation
 * and the translator use (extract.ts runs the tool).
 */

/** The extraction command for an archive's file name (without the file), or undefined for a name we do not know. */
export function extractionCommand(fileName: string): readonly string[] | undefined {
  if (fileName.endsWith('.tar')) return ['tar', '-x', '-f'];
  if (/(\.tgz|\.tar\.gz)$/.test(fileName)) return ['tar', '-x', '-z', '-f'];
  if (/(\.tbz|\.tar\.bz2)$/.test(fileName)) return ['tar', '-x', '-j', '-f'];
  if (/(\.txz|\.tar\.xz)$/.test(fileName)) return ['tar', '-x', '-J', '-f'];
  if (/(\.zip|\.war|\.jar)$/.test(fileName)) return ['unzip', '-o', '-q'];
  return undefined;
}

/** The archive file names we extract, for messages and docs. */
export const EXTRACTABLE = '.tar, .tar.gz, .tgz, .tar.bz2, .tbz, .tar.xz, .txz, .zip, .war, .jar';
