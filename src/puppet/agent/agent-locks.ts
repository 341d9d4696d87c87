/**
 * Puppet's agent locks, in Puppet's files so that `puppet agent` and `mgmt puppet agent` respect each other:
 * the run lock (`agent_catalog_run_lockfile`, holding the running agent's PID: a second run refuses while that
 * process lives; a lock left by a dead process is taken over) and the disable lock (`agent_disabled_lockfile`,
 * JSON `{"disabled_message": "..."}`, written by `--disable "reason"` and removed by `--enable`).
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { errnoCode } from '../../observe/errors.js';

export class AgentLockError extends Error {}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return errnoCode(e) === 'EPERM';
  }
}

/** Takes the run lock, or throws saying who holds it. Returns the release function. */
export function takeRunLock(path: string): () => void {
  mkdirSync(dirname(path), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, String(process.pid), { flag: 'wx', mode: 0o644 });
      return () => {
        try {
          if (readFileSync(path, 'utf8').trim() === String(process.pid)) rmSync(path, { force: true });
        } catch {
          /* already gone */
        }
      };
    } catch (e) {
      if (errnoCode(e) !== 'EEXIST') throw e;
      const holder = Number(readFileSync(path, 'utf8').trim());
      if (Number.isInteger(holder) && holder > 0 && pidAlive(holder)) {
        throw new AgentLockError(`Run of Puppet configuration client already in progress (process ${holder}); skipping (${path} exists)`);
      }
      rmSync(path, { force: true }); // left by a process that is gone
    }
  }
  throw new AgentLockError(`could not take the run lock ${path}`);
}

/** The reason the agent is disabled, or undefined when it is enabled. */
export function disabledReason(path: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return undefined;
    throw e;
  }
  try {
    const j = JSON.parse(text) as { disabled_message?: unknown };
    return typeof j.disabled_message === 'string' ? j.disabled_message : 'reason not specified';
  } catch {
    return 'reason not specified';
  }
}

export function disableAgent(path: string, reason: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify({ disabled_message: reason }), { mode: 0o644 });
}

export function enableAgent(path: string): void {
  rmSync(path, { force: true });
}
