/**
 * `mgmt puppet agent`: a node's Puppet agent on our engine (src/puppet/agent/agent.ts), with the node's own
 * identity. `--onetime`/`--test`: one run, then exit (`--detailed-exitcodes` as Puppet's); otherwise it stays up:
 * the graph keeps repairing drift, a catalog run every `runinterval` (with `splay`), at once on SIGUSR1 or
 * `mgmt puppet agent --trigger`, drift repairs reported at most once per `--report-interval`.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { errorText } from '../observe/errors.js';
import { flushLog, logger, setLogLevel } from '../observe/log.js';
import { AgentLockError, disableAgent, disabledReason, enableAgent, takeRunLock } from '../puppet/agent/agent-locks.js';
import { type AgentSettings, configArgs, readAgentSettings } from '../puppet/agent/settings.js';
import { detailedExitCode } from '../report/puppet-report.js';
import { inheritedEnv, outputTail, run } from '../system/proc/launcher.js';
import { configurePuppet, setPuppetWorkerLog, shutdownPuppetWorker } from '../puppet/runtime/worker.js';
import { EXIT_FAILED, EXIT_OK, UsageError } from './usage.js';

export const puppetAgentHelp = `usage: mgmt puppet agent [--onetime | --test] [flags]

Runs this node's Puppet agent on mgmt's engine: the node's identity from its puppet.conf (certname, server,
serverport, ca_server, environment, ssldir: no new certificate when it has one), the catalog from its Puppet
Server, applied natively where translated, reports to the server and last_run_summary.yaml as Puppet's agent.

flags:
  --confdir DIR            Puppet's confdir of the node (default: Puppet's)
  --config FILE            Puppet's config file (default: confdir/puppet.conf)
  --onetime                one run, then exit
  --test                   --onetime --detailed-exitcodes --verbose, without the cached catalog
  --detailed-exitcodes     exit 0: no changes, 2: changes, 4: failures, 6: both; 1: the run failed
  --noop                   report what would change, change nothing
  --tags TAGS              comma-separated: only resources with one of these tags
  --waitforcert SECS       a new node: wait this long for its certificate to be signed (default: Puppet's)
  --trigger                make the running agent of this node fetch its catalog now, and exit
  --disable [REASON]       disable runs (Puppet's disable lock), and exit
  --enable                 enable runs again, and exit
  --report-interval SECS   at most one drift-repair report per SECS between runs (default: 60)
  --seeds URL[,URL...]     etcd: run at once when \`mgmt puppet deploy\` deploys this node's environment
  --prefix DIR             mgmt's state directory (default: <vardir>/mgmt)
  --puppet-bin BIN         the Puppet executable (default: puppet)
  -v, --verbose            debug logging`;

export const agentFlagOptions = {
  help: { type: 'boolean', short: 'h' },
  confdir: { type: 'string' },
  config: { type: 'string' },
  onetime: { type: 'boolean' },
  test: { type: 'boolean', short: 't' },
  'detailed-exitcodes': { type: 'boolean' },
  noop: { type: 'boolean' },
  tags: { type: 'string' },
  waitforcert: { type: 'string' },
  trigger: { type: 'boolean' },
  disable: { type: 'boolean' },
  enable: { type: 'boolean' },
  'report-interval': { type: 'string' },
  seeds: { type: 'string' },
  prefix: { type: 'string' },
  'puppet-bin': { type: 'string' },
  verbose: { type: 'boolean', short: 'v' },
} as const;

/** The running agent's PID, for `--trigger` (beside Puppet's own state files). */
const pidFile = (s: AgentSettings) => join(s.statedir, 'mgmt_agent.pid');

function seconds(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`--${flag} takes a number of seconds, not ${JSON.stringify(v)}`);
  return n;
}

