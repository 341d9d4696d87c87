/** `mgmt run --yaml FILE`: load, validate, run; watch the file and swap graphs; exit on convergence or signal. */
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Engine } from '../engine/engine.js';
import { diagnosticLogText, hasErrors } from '../graph/diagnostics.js';
import { toDot } from '../graph/graphviz.js';
import { readGraphFile } from '../graph/read.js';
import type { GraphSpec } from '../graph/spec.js';
import type { Loaded } from '../graph/yaml-loader.js';
import { logger, setLogLevel } from '../observe/log.js';
import { watchPath } from '../system/fs/path-watcher.js';
import { changedSince, type WatchedPath } from '../system/fs/changed-since.js';
import { registry } from './registry.js';
import { resolveRunFlags, runFlagOptions, runFlagsHelp, type RunFlags } from './run-flags.js';
import { EXIT_FAILED, EXIT_OK, UsageError } from './usage.js';
import { allGroupsGone, killAllGroups, stopAllGroups } from '../system/proc/launcher.js';
import type { Vertex } from '../engine/vertex.js';
import { WorldLink } from '../world/world-link.js';
import { errorText } from '../observe/errors.js';

export const runHelp = `usage: mgmt run --yaml FILE [flags]      (also: mgmt run yaml FILE)

Runs the graph in FILE: every resource is watched and kept in its desired state. The file is watched too:
a valid new version is swapped in (unchanged resources keep running); an invalid one is logged and ignored.

flags:
  --yaml FILE               the YAML graph to run
${runFlagsHelp}`;

export async function runCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { ...runFlagOptions, yaml: { type: 'string' } },
    allowPositionals: true,
  });
  if (values.help) {
    process.stdout.write(runHelp + '\n');
    return EXIT_OK;
  }
  let file = values.yaml;
  if (!file && positionals[0] === 'yaml' && positionals[1]) file = positionals[1];
  else if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
  if (!file) throw new UsageError('which graph? give --yaml FILE');
  const flags = await resolveRunFlags(values);
  if (flags.verbose) setLogLevel('debug');
  return runGraphFile(resolve(file), flags);
}

async function runGraphFile(file: string, flags: RunFlags): Promise<number> {
  const log = logger('main');
  const readSince = Date.now();
  const loaded = await readGraphFile(registry, file);
  for (const d of loaded.diagnostics) log[d.severity === 'error' ? 'error' : 'warn'](diagnosticLogText(d));
  if (!loaded.spec || hasErrors(loaded.diagnostics)) {
    log.error(`${file}: the graph has errors; nothing was applied`);
    return EXIT_FAILED;
  }
  return runEngine(loaded.spec, flags, { name: file, watch: [{ path: file }], readSince, load: () => readGraphFile(registry, file) });
}

/**
 * Stopping (a signal or a converged exit) within 1 s: every process group we started gets SIGTERM at once and
 * SIGKILL after GROUP_GRACE_MS; check/applies still running after APPLY_GRACE_MS are cancelled and given
 * CANCEL_WAIT_MS to return. An etcd member we started stops gracefully on its own time, reported apart.
 */
const GROUP_GRACE_MS = 400;
const APPLY_GRACE_MS = 600;
const CANCEL_WAIT_MS = 250;

/** Logs every failing resource with its last error; the exit status says the rest. */
function reportFailures(failed: readonly Vertex[]): void {
  if (failed.length === 0) return;
  const log = logger('main');
  log.error(`${failed.length} resource(s) failed: ${failed.map((v) => v.id).join(', ')}`);
  for (const v of failed) {
    const state = v.failedPermanently ? 'given up (explicit meta retry used up)' : 'still failing, was being retried';
    log.error(`  ${v.id}: ${state}; last error: ${v.failure?.message ?? 'unknown'}`);
  }
}

/** Where a running graph comes from: what to watch, and how to read it again after a change. */
export interface GraphSource {
  /** For messages: the file (or manifest) name. */
  readonly name: string;
  readonly watch: readonly WatchedPath[];
  /** Date.now() before the running graph's inputs were first read: the watch catches up on changes since. */
  readonly readSince: number;
  /** Reads, checks and returns the new graph; one with errors leaves the running graph as it is. */
  load(): Promise<Loaded>;
}

