/**
 * The files a Puppet agent leaves after each run for monitoring checks (Telegraf's puppetagent input, Nagios
 * checks, Puppet's own `puppet agent --disable` tooling): `last_run_summary.yaml` (the counts of the report's
 * metrics, `lastrunfile`) and `last_run_report.yaml` (the whole report, `lastrunreport`), in Puppet's layout.
 * Written atomically (a temporary file renamed over the old one), mode 0640 as Puppet makes them.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import yaml from 'js-yaml';
import type { PuppetReport } from './puppet-report.js';

export interface LastRunSummary {
  version: { config: string | number | null; puppet: string };
  application: { run_mode: string; initial_environment: string; converged_environment: string };
  resources: Record<string, number>;
  time: Record<string, number>;
  changes: Record<string, number>;
  events: Record<string, number>;
}

/**
 * The summary: each metric's values by name (a metric without `total` gets `total: 0`, except `time`, which gets
 * `last_run`: the epoch second the summary was made), the catalog and Puppet versions, and the environments.
 */
export function lastRunSummary(r: PuppetReport, initialEnvironment = r.environment, now = Date.now()): LastRunSummary {
  const values = (key: keyof PuppetReport['metrics']) => {
    const out: Record<string, number> = {};
    // Puppet's summary lists each metric's values sorted by label
    const sorted = [...r.metrics[key].values].sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
    for (const [name, , v] of sorted) out[name] = v;
    if (key !== 'time' && !('total' in out)) out.total = 0;
    return out;
  };
  return {
    version: { config: r.configuration_version, puppet: r.puppet_version },
    application: { run_mode: 'agent', initial_environment: initialEnvironment, converged_environment: r.environment },
    resources: values('resources'),
    time: { ...values('time'), last_run: Math.floor(now / 1000) },
    changes: values('changes'),
    events: values('events'),
  };
}

/** YAML as Puppet's readers take it (a plain mapping; `---` first). */
export function summaryYaml(s: LastRunSummary): string {
  return `---\n${yaml.dump(s, { lineWidth: -1, noRefs: true, sortKeys: false })}`;
}

/** The report as `last_run_report.yaml`: Puppet's tagged document, with the report's fields. */
export function reportYaml(r: PuppetReport): string {
  return `--- !ruby/object:Puppet::Transaction::Report\n${yaml.dump(r, { lineWidth: -1, noRefs: true, sortKeys: false })}`;
}

async function writeAtomic(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o755 });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, text, { mode: 0o640 });
  await rename(tmp, path);
}

/** Writes both files where Puppet's settings put them (`lastrunfile`, `lastrunreport`). */
export async function writeLastRun(
  r: PuppetReport,
  paths: { readonly lastrunfile: string; readonly lastrunreport: string },
  initialEnvironment?: string,
): Promise<void> {
  await writeAtomic(paths.lastrunfile, summaryYaml(lastRunSummary(r, initialEnvironment)));
  await writeAtomic(paths.lastrunreport, reportYaml(r));
}
