/**
 * A pool of long-lived Puppet workers (runtime/worker.ts) compiling every node at both sides of a diff, without
 * paying Ruby's and Puppet's start-up per compile. A worker serves ONE code base (one git ref's checkout, or one
 * side's manifest and module path) for its whole life: Ruby code loaded from modules (functions, types, facts)
 * is never shared between refs, so a change to a module's `lib/` shows in the diff. The workers are split between
 * the code bases (at least one each), and each code base's compiles go to its least busy worker.
 *
 * Each worker has a hermetic Puppet home in a temporary directory (removed on close); a checkout is linked as
 * the environment (`<home>/code/environments/<env>`), so its environment.conf, hiera.yaml and data are Puppet's
 * own to read. Nothing is written outside the temporary directories.
 *
 * Start-up: a worker takes ~0.5 s to load Ruby, Puppet, the compiler and the core types (~1 s with an empty compile
 * cache: ruby-boot.ts), against ~50 ms for a compile once loaded. So `prestart()` starts the workers before the code
 * exists (a checkout's directory is named before git fills it: Puppet reads the environment at each compile,
 * never at start), and each worker loads the compiler and the core types at start (`--warm-up`, in an
 * environment of its own with no modules), while the caller checks the code out and bootstraps it.
 */
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Catalog, CatalogError, catalogFromData } from '../catalog.js';
import { STORECONFIGS } from '../runtime/face-runner.js';
import { PUPPET_HOME_PREFIX } from '../runtime/puppet-home.js';
import { PuppetWorker, PuppetWorkerError } from '../runtime/worker.js';
import type { PuppetSettings } from '../runtime/puppet-settings.js';
import type { Logger } from '../../observe/logger.js';

export interface CodeBase {
  /** `from` or `to`, for messages. */
  readonly id: string;
  /** The manifest (file or directory); default: the environment's main manifest. */
  readonly manifest?: string | undefined;
  /** Module directories, searched first (Debian's are appended). */
  readonly modulepath: readonly string[];
  /** A checkout to serve as the environment's directory. */
  readonly envDir?: string;
  /** The environment's name (default `production`). */
  readonly environment?: string;
  /** Puppet's `hiera_config` (global Hiera 5 configuration). */
  readonly hieraConfig?: string;
  readonly puppetBin?: string;
}

export type CompileOutcome =
  | { readonly ok: true; readonly catalog: Catalog; readonly ms: number }
  | { readonly ok: false; readonly message: string; readonly file?: string | null; readonly line?: number | null };

interface Slot {
  readonly worker: PuppetWorker;
  readonly home: string;
  busy: number;
}

export class CompilePool {
  private readonly slots = new Map<string, Promise<Slot>[]>();
  private readonly per: number;

  constructor(
    private readonly bases: readonly CodeBase[],
    parallel: number,
    private readonly log?: Logger,
  ) {
    this.per = Math.max(1, Math.floor(parallel / Math.max(1, bases.length)));
  }

  private async start(base: CodeBase): Promise<Slot> {
    const home = await mkdtemp(join(tmpdir(), PUPPET_HOME_PREFIX));
    const env = base.environment ?? 'production';
    if (base.envDir !== undefined) {
      await mkdir(join(home, 'code', 'environments'), { recursive: true, mode: 0o700 });
      await symlink(base.envDir, join(home, 'code', 'environments', env));
    }
    // The ref's code only: an empty confdir (never the machine's puppet.conf), the checkout as the environment.
    const confdir = join(home, 'conf');
    await mkdir(confdir, { recursive: true, mode: 0o700 });
    const settings: PuppetSettings = {
      confdir,
      codedir: join(home, 'code'),
      modulepath: base.modulepath,
      ...(base.environment !== undefined || base.envDir !== undefined ? { environment: env } : {}),
      ...(base.hieraConfig !== undefined ? { hiera_config: base.hieraConfig } : {}),
    };
    const worker = new PuppetWorker(() => ({
      stateDir: home,
      settings,
      args: ['--warm-up', ...STORECONFIGS, '--log_level', 'warning'],
      ...(base.puppetBin !== undefined ? { puppetBin: base.puppetBin } : {}),
      ...(this.log ? { log: this.log } : {}),
    }));
    worker.acquire();
    return { worker, home, busy: 0 };
  }

  /**
   * Starts up to `count` workers per code base now, and resolves once their processes are spawned (they load
   * Puppet and its compiler meanwhile); a worker that cannot start fails the compiles sent to it, with Puppet's
   * message.
   */
  async prestart(count: number): Promise<void> {
    const starting: Promise<unknown>[] = [];
    for (const base of this.bases) {
      let list = this.slots.get(base.id);
      if (!list) this.slots.set(base.id, (list = []));
      while (list.length < Math.min(this.per, Math.max(1, count))) {
        const p = this.start(base);
        list.push(p);
        starting.push(p.then((slot) => slot.worker.launch()));
      }
    }
    await Promise.all(starting.map((p) => p.catch(() => undefined)));
  }

  private async slotFor(base: CodeBase): Promise<Slot> {
    let list = this.slots.get(base.id);
    if (!list) this.slots.set(base.id, (list = []));
    const ready = await Promise.all(list);
    const idle = ready.find((s) => s.busy === 0);
    if (idle) return idle;
    if (list.length < this.per) {
      const p = this.start(base);
      list.push(p);
      return p;
    }
    const all = await Promise.all(list);
    return all.reduce((a, b) => (b.busy < a.busy ? b : a));
  }

  /** Compiles one node at one code base; a compile error is an outcome (Puppet's message, file, line), not a throw. */
  async compile(baseId: string, node: string, facts: Readonly<Record<string, unknown>>, signal?: AbortSignal): Promise<CompileOutcome> {
    const base = this.bases.find((b) => b.id === baseId);
    if (!base) throw new Error(`no code base ${baseId}`);
    const slot = await this.slotFor(base);
    slot.busy++;
    const t0 = performance.now();
    try {
      const reply = await slot.worker.request(
        'compile',
        { ...(base.manifest !== undefined ? { manifest: base.manifest } : {}), node, facts },
        { ...(signal ? { signal } : {}), timeoutMs: 300_000 },
      );
      if (reply.error) return { ok: false, message: reply.error.message, file: reply.error.file ?? null, line: reply.error.line ?? null };
      return { ok: true, catalog: catalogFromData(reply.catalog, `${node} at ${base.id}`), ms: performance.now() - t0 };
    } catch (e) {
      if (e instanceof PuppetWorkerError || e instanceof CatalogError) return { ok: false, message: e.message };
      throw e;
    } finally {
      slot.busy--;
    }
  }

  /** Stops every worker and removes their homes. */
  async close(): Promise<void> {
    const all = [...this.slots.values()].flat();
    this.slots.clear();
    await Promise.all(
      all.map(async (p) => {
        const s = await p.catch(() => undefined);
        if (!s) return;
        await s.worker.release();
        await s.worker.stop();
        await rm(s.home, { recursive: true, force: true });
      }),
    );
  }
}