/**
 * Runs a validated graph until it converges (with --converged-timeout) or a signal arrives. With a source, its
 * files are watched and each valid new version is swapped in.
 */
export function runEngine(spec: GraphSpec, flags: RunFlags, source?: GraphSource): Promise<number> {
  const log = logger('main');
  return new Promise<number>((resolveExit) => {
    let exiting = false;
    /** A signal or the converged exit has begun the stop (read where type narrowing would keep the initial value). */
    const stopping = (): boolean => exiting;
    let signals = 0;
    let unwatch: (() => void) | undefined;
    const engine = new Engine({
      registry,
      hostname: flags.hostname,
      prefix: flags.prefix,
      noop: flags.noop,
      ...(flags.sema !== undefined ? { sema: flags.sema } : {}),
      autoEdges: flags.autoEdges,
      autoGroup: flags.autoGroup,
      ...(flags.convergedTimeout !== undefined ? { convergedTimeout: flags.convergedTimeout } : {}),
      onConverged: (failed) => {
        // A collection still on its way: the swap that brings it checks convergence again.
        if (world.pending() || exiting) return;
        reportFailures(failed);
        log.info(`converged for ${flags.convergedTimeout} s${failed.length > 0 ? ' (nothing but retries of failed resources)' : ''}; exiting`);
        void finish(failed.length > 0 ? EXIT_FAILED : EXIT_OK);
      },
    });
    // Exports and collected resources: every swap goes through the world link (local + collected).
    const world = new WorldLink(
      registry,
      flags,
      async (g) => {
        const r = await engine.swap(g);
        if (!hasErrors(r.diagnostics)) writeDot();
        return r;
      },
      () => engine.isSettled(),
    );
    const finish = async (code: number, why?: string) => {
      if (exiting) return;
      exiting = true;
      const t0 = performance.now();
      unwatch?.();
      // Every process group gets SIGTERM now (commands, watch commands, the Puppet worker), SIGKILL soon after;
      // no new command starts from here on.
      const groups = stopAllGroups(GROUP_GRACE_MS);
      let worldMs = 0;
      const worldClosed = world.close().then(() => (worldMs = performance.now() - t0));
      await Promise.all([engine.shutdown(APPLY_GRACE_MS, CANCEL_WAIT_MS), groups]);
      const stoppedMs = performance.now() - t0;
      await worldClosed;
      await dotWritten;
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      const etcd = worldMs > stoppedMs + 5 ? `; the world (the etcd member we started) took ${worldMs.toFixed(0)} ms to stop` : '';
      if (signals > 1) return; // a second signal aborted the stop: its exit (130) stands
      if (why) log.info(`${why}: stopped in ${stoppedMs.toFixed(0)} ms${etcd}`);
      else log.debug(`stopped in ${stoppedMs.toFixed(0)} ms${etcd}`);
      resolveExit(code);
    };
    // One handler for the whole run: removing and re-adding a signal listener can drop a signal that arrives
    // in between, so the handler counts (`signals`) instead.
    const onSignal = (sig: NodeJS.Signals) => {
      if (++signals === 1) {
        log.info(`${sig}: stopping (send it again to kill everything at once)`);
        // A resource still failing makes the exit status say so, as a converged exit does.
        const failed = engine.failures();
        reportFailures(failed);
        void finish(failed.length > 0 ? EXIT_FAILED : EXIT_OK, sig);
      } else {
        log.warn(`${sig} again: aborting`);
        engine.abort();
        world.abort();
        // SIGKILL now; exit once the killed processes are dead (a few ms), not before.
        killAllGroups();
        void allGroupsGone(200).then(() => resolveExit(130));
      }
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);

    let dotWritten: Promise<void> = Promise.resolve();
    const writeDot = () => {
      const g = engine.graph();
      if (!flags.graphviz || !g.spec) return;
      const text = toDot(g.spec.graph, g.spec.resources, g.edges);
      const target = flags.graphviz;
      dotWritten = dotWritten.then(() => writeFile(target, text).catch((e: unknown) => log.warn(`cannot write --graphviz ${target}: ${errorText(e)}`)));
    };

    const swapIn = async (next: GraphSpec, first: boolean): Promise<boolean> => {
      const r = await world.swapLocal(next);
      for (const d of r.diagnostics) log.error(diagnosticLogText(d));
      if (hasErrors(r.diagnostics)) {
        log.error(first ? 'the graph has errors; nothing was applied' : 'new graph rejected; the running graph is unchanged');
        return false;
      }
      log.info(
        `graph ${next.graph}: ${next.resources.length} resources${first ? '' : ` swapped in (${r.added} added, ${r.removed} removed, ${r.kept} unchanged)`}`,
      );
      return true;
    };

    void (async () => {
      if (!(await swapIn(spec, true))) return finish(EXIT_FAILED);
      if (source && !stopping()) unwatch = watchSource(source, swapIn, spec);
    })();
  });
}

