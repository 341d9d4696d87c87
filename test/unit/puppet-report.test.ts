// Reports in Puppet 7's format (src/report/puppet-report.ts) and the last-run files (src/report/last-run.ts),
// built from change records as the engine makes them. The integration test (puppet-agent.test.ts) sends them to
// a real Puppet Server and reads what its `store` processor wrote.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import yaml from 'js-yaml';
import type { CheckRecord } from '../../src/engine/check-record.js';
import { lastRunSummary, reportYaml, writeLastRun } from '../../src/report/last-run.js';
import { detailedExitCode, metricLabel, puppetReport, puppetTime, type ReportInput } from '../../src/report/puppet-report.js';

const T0 = Date.parse('2026-12-06T15:00:00.000Z');

function rec(id: string, outcome: CheckRecord['outcome'], changes: CheckRecord['changes'], more: Partial<CheckRecord> = {}): CheckRecord {
  const kind = id.slice(0, id.indexOf('['));
  return { id, kind, name: id.slice(kind.length + 1, -1), outcome, changes, corrective: false, refresh: false, at: T0 + 1000, ms: 250, ...more };
}

const refs: Record<string, string> = {
  'file[/etc/motd]': 'File[/etc/motd]',
  'file[/etc/issue]': 'File[/etc/issue]',
  'exec[make]': 'Exec[make]',
  'pkg[vim]': 'Package[vim]',
  'pkg[curl]': 'Package[curl]',
};

function input(records: CheckRecord[], more: Partial<ReportInput> = {}): ReportInput {
  return {
    host: 'node1',
    environment: 'production',
    puppetVersion: '7.23.0',
    transactionUuid: 'b6c1e0a4-0000-4000-8000-000000000001',
    catalogUuid: 'c6c1e0a4-0000-4000-8000-000000000002',
    codeId: null,
    configurationVersion: 1765033200,
    serverUsed: 'localhost:8140',
    cachedCatalogStatus: 'not_used',
    noop: false,
    startedAt: T0,
    resources: [
      {
        ref: 'File[/etc/motd]',
        file: '/code/site.pp',
        line: 3,
        tags: ['file', 'class'],
        containmentPath: ['Stage[main]', 'Main', 'File[/etc/motd]'],
        provider: 'file',
      },
      { ref: 'File[/etc/issue]', file: '/code/site.pp', line: 7 },
      { ref: 'Exec[make]', file: '/code/site.pp', line: 9 },
      { ref: 'Package[vim]' },
      { ref: 'Package[curl]' },
    ],
    records,
    refOf: (id) => refs[id],
    transactionCompleted: true,
    times: { config_retrieval: 1.5, fact_generation: 0.75 },
    ...more,
  };
}

const value = (m: { values: [string, string, number][] }, k: string) => m.values.find((v) => v[0] === k)?.[2];

