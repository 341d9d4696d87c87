/**
 * Puppet `service` → `svc`. The vertex is `svc[<namevar>]` (the `name` attribute when given, else the title: the
 * unit is what the vertex names), and the origin stays `Service[<title>]`.
 * - ensure running/true → `state: running`, stopped/false → `state: stopped`; enable true/false → `startup:
 *   enabled/disabled`. `enable => mask` and the Windows modes `manual`/`delayed` go to the fallback (the old
 *   translator silently made them `disabled`).
 * - The provider resolved on the compiling host never matters (the old translator's bug 6): only an explicit
 *   provider other than systemd sends the resource to the fallback.
 * - hasstatus/hasrestart mean nothing under systemd and are dropped; custom commands (start, stop, restart, status)
 *   and process matching (binary, pattern) go to the fallback.
 * - A refresh runs reload-or-try-restart (svc's semantics): a unit with ExecReload is reloaded where Puppet's
 *   systemd provider would restart it.
 */
import { type SvcParams, svcKind } from '../../resources/svc.js';
import type { TypeRules } from '../rules.js';

const CUSTOM_COMMAND = 'custom service commands are not supported (systemd runs the unit)';
const PROCESS_MATCH = 'finding the service by its process is not supported (systemd knows the unit)';
const OTHER_PROVIDER = 'attribute of a provider other than systemd';

const unitName = (r: { readonly title: string; readonly parameters: Readonly<Record<string, unknown>> }): string =>
  typeof r.parameters.name === 'string' && r.parameters.name !== '' ? r.parameters.name : r.title;

export const serviceRules: TypeRules<SvcParams> = {
  type: 'Service',
  kind: 'svc',
  doc: 'A systemd unit, whatever init system the compiling host has. The vertex is `svc[<name>]` (the `name` attribute, else the title), so the unit is `<name>.service` unless the name has a unit suffix; the origin stays `Service[<title>]`. A refresh runs reload-or-try-restart: a unit that can reload is reloaded where Puppet would restart it.',
  name: unitName,
  attributes: {
    name: { do: 'use', doc: 'the vertex name (the unit)' },
    ensure: {
      do: 'map',
      to: 'state',
      values: { running: 'running', true: 'running', stopped: 'stopped', false: 'stopped' },
      message: 'ensure must be running or stopped',
    },
    enable: {
      do: 'map',
      to: 'startup',
      values: { true: 'enabled', false: 'disabled' },
      refuse: {
        mask: 'enable => mask is not supported (svc does not mask units)',
        manual: 'enable => manual/delayed are Windows start modes',
        delayed: 'enable => manual/delayed are Windows start modes',
      },
      message: 'enable must be true or false',
    },
    provider: { do: 'refuse', reason: 'only the systemd provider is supported', accept: ['systemd'] },
    hasstatus: { do: 'info', message: 'meaningless under systemd (its provider ignores it too)' },
    hasrestart: { do: 'info', message: 'meaningless under systemd (its provider ignores it too)' },
    path: { do: 'info', message: 'the init-script search path, unused under systemd' },
    start: { do: 'refuse', reason: CUSTOM_COMMAND },
    stop: { do: 'refuse', reason: CUSTOM_COMMAND },
    restart: { do: 'refuse', reason: CUSTOM_COMMAND },
    status: { do: 'refuse', reason: CUSTOM_COMMAND },
    binary: { do: 'refuse', reason: PROCESS_MATCH },
    pattern: { do: 'refuse', reason: PROCESS_MATCH },
    control: { do: 'refuse', reason: OTHER_PROVIDER },
    manifest: { do: 'refuse', reason: OTHER_PROVIDER },
    flags: { do: 'refuse', reason: OTHER_PROVIDER },
    logonaccount: { do: 'refuse', reason: OTHER_PROVIDER },
    logonpassword: { do: 'refuse', reason: OTHER_PROVIDER },
    timeout: { do: 'note', message: 'timeout is not supported (the unit’s own systemd timeouts apply)' },
  },
  checks: [
    {
      attribute: ['name', 'title'],
      outcome: 'fallback',
      message: 'not a valid systemd unit name',
      doc: 'the vertex name is not a valid unit name',
      // blamed on `name` when it is given, else on the title
      when: (ctx, a) => (a === 'name') === ctx.has('name') && svcKind.validate?.(unitName(ctx.resource), {})[0] !== undefined,
    },
  ],
  // Puppet's service type declares no automatic relationship.
  autorelations: [],
};