export async function puppetAgentCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: agentFlagOptions, allowPositionals: true });
  if (values.help) {
    process.stdout.write(puppetAgentHelp + '\n');
    return EXIT_OK;
  }
  // `--disable "reason"`: the reason is the one positional it may take.
  const reason = values.disable ? positionals.join(' ') || 'reason not specified' : undefined;
  if (!values.disable && positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
  const log = logger('agent');
  const test = values.test === true;
  if (values.verbose || test) setLogLevel(values.verbose ? 'debug' : 'info');
  const onetime = test || values.onetime === true;
  const detailed = test || values['detailed-exitcodes'] === true;
  const reportInterval = seconds(values['report-interval'], 'report-interval') ?? 60;
  const waitforcert = seconds(values.waitforcert, 'waitforcert');
  const source = { puppetBin: values['puppet-bin'] ?? 'puppet', confdir: values.confdir, config: values.config };
  let settings: AgentSettings;
  try {
    settings = await readAgentSettings(source);
  } catch (e) {
    log.error(errorText(e));
    return EXIT_FAILED;
  }

  if (values.enable) {
    enableAgent(settings.agent_disabled_lockfile);
    log.info(`enabled (${settings.agent_disabled_lockfile} removed)`);
    return EXIT_OK;
  }
  if (reason !== undefined) {
    disableAgent(settings.agent_disabled_lockfile, reason);
    log.info(`disabled: ${reason} (${settings.agent_disabled_lockfile}); mgmt puppet agent --enable undoes it`);
    return EXIT_OK;
  }
  if (values.trigger) return trigger(settings);

  const disabled = disabledReason(settings.agent_disabled_lockfile);
  if (disabled !== undefined) {
    log.warn(`Skipping run of Puppet configuration client; administratively disabled (Reason: '${disabled}'); use 'mgmt puppet agent --enable' to re-enable.`);
    return onetime && detailed ? EXIT_FAILED : EXIT_OK;
  }

  // Identity: the node's certificate, or a new one (CSR, then wait as `puppet agent --waitforcert` does).
  if (!existsSync(settings.hostcert)) {
    const wait = String(waitforcert ?? settings.waitforcert);
    log.info(
      `no certificate for ${settings.certname} in ${settings.ssldir}: requesting one from ${settings.ca_server}:${settings.ca_port} (waiting up to ${wait} s)`,
    );
    const r = await run({
      command: { argv: [source.puppetBin, 'ssl', 'bootstrap', '--waitforcert', wait, ...configArgs(source)] },
      env: inheritedEnv(),
    });
    if (r.code !== 0 || !existsSync(settings.hostcert)) {
      log.error(
        `no certificate for ${settings.certname}: ${outputTail(r)}; sign it on the CA (puppetserver ca sign --certname ${settings.certname}) and run again`,
      );
      return EXIT_FAILED;
    }
  }

  const prefix = values.prefix ?? join(settings.vardir, 'mgmt');
  configurePuppet({ stateDir: join(prefix, 'puppet'), args: ['--certname', settings.certname], puppetBin: source.puppetBin });
  setPuppetWorkerLog(logger('puppet'));
  const [{ PuppetAgent }, { registry }] = await Promise.all([import('../puppet/agent/agent.js'), import('./registry.js')]);
  const agent = new PuppetAgent({
    settings,
    source,
    registry,
    prefix,
    noop: values.noop === true || settings.noop,
    tags: (values.tags ?? settings.tags)
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean),
    log,
    runinterval: settings.runinterval,
  });

  const once = async (): Promise<number> => {
    let release: (() => void) | undefined;
    try {
      release = takeRunLock(settings.agent_catalog_run_lockfile);
    } catch (e) {
      if (e instanceof AgentLockError) {
        log.warn(e.message);
        return EXIT_FAILED;
      }
      throw e;
    }
    try {
      const r = await agent.run();
      if (!r.report) return EXIT_FAILED;
      // The server could not be reached (the cached catalog ran, or the report is held): the daemon retries soon.
      if (!onetime && (r.cached || r.reportError !== undefined)) return EXIT_FAILED;
      if (r.reportError !== undefined && onetime) log.error('the report was not delivered');
      return detailed ? detailedExitCode(r.report) : r.report.status === 'failed' ? EXIT_FAILED : EXIT_OK;
    } finally {
      release();
    }
  };

  if (onetime) {
    try {
      return await once();
    } finally {
      await agent.shutdown();
      await shutdownPuppetWorker();
      flushLog();
    }
  }
  const seeds = (values.seeds ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  return daemon(agent, settings, once, reportInterval, log, seeds);
}