describe('Puppet report (format 12)', () => {
  it('identity fields, status changed, events with property, previous and desired values, metrics sorted by label', () => {
    const r = puppetReport(
      input([
        rec('file[/etc/motd]', 'changed', [
          { property: 'content', previous: '{md5}aa', desired: '{md5}bb', message: 'content changed' },
          { property: 'mode', previous: '0600', desired: '0644', message: 'mode 0600 -> 0644' },
        ]),
        rec('file[/etc/issue]', 'changed', [{ property: 'state', previous: 'absent', desired: 'file', message: 'created file' }], { corrective: false }),
      ]),
    );
    assert.equal(r.report_format, 12);
    assert.equal(r.host, 'node1');
    assert.equal(r.time, '2026-12-06T15:00:00.000000000+00:00');
    assert.equal(r.status, 'changed');
    assert.equal(r.transaction_uuid, 'b6c1e0a4-0000-4000-8000-000000000001');
    assert.equal(r.catalog_uuid, 'c6c1e0a4-0000-4000-8000-000000000002');
    assert.equal(r.code_id, null);
    assert.equal(r.configuration_version, 1765033200);
    assert.equal(r.cached_catalog_status, 'not_used');
    assert.equal(r.server_used, 'localhost:8140');
    assert.deepEqual(Object.keys(r.resource_statuses), ['File[/etc/motd]', 'File[/etc/issue]', 'Exec[make]', 'Package[vim]', 'Package[curl]']);
    const motd = r.resource_statuses['File[/etc/motd]']!;
    assert.equal(motd.title, '/etc/motd');
    assert.equal(motd.resource_type, 'File');
    assert.deepEqual([motd.file, motd.line], ['/code/site.pp', 3]);
    assert.deepEqual(motd.containment_path, ['Stage[main]', 'Main', 'File[/etc/motd]']);
    assert.deepEqual([motd.changed, motd.out_of_sync, motd.change_count, motd.out_of_sync_count, motd.failed], [true, true, 2, 2, false]);
    assert.equal(motd.evaluation_time, 0.25);
    assert.deepEqual(
      motd.events.map((e) => [e.property, e.previous_value, e.desired_value, e.status, e.name, e.message]),
      [
        ['content', '{md5}aa', '{md5}bb', 'success', 'content_changed', "content changed '{md5}aa' to '{md5}bb'"],
        ['mode', '0600', '0644', 'success', 'mode_changed', "mode changed '0600' to '0644'"],
      ],
    );
    const issue = r.resource_statuses['File[/etc/issue]']!;
    assert.deepEqual(
      issue.events.map((e) => [e.property, e.name, e.previous_value, e.desired_value]),
      [['ensure', 'file_created', 'absent', 'file']],
    );
    const untouched = r.resource_statuses['Exec[make]']!;
    assert.deepEqual([untouched.changed, untouched.events.length, untouched.containment_path], [false, 0, ['Stage[main]', 'Exec[make]']]);
    // metrics: Puppet's names, labels, and order (as its report carries them)
    assert.deepEqual(
      r.metrics.resources.values.map((v) => v[1]),
      ['Total', 'Skipped', 'Failed', 'Failed to restart', 'Restarted', 'Changed', 'Out of sync', 'Scheduled', 'Corrective change'],
    );
    assert.equal(value(r.metrics.resources, 'total'), 5);
    assert.equal(value(r.metrics.resources, 'changed'), 2);
    assert.equal(value(r.metrics.resources, 'out_of_sync'), 2);
    assert.equal(value(r.metrics.changes, 'total'), 3);
    assert.deepEqual(r.metrics.events.values, [
      ['total', 'Total', 3],
      ['failure', 'Failure', 0],
      ['success', 'Success', 3],
    ]);
    assert.equal(value(r.metrics.time, 'file'), 0.5);
    assert.equal(value(r.metrics.time, 'config_retrieval'), 1.5);
    // one notice log per event, with the resource's path
    assert.deepEqual(
      r.logs.map((l) => [l.level, l.source]),
      [
        ['notice', '/Stage[main]/Main/File[/etc/motd]/content'],
        ['notice', '/Stage[main]/Main/File[/etc/motd]/mode'],
        ['notice', '/Stage[main]/File[/etc/issue]/ensure'],
      ],
    );
    assert.equal(detailedExitCode(r), 2);
    // JSON round trip: what goes over the wire
    assert.deepEqual(JSON.parse(JSON.stringify(r)), r);
  });

  it('a failure: status failed, a resource_error event, the dependents skipped; exit code 4 (6 with changes)', () => {
    const r = puppetReport(input([rec('exec[make]', 'failed', [], { error: 'exit status 2' })], { skipped: ['Package[vim]'] }));
    assert.equal(r.status, 'failed');
    const ex = r.resource_statuses['Exec[make]']!;
    assert.equal(ex.failed, true);
    assert.deepEqual(
      ex.events.map((e) => [e.status, e.name, e.property, e.message]),
      [['failure', 'resource_error', null, 'Could not evaluate: exit status 2']],
    );
    assert.equal(r.resource_statuses['Package[vim]']!.skipped, true);
    assert.equal(value(r.metrics.resources, 'skipped'), 1);
    assert.equal(value(r.metrics.events, 'failure'), 1);
    assert.equal(r.logs[0]!.level, 'err');
    assert.equal(detailedExitCode(r), 4);
    const both = puppetReport(
      input([
        rec('exec[make]', 'failed', [], { error: 'boom' }),
        rec('file[/etc/motd]', 'changed', [{ property: 'mode', previous: '0600', desired: '0644', message: 'm' }]),
      ]),
    );
    assert.equal(detailedExitCode(both), 6);
    assert.equal(puppetReport(input([], { transactionCompleted: false })).status, 'failed');
  });

  it('noop: events with status noop, noop_pending, no change counted; unchanged status', () => {
    const r = puppetReport(
      input([rec('file[/etc/motd]', 'noop', [{ property: 'mode', previous: '0600', desired: '0644', message: 'would change mode' }])], { noop: true }),
    );
    assert.equal(r.status, 'unchanged');
    assert.equal(r.noop, true);
    assert.equal(r.noop_pending, true);
    const e = r.resource_statuses['File[/etc/motd]']!.events[0]!;
    assert.deepEqual([e.status, e.message], ['noop', "current_value '0600', should be '0644' (noop)"]);
    assert.equal(value(r.metrics.changes, 'total'), 0);
    assert.equal(value(r.metrics.resources, 'out_of_sync'), 1);
    assert.equal(value(r.metrics.events, 'noop'), 1);
    assert.equal(detailedExitCode(r), 0);
  });

  it('drift repair is a corrective change; redacted values stay redacted; autogroup members reach their own resource', () => {
    const r = puppetReport(
      input([
        rec(
          'file[/etc/motd]',
          'changed',
          [{ property: 'content', previous: '[redacted]', desired: '[redacted]', message: 'content changed', redacted: true }],
          {
            corrective: true,
          },
        ),
        rec('pkg[vim]', 'changed', [
          { property: 'state', previous: 'absent', desired: 'installed', message: 'installed vim', member: 'vim' },
          { property: 'state', previous: 'absent', desired: 'installed', message: 'installed curl', member: 'curl' },
        ]),
      ]),
    );
    assert.equal(r.corrective_change, true);
    const motd = r.resource_statuses['File[/etc/motd]']!;
    assert.deepEqual([motd.corrective_change, motd.events[0]!.redacted, motd.events[0]!.corrective_change], [true, true, true]);
    assert.equal(value(r.metrics.resources, 'corrective_change'), 1);
    assert.equal(r.resource_statuses['Package[curl]']!.change_count, 1);
    assert.equal(r.resource_statuses['Package[vim]']!.change_count, 1);
    assert.equal(r.resource_statuses['Package[curl]']!.events[0]!.name, 'package_created');
  });

  it('helpers: times as Ruby prints them, labels', () => {
    assert.equal(puppetTime(Date.parse('2026-01-02T03:04:05.678Z')), '2026-01-02T03:04:05.678000000+00:00');
    assert.equal(metricLabel('failed_to_restart'), 'Failed to restart');
    assert.equal(metricLabel('config_retrieval'), 'Config retrieval');
  });
});

