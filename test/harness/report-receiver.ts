/**
 * Every report a test Puppet Server processes, as its `http` report processor POSTs it (`reports = store, http`,
 * `reporturl` = this receiver, the way Foreman receives them): the `store` processor names its files by the minute,
 * so reports that arrive in the same minute replace one another there; this keeps each one, in arrival order, so
 * that tests find a report by its transaction UUID or its content instead of by file name or count.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import yaml from 'js-yaml';

/** A report as Puppet's YAML dump carries it (Ruby's object tags removed). */
export type ReceivedReport = Record<string, unknown> & {
  transaction_uuid: string;
  host: string;
  status: string;
  resource_statuses: Record<string, Record<string, unknown> & { events: Record<string, unknown>[] }>;
};

export interface ReportReceiver {
  /** The `reporturl` for the server's puppet.conf. */
  readonly url: string;
  /** Every report received so far, oldest first. */
  all(host?: string): ReceivedReport[];
  /** Resolves with the first report (received already or later) that `pred` accepts. */
  waitFor(pred: (r: ReceivedReport) => boolean, timeoutMs: number, what: string): Promise<ReceivedReport>;
  close(): Promise<void>;
}

/** Puppet's YAML for a report, parsed (the tags of Ruby objects are dropped: only the data matters here). */
export function parseReportYaml(text: string): ReceivedReport {
  return yaml.load(text.replace(/!ruby\/object:\S+/g, '')) as ReceivedReport;
}

/** Listens on 127.0.0.1, a free port. */
export async function startReportReceiver(): Promise<ReportReceiver> {
  const reports: ReceivedReport[] = [];
  let waiters: { pred: (r: ReceivedReport) => boolean; resolve: (r: ReceivedReport) => void }[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        const r = parseReportYaml(Buffer.concat(chunks).toString('utf8'));
        reports.push(r);
        const ready = waiters.filter((w) => w.pred(r));
        waiters = waiters.filter((w) => !ready.includes(w));
        for (const w of ready) w.resolve(r);
        res.writeHead(200).end();
      } catch (e) {
        res.writeHead(400).end(String(e));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    all: (host) => reports.filter((r) => host === undefined || r.host === host),
    waitFor: (pred, timeoutMs, what) => {
      const have = reports.find(pred);
      if (have) return Promise.resolve(have);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => {
          waiters = waiters.filter((w) => w.resolve !== done);
          reject(new Error(`no report ${what} within ${timeoutMs} ms; received: ${reports.map(describeReport).join('; ') || 'none'}`));
        }, timeoutMs);
        const done = (r: ReceivedReport) => {
          clearTimeout(t);
          resolve(r);
        };
        waiters.push({ pred, resolve: done });
      });
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** One line about a report: its UUID, status and the events it carries (for failure messages). */
export function describeReport(r: ReceivedReport): string {
  const events = Object.entries(r.resource_statuses).flatMap(([ref, s]) =>
    s.events.map((e) => `${ref}.${String(e.property)} ${String(e.status)}${e.corrective_change === true ? ' (corrective)' : ''}`),
  );
  return `${r.transaction_uuid} ${r.status}${r.noop === true ? ' noop' : ''} [${events.join(', ')}]`;
}