/** The long-running agent: runs every runinterval (after a splay), at once on SIGUSR1; drift reports batched. */
async function daemon(
  agent: { driftReport(): Promise<unknown>; shutdown(): Promise<void> },
  s: AgentSettings,
  once: () => Promise<number>,
  reportInterval: number,
  log: ReturnType<typeof logger>,
  seeds: readonly string[],
): Promise<number> {
  await mkdir(s.statedir, { recursive: true });
  await writeFile(pidFile(s), String(process.pid));
  let wake: (() => void) | undefined;
  /**
   * `pending`: a trigger, deploy or stop arrived while no sleep was there to cut short (during a run): the loop
   * acts on it instead of sleeping, so that a stop or a deploy is never held for a whole runinterval.
   */
  const state = { stopping: false, pending: false };
  /** Resolved when the run after the last runNow() has finished. */
  let ranWaiters: (() => void)[] = [];
  const runNow = () => {
    const w = wake;
    wake = undefined;
    if (w) w();
    else state.pending = true;
  };
  const runAndWait = () =>
    new Promise<void>((resolve) => {
      ranWaiters.push(resolve);
      runNow();
    });
  // `mgmt puppet deploy`: run at once (after the deploy's jitter, in one of its slots).
  let unwatch: (() => Promise<void>) | undefined;
  let etcd: { close(): void } | undefined;
  if (seeds.length > 0) {
    const { deployClient, inDeploySlot, watchDeploys } = await import('../world/deploy-signal.js');
    const client = deployClient(seeds);
    etcd = client;
    unwatch = await watchDeploys(
      client,
      s.environment,
      (d) => {
        log.info(`deploy ${d.id} of ${d.environment}: fetching the catalog (jitter up to ${d.jitterMs} ms, ${d.concurrency} at a time)`);
        void inDeploySlot(client, d, s.certname, runAndWait).catch((e: unknown) => log.warn(`deploy ${d.id}: ${errorText(e)}`));
      },
      log,
    );
  }
  const onUsr1 = () => {
    log.info('SIGUSR1: running now');
    runNow();
  };
  const stop = (sig: NodeJS.Signals) => {
    log.info(`${sig}: stopping`);
    state.stopping = true;
    runNow();
  };
  process.on('SIGUSR1', onUsr1);
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const drift = setInterval(() => {
    void agent.driftReport().catch((e: unknown) => log.warn(`drift report: ${errorText(e)}`));
  }, reportInterval * 1000);
  // Server down: retry sooner than runinterval, with backoff (Puppet retries at its runinterval only).
  let failures = 0;
  try {
    let first = true;
    while (!state.stopping) {
      if (first && s.splay) {
        await sleepOrWake(Math.random() * s.splaylimit * 1000, (w) => (wake = w));
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- set by the signal handler while this awaited
        if (state.stopping) break;
      }
      first = false;
      const disabled = disabledReason(s.agent_disabled_lockfile);
      const waiting = ranWaiters;
      ranWaiters = [];
      state.pending = false; // this run serves every trigger so far
      const code = disabled === undefined ? await once() : (log.warn(`Skipping run: administratively disabled (Reason: '${disabled}')`), EXIT_OK);
      for (const f of waiting) f();
      failures = code === EXIT_FAILED ? failures + 1 : 0;
      const wait = failures > 0 ? Math.min(s.runinterval, 5 * 2 ** Math.min(failures - 1, 10)) : s.runinterval;
      if (failures > 0) log.warn(`the run failed (${failures} in a row); the graph keeps running; next attempt in ${wait} s`);
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- set by a signal handler or a deploy while the run awaited
      if (state.stopping || state.pending) continue;
      await sleepOrWake(wait * 1000, (w) => (wake = w));
    }
  } finally {
    for (const f of ranWaiters) f();
    // The etcd watch's cancel waits for the server's answer: bounded, so that a stop never hangs on it.
    await Promise.race([unwatch?.().catch(() => undefined), new Promise((r) => setTimeout(r, 2000).unref())]);
    etcd?.close();
    clearInterval(drift);
    process.off('SIGUSR1', onUsr1);
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await agent.driftReport().catch(() => undefined);
    await agent.shutdown();
    await shutdownPuppetWorker();
    await rm(pidFile(s), { force: true });
    flushLog();
  }
  return EXIT_OK;
}

function sleepOrWake(ms: number, setWake: (w: () => void) => void): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    setWake(() => {
      clearTimeout(t);
      resolve();
    });
  });
}

/** `--trigger`: SIGUSR1 to the running agent of this node. */
async function trigger(s: AgentSettings): Promise<number> {
  const log = logger('agent');
  const pid = Number((await readFile(pidFile(s), 'utf8').catch(() => '')).trim());
  if (!Number.isInteger(pid) || pid <= 0) {
    log.error(`no running mgmt puppet agent for ${s.certname} (${pidFile(s)} is missing); start one, or run once with --onetime`);
    return EXIT_FAILED;
  }
  try {
    process.kill(pid, 'SIGUSR1');
  } catch (e) {
    log.error(`could not signal the agent (process ${pid}): ${errorText(e)}`);
    return EXIT_FAILED;
  }
  log.info(`triggered a run of the agent of ${s.certname} (process ${pid})`);
  return EXIT_OK;
}