/**
 * How long a watched file must stay unchanged before it is read: an editor or a script writing the file in
 * several pieces is not read half-way (a prefix of a graph is often a valid, smaller graph, which would remove
 * the resources still to be written). Writes come in bursts well under this; it stays short so that a save is
 * applied well within a second.
 */
export const SETTLE_MS = 50;

/**
 * How long after the first graph is swapped in its source's watch is set up. Watching a path costs an inotify
 * watch on each of its ancestor directories, about 10 ms on a machine with a large /tmp; set up at once, that
 * time would delay every first check (the resources' code is loaded on first use, so their first checks start a
 * few event-loop turns after the swap). A change made before the watch is caught up by time stamp (changedSince).
 */
export const WATCH_DELAY_MS = 100;

/**
 * Reloads the graph once a watched file has settled (no change for SETTLE_MS); a version that changed again
 * while it was read is dropped for the next one. Invalid versions are logged only: the running graph goes on.
 * The watch starts WATCH_DELAY_MS from now; a change since the first read (source.readSince) reloads at once.
 */
function watchSource(source: GraphSource, swapIn: (g: GraphSpec, first: boolean) => Promise<boolean>, running: GraphSpec): () => void {
  const log = logger('main');
  let timer: NodeJS.Timeout | undefined;
  let reading: Promise<void> = Promise.resolve();
  let last: string | undefined;
  let stopped = false;
  /** Counts change events: a read during which it moved saw a file still being written. */
  let changes = 0;
  const reload = () => {
    reading = reading.then(async () => {
      const seen = changes;
      const loaded = await source.load();
      if (stopped || changes !== seen) return; // stopped, or written to while read: the timer that change armed reads it again
      const key = JSON.stringify(loaded.spec ?? loaded.diagnostics);
      if (key === last) return;
      last = key;
      for (const d of loaded.diagnostics) log[d.severity === 'error' ? 'error' : 'warn'](diagnosticLogText(d));
      if (!loaded.spec || hasErrors(loaded.diagnostics)) {
        log.error(`${source.name} changed but has errors; the running graph is unchanged`);
        return;
      }
      await swapIn(loaded.spec, false);
    });
  };
  const onChange = () => {
    if (stopped) return;
    changes++;
    clearTimeout(timer);
    timer = setTimeout(reload, SETTLE_MS);
  };
  let stops: (() => void)[] = [];
  const start = setTimeout(() => {
    stops = source.watch.map((w) => watchPath(w.path, onChange, { recursive: w.recursive === true }));
    const seen = changes;
    void changedSince(source.watch, source.readSince).then(
      (changed) => {
        if (!changed || changes !== seen) return; // an event since the watch started has armed a read already
        log.debug(`${source.name} changed before it was watched; reading it again`);
        last ??= JSON.stringify(running); // a false alarm (a change just before the first read) swaps nothing
        onChange();
      },
      (e: unknown) => log.warn(`cannot tell whether ${source.name} changed before it was watched: ${errorText(e)}`),
    );
  }, WATCH_DELAY_MS);
  return () => {
    stopped = true;
    clearTimeout(start);
    clearTimeout(timer);
    for (const stop of stops) stop();
  };
}
