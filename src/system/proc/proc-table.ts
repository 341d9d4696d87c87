/**
 * Facts about processes from the kernel's process table (/proc), and signalling them. A zombie does not count
 * as running: `process.kill(pid, 0)` alone succeeds for zombies, which linger until their parent (pid 1 for
 * orphans) reaps them.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';

export interface ProcInfo {
  /** The state letter (`R`, `S`, `Z`...). */
  readonly state: string;
  readonly ppid: number;
  readonly pgrp: number;
}

/** State, parent and process group of a process, from /proc/<pid>/stat; undefined when unreadable. */
export function procInfo(pid: number): ProcInfo | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // "pid (comm) S ppid pgrp ..."; comm may contain spaces and parentheses, so split after the last ')'.
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const pgrp = Number(f[2]);
  return f[0] === undefined || Number.isNaN(pgrp) ? undefined : { state: f[0], ppid: Number(f[1]), pgrp };
}

/** Every process in /proc (empty without /proc). */
export function allProcs(): Map<number, ProcInfo> {
  const out = new Map<number, ProcInfo>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    const info = procInfo(Number(e));
    if (info) out.set(Number(e), info);
  }
  return out;
}

/** Every process below `pid` (empty without /proc). */
export function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const [p, info] of allProcs()) {
    const list = children.get(info.ppid) ?? [];
    list.push(p);
    children.set(info.ppid, list);
  }
  const out: number[] = [];
  const todo = [pid];
  while (todo.length > 0) {
    for (const c of children.get(todo.pop()!) ?? []) {
      out.push(c);
      todo.push(c);
    }
  }
  return out;
}

const dead = (s: string) => s === 'Z' || s === 'X';

/** Whether a process exists and is not a zombie. */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const info = procInfo(pid);
  if (info === undefined) return !existsSync('/proc/self'); // gone meanwhile; or no /proc, so trust kill()
  return !dead(info.state);
}

/** Whether some member of the process group is running. */
export function groupRunning(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch {
    return false;
  }
  if (!existsSync('/proc/self')) return true; // no /proc: trust kill()
  for (const info of allProcs().values()) if (info.pgrp === pgid && !dead(info.state)) return true;
  return false;
}

/** Sends a signal to a process; one that is already gone is fine. */
export function signalPid(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // ESRCH: already gone
  }
}

/** Sends a signal to a whole process group; a group that is already gone is fine. */
export function signalGroup(pgid: number, sig: NodeJS.Signals): void {
  signalPid(-pgid, sig);
}

/** Polls until no member of the group runs; false if some still does after `ms`. */
export async function groupGoneWithin(pgid: number, ms: number, pollMs = 10): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (!groupRunning(pgid)) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** Whether `p` settles within `ms`. */
export function within(p: Promise<void>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    void p.then(() => {
      clearTimeout(t);
      resolve(true);
    });
  });
}
