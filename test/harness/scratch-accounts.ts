/**
 * A scratch root for the shadow tools: a temporary directory with its own etc/passwd, group, shadow and gshadow
 * (holding only root), which the real tools edit through `--root`. Tests of the user and group resources run
 * there, so they never touch the machine's accounts. The tools chroot into it, so this needs root.
 * Also: real throwaway accounts (`realUser`) for tools that cannot use a scratch root.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SYSTEM_TOOL_PATH } from '../../src/system/tools/tool-path.js';

export interface ScratchRoot {
  readonly dir: string;
  remove(): Promise<void>;
}

/** Why scratch-root tests cannot run here, or undefined when they can. */
export function whyNoScratchRoot(): string | undefined {
  if (process.getuid?.() !== 0) return 'the shadow tools chroot into the scratch root (--root), which needs root';
  if (!SYSTEM_TOOL_PATH.split(':').some((d) => existsSync(join(d, 'useradd')))) return 'useradd is not installed (Debian package "passwd")';
  return undefined;
}

export async function scratchRoot(): Promise<ScratchRoot> {
  const dir = await mkdtemp(join(tmpdir(), 'mgmt-accounts-'));
  await mkdir(join(dir, 'etc/skel'), { recursive: true });
  await mkdir(join(dir, 'home'));
  await writeFile(join(dir, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/bash\n');
  await writeFile(join(dir, 'etc/group'), 'root:x:0:\nusers:x:100:\n');
  await writeFile(join(dir, 'etc/shadow'), 'root:*:19000:0:99999:7:::\n', { mode: 0o640 });
  await writeFile(join(dir, 'etc/gshadow'), 'root:*::\nusers:*::\n', { mode: 0o640 });
  await writeFile(join(dir, 'etc/skel/.profile'), '# skel\n');
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * Real accounts on this machine, for tools that look users up through NSS and cannot be pointed at a scratch root
 * (crontab -u). Named `<prefix><6 random hex digits>`, created with `useradd` (no home, no login shell), removed by
 * `remove()` together with their crontab. Needs root.
 */
export interface RealUser {
  readonly name: string;
  remove(): void;
}

export function whyNoRealUsers(): string | undefined {
  if (process.getuid?.() !== 0) return 'creating real users with useradd needs root';
  if (!SYSTEM_TOOL_PATH.split(':').some((d) => existsSync(join(d, 'useradd')))) return 'useradd is not installed (Debian package "passwd")';
  return undefined;
}

export function realUser(prefix: string): RealUser {
  const name = `${prefix}${randomBytes(3).toString('hex')}`;
  const tool = (...argv: string[]) => spawnSync(argv[0]!, argv.slice(1), { env: { PATH: SYSTEM_TOOL_PATH, LC_ALL: 'C' }, encoding: 'utf8', timeout: 30_000 });
  const made = tool('useradd', '--no-create-home', '--shell', '/usr/sbin/nologin', name);
  if (made.status !== 0) throw new Error(`useradd ${name} failed: ${made.stderr}`);
  return {
    name,
    remove() {
      tool('crontab', '-r', '-u', name); // "no crontab" is fine
      tool('userdel', name);
      rmSync(join('/var/spool/cron/crontabs', name), { force: true });
    },
  };
}