describe('last-run files', () => {
  it('last_run_summary.yaml holds the metrics by name, versions, environments; last_run_report.yaml is the tagged report', async () => {
    const r = puppetReport(input([rec('file[/etc/motd]', 'changed', [{ property: 'mode', previous: '0600', desired: '0644', message: 'm' }])]));
    const s = lastRunSummary(r, 'production', T0);
    assert.deepEqual(s.version, { config: 1765033200, puppet: '7.23.0' });
    assert.deepEqual(s.changes, { total: 1 });
    assert.equal(s.resources.changed, 1);
    assert.equal(s.resources.total, 5);
    assert.deepEqual(s.events, { failure: 0, success: 1, total: 1 });
    assert.deepEqual(Object.keys(s.resources), [
      'changed',
      'corrective_change',
      'failed',
      'failed_to_restart',
      'out_of_sync',
      'restarted',
      'scheduled',
      'skipped',
      'total',
    ]);
    assert.deepEqual(Object.keys(s), ['version', 'application', 'resources', 'time', 'changes', 'events']);
    assert.equal(s.time.last_run, Math.floor(T0 / 1000));
    const dir = await mkdtemp(join(tmpdir(), 'mgmt-lastrun-'));
    try {
      const paths = { lastrunfile: join(dir, 'public', 'last_run_summary.yaml'), lastrunreport: join(dir, 'state', 'last_run_report.yaml') };
      await writeLastRun(r, paths);
      const summary = yaml.load(await readFile(paths.lastrunfile, 'utf8')) as Record<string, Record<string, unknown>>;
      assert.equal(summary.resources!.changed, 1);
      assert.equal(summary.version!.puppet, '7.23.0');
      assert.equal((await stat(paths.lastrunfile)).mode & 0o777, 0o640);
      const text = await readFile(paths.lastrunreport, 'utf8');
      assert.ok(text.startsWith('--- !ruby/object:Puppet::Transaction::Report\n'), text.slice(0, 80));
      assert.equal(text, reportYaml(r));
      const body = yaml.load(text.replace(/^--- !ruby\/object:\S+\n/, '')) as Record<string, unknown>;
      assert.equal(body.report_format, 12);
      assert.equal(body.status, 'changed');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
