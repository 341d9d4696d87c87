/**
 * The trees of small managed files the one-shot and Puppet benchmarks apply: their names and content, the
 * Puppet manifest that manages them, the check that a run produced them, and where the judged runs write.
 */
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

export const fileContent = (i: number) => `file ${i}\n`;
export const fileName = (i: number) => `f${String(i).padStart(5, '0')}.txt`;
const sq = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** A Puppet manifest managing `dir` (0755) and n files in it (0644); `changed` replaces one file's content. */
export function puppetManifest(dir: string, n: number, changed?: { i: number; text: string }): string {
  const out = [`file { ${sq(dir)}: ensure => directory, mode => '0755' }`];
  for (let i = 1; i <= n; i++) {
    const text = changed?.i === i ? changed.text : fileContent(i);
    out.push(`file { ${sq(join(dir, fileName(i)))}: ensure => file, content => ${JSON.stringify(text)}, mode => '0644' }`);
  }
  return out.join('\n') + '\n';
}

/** Checks that `dir` holds exactly files 1..n with the right content; returns what is wrong, if anything. */
export async function verifyFiles(dir: string, n: number): Promise<string | undefined> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((x) => !x.startsWith('.'));
  } catch (e) {
    return (e as Error).message;
  }
  if (names.length !== n) return `${names.length} entries instead of ${n}`;
  for (let i = 1; i <= n; i++) {
    const p = join(dir, fileName(i));
    if ((await readFile(p, 'utf8')) !== fileContent(i)) return `${p}: wrong content`;
  }
  return undefined;
}

/**
 * Where the judged runs write: a tmpfs (/dev/shm) when there is one, so that the figures measure the engine and
 * Puppet rather than this VM's disk, whose file-creation cost was seen to vary 6x between runs (10,000 creates:
 * 0.5 s to 3.4 s, shared ext4 with discard).
 */
export function fastRoot(fallback: string): { dir: string; onTmpfs: boolean; cleanup: () => void } {
  try {
    accessSync('/dev/shm', constants.W_OK);
    const dir = mkdtempSync('/dev/shm/mgmt-bench-');
    return { dir, onTmpfs: true, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
  } catch {
    return { dir: fallback, onTmpfs: false, cleanup: () => {} };
  }
}
