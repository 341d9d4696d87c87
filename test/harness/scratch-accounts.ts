/**
 * A scratch root for the shadow tools: a temporary directory with its own etc/passwd, group, shadow and gshadow
 * (holding only root), which the real tools edit through `--root`. Tests of the user and group resources run
 * there, so they never touch the machine's accounts. The tools chroot into it, so this needs root.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TOOL_PATH } from '../../src/system/shadow.js';

export interface ScratchRoot {
  readonly dir: string;
  remove(): Promise<void>;
}

/** Why scratch-root tests cannot run here, or undefined when they can. */
export function whyNoScratchRoot(): string | undefined {
  if (process.getuid?.() !== 0) return 'the shadow tools chroot into the scratch root (--root), which needs root';
  if (!TOOL_PATH.split(':').some((d) => existsSync(join(d, 'useradd')))) return 'useradd is not installed (Debian package "passwd")';
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
