/**
 * A hermetic Puppet for tests of the Puppet worker client and the `puppet` kind: checks that the real Puppet is
 * installed (failing loudly otherwise), configures the shared worker with a temporary state directory and a
 * recording logger, and kills every worker process it started, by pid, at the end.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../../src/observe/logger.js';
import { configurePuppet, getPuppetWorker, shutdownPuppetWorker, type PuppetConfig } from '../../src/puppet/runtime/worker.js';

export const PUPPET = process.env.PUPPET_BIN ?? 'puppet';
// dist/test/harness/ -> repository root
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export interface PuppetEnv {
  /** Temporary root for the test's managed files (and Puppet's state under `state/`). */
  readonly dir: string;
  /** What the worker client logged (`level: message`). */
  readonly workerLines: string[];
  /** Configures the worker again: the test setup plus `overrides` (none: back to the test setup). */
  configure(overrides?: Partial<PuppetConfig>): void;
  /** Stops the worker, SIGKILLs every worker process group still alive, removes the temp dir. */
  teardown(): Promise<void>;
}

export async function setUpPuppet(): Promise<PuppetEnv> {
  const probe = spawnSync(PUPPET, ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new Error(
      `puppet is not available (${probe.error?.message ?? probe.stderr}); install the Debian package "puppet" ` +
        '(npm test does it through scripts/system-deps.mjs)',
    );
  }
  if (!existsSync(join(repo, 'puppet-module', 'lib', 'puppet', 'face', 'mgmtgraph.rb'))) throw new Error(`puppet-module not found under ${repo}`);
  const dir = await mkdtemp(join(tmpdir(), 'mgmt-puppet-fallback-'));
  const workerLines: string[] = [];
  const log: Logger = {
    debug: (m) => workerLines.push(`debug: ${m}`),
    info: (m) => workerLines.push(`info: ${m}`),
    warn: (m) => workerLines.push(`warn: ${m}`),
    error: (m) => workerLines.push(`error: ${m}`),
  };
  const configure = (overrides: Partial<PuppetConfig> = {}) =>
    configurePuppet({ puppetBin: PUPPET, stateDir: join(dir, 'state'), log, graceMs: 3000, ...overrides });
  configure();
  return {
    dir,
    workerLines,
    configure,
    async teardown() {
      await shutdownPuppetWorker().catch(() => undefined);
      for (const pid of getPuppetWorker().startedPids) {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Polls until `cond` holds, failing after `ms`. */
export async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`${what}: not reached within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
