/** Runs a YAML graph on an in-process Engine until it converges; for engine tests. */
import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine, type EngineOptions } from '../../src/engine/engine.js';
import type { Vertex } from '../../src/engine/vertex.js';
import { formatDiagnostic, hasErrors } from '../../src/graph/diagnostics.js';
import { checkGraphText } from '../../src/graph/read.js';
import type { GraphSpec } from '../../src/graph/spec.js';
import { registry as mgmtRegistry } from '../../src/cli/registry.js';
import type { Registry } from '../../src/resources/registry.js';

/** The graph in `yaml`, checked against `registry` (default: the kinds the mgmt command knows). */
export function specOf(yaml: string, registry: Registry = mgmtRegistry): GraphSpec {
  const { spec, diagnostics } = checkGraphText(registry, yaml, 'test.yaml');
  if (!spec || hasErrors(diagnostics)) throw new Error(`test graph is invalid:\n${diagnostics.map(formatDiagnostic).join('\n')}`);
  return spec;
}

export interface Running {
  readonly engine: Engine;
  /** Resolves with the failed vertices at the next convergence after the last call to `converged()`. */
  converged(): Promise<readonly Vertex[]>;
}

/**
 * Starts an engine (converged timeout 0 unless given; the mgmt command's kinds unless `opts.registry` is given)
 * on the graph and returns once the first swap is done.
 */
/** The temp prefixes made here (callers pass none), removed when the test process exits. */
const madePrefixes: string[] = [];
process.once('exit', () => {
  for (const d of madePrefixes) rmSync(d, { recursive: true, force: true });
});

async function tempPrefix(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'mgmt-engine-'));
  madePrefixes.push(d);
  return d;
}

export async function startGraph(yaml: string, opts: Partial<EngineOptions> = {}): Promise<Running> {
  let waiter: ((f: readonly Vertex[]) => void) | undefined;
  let pending: readonly Vertex[] | undefined;
  const engine = new Engine({
    hostname: 'test',
    convergedTimeout: 0,
    ...opts,
    registry: opts.registry ?? mgmtRegistry,
    // A temp prefix only when the caller gives none (the caller removes its own; this one goes at exit).
    prefix: opts.prefix ?? (await tempPrefix()),
    onConverged: (failed) => {
      if (waiter) {
        const w = waiter;
        waiter = undefined;
        w(failed);
      } else pending = failed;
    },
  });
  const r = await engine.swap(specOf(yaml, opts.registry));
  if (hasErrors(r.diagnostics)) throw new Error(r.diagnostics.map(formatDiagnostic).join('\n'));
  return {
    engine,
    converged: () =>
      new Promise((resolve) => {
        if (pending) {
          const p = pending;
          pending = undefined;
          resolve(p);
        } else waiter = resolve;
      }),
  };
}

/** Runs the graph to convergence, shuts the engine down, returns the failed vertex ids. */
export async function runGraph(yaml: string, opts: Partial<EngineOptions> = {}): Promise<string[]> {
  const r = await startGraph(yaml, opts);
  const failed = await r.converged();
  await r.engine.shutdown();
  return failed.map((v) => v.id);
}
