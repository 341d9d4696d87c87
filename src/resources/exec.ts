/**
 * The exec resource: runs a command when its guards say the state is wrong. Refreshable (unlike mgmt's): a
 * refresh over a notify edge makes it run, and `refreshonly` makes it run only then (Puppet's `refreshonly`).
 */
import { isAbsolute, posix } from 'node:path';
import { accountRefProblem } from './account-ref.js';
import { defineKind, type Problem } from './resource.js';
import { deferredResource } from './deferred-resource.js';
import { TIMER_MAX_S, type ParamsOf, type WrittenParamsOf } from './params.js';
import { pathProblem } from '../system/fs/path-check.js';

const params = {
  cmd: {
    type: 'string',
    doc: "The command to run; defaults to the resource name. Without `shell` it is split on whitespace into argv with no quote handling (mgmt's semantics), so use `shell` for quoting, pipes or expansions.",
  },
  args: { type: 'string[]', doc: 'Extra arguments appended to the argv split from `cmd`; not allowed together with `shell`.' },
  shell: { type: 'string', emptyIsUnset: true, doc: 'A shell (such as `/bin/sh`) that runs `cmd` as `<shell> -c <cmd>`.' },
  cwd: { type: 'string', emptyIsUnset: true, doc: "Absolute working directory of `cmd`; unset: the engine's own." },
  env: {
    type: 'map',
    doc: 'The complete environment of `cmd` and of the guard and watch commands; unset means an empty environment, where programs are looked up in `/usr/bin:/bin`.',
  },
  user: {
    type: 'string',
    emptyIsUnset: true,
    doc: "User name (from /etc/passwd, else NSS) or uid that runs `cmd` and the guard and watch commands (needs root); without `group`, the user's primary group is used. A `user` resource of that name is applied first.",
  },
  group: {
    type: 'string',
    emptyIsUnset: true,
    doc: 'Group name (from /etc/group, else NSS) or gid that runs `cmd` and the guard and watch commands (needs root). A `group` resource of that name is applied first.',
  },
  ifcmd: {
    type: 'string',
    emptyIsUnset: true,
    doc: "Guard: `cmd` runs only if this command exits 0; a non-zero exit means the state is already right (Puppet's `onlyif`).",
  },
  ifshell: { type: 'string', emptyIsUnset: true, doc: 'A shell that runs `ifcmd` as `<shell> -c <ifcmd>`; unset: `ifcmd` is split on whitespace.' },
  ifcwd: { type: 'string', emptyIsUnset: true, doc: "Absolute working directory of `ifcmd`; unset: the engine's own." },
  nifcmd: {
    type: 'string',
    emptyIsUnset: true,
    doc: "Inverse guard: when this command exits 0 the state is already right and `cmd` does not run (Puppet's `unless`).",
  },
  nifshell: { type: 'string', emptyIsUnset: true, doc: 'A shell that runs `nifcmd` as `<shell> -c <nifcmd>`; unset: `nifcmd` is split on whitespace.' },
  nifcwd: { type: 'string', emptyIsUnset: true, doc: "Absolute working directory of `nifcmd`; unset: the engine's own." },
  creates: {
    type: 'string',
    emptyIsUnset: true,
    doc: 'Absolute path: `cmd` does not run while it exists; the path is watched, so removing it makes `cmd` run again.',
  },
  watchcmd: {
    type: 'string',
    emptyIsUnset: true,
    doc: 'A long-running command whose every output line means the state may have drifted; its exit (even with code 0) is a watch error, retried per the `retry` metaparam.',
  },
  watchshell: { type: 'string', emptyIsUnset: true, doc: 'A shell that runs `watchcmd` as `<shell> -c <watchcmd>`; unset: `watchcmd` is split on whitespace.' },
  watchcwd: { type: 'string', emptyIsUnset: true, doc: "Absolute working directory of `watchcmd`; unset: the engine's own." },
  refreshonly: {
    type: 'boolean',
    default: false,
    doc: "Run `cmd` only when a refresh arrives over a notify edge (Puppet's `refreshonly`); the guards still apply then.",
  },
  timeout: {
    type: 'integer',
    minimum: 0,
    maximum: TIMER_MAX_S,
    doc: 'Old mgmt spelling of the run deadline, in seconds.',
    deprecated: 'use meta: {timeout: <milliseconds>}',
    toMeta: (v: unknown) => (typeof v === 'number' && v > 0 ? { timeout: v * 1000 } : undefined),
  },
  pollint: {
    type: 'integer',
    minimum: 0,
    maximum: TIMER_MAX_S,
    doc: 'Old mgmt spelling of the polling interval, in seconds.',
    deprecated: 'use meta: {poll: <seconds>}',
    toMeta: (v: unknown) => (typeof v === 'number' && v > 0 ? { poll: v } : undefined),
  },
  state: {
    type: 'string',
    enum: ['present', 'exists', ''],
    doc: 'Old mgmt parameter without effect.',
    deprecated: 'exec has no state; remove it',
    toMeta: () => undefined,
  },
} as const;

/** The parameters of an exec resource as a spec writes them (the registry's kind is type-erased). */
export type ExecParams = WrittenParamsOf<typeof params>;
/** The parameters an exec resource runs with: normalized, `cmd` defaulted to the name. */
export type ExecRunParams = ParamsOf<typeof params, 'cmd'>;

const ABSOLUTE_PARAMS = ['cwd', 'ifcwd', 'nifcwd', 'watchcwd', 'creates'] as const;

export const execKind = defineKind({
  kind: 'exec',
  doc: "Runs a command when its guards (`ifcmd`, `nifcmd`, `creates`) say the state is wrong; a zero exit counts as a change and a non-zero exit is an error. Without guards it runs once per watch event: once at start, then on each `watchcmd` line, change of `creates`, refresh, or `meta.poll` tick. It is refreshable: a refresh over a notify edge makes it run (still subject to its guards), and `refreshonly` makes it run only then. Cancelling or timing out (`meta.timeout`) kills the command's whole process group, as does the command's exit: anything it left running in the background is killed, so start daemons through a service manager or `setsid`.",
  params,
  nameParam: 'cmd',
  refreshable: true,
  reach: { touches: ['commands'], collect: 'explicit' },
  validate: (_name, p) => {
    const out: Problem[] = [];
    if (p.cmd.trim() === '') out.push({ param: 'cmd', message: 'exec needs a command: `cmd` (or else the name) is empty' });
    if (p.shell !== undefined && p.args !== undefined && p.args.length > 0) {
      out.push({ param: 'args', message: '`args` cannot be used with `shell`: put the arguments in `cmd`' });
    }
    for (const key of ['ifcmd', 'nifcmd', 'watchcmd'] as const) {
      const v = p[key];
      if (v?.trim() === '') out.push({ param: key, message: `\`${key}\` is blank` });
    }
    for (const key of ABSOLUTE_PARAMS) {
      const v = p[key];
      const bad = v === undefined ? undefined : pathProblem(v);
      if (bad !== undefined) out.push({ param: key, message: `\`${key}\` ${bad}` });
      else if (v !== undefined && !isAbsolute(v)) out.push({ param: key, message: `\`${key}\` must be an absolute path, got '${v}'` });
    }
    for (const [k, v] of Object.entries(p.env ?? {})) {
      if (k === '' || k.includes('=') || k.includes('\0')) out.push({ param: 'env', message: `invalid environment variable name '${k}'` });
      if (v.includes('\0')) out.push({ param: 'env', message: `environment variable '${k}' contains a NUL byte` });
    }
    for (const key of ['user', 'group'] as const) {
      const v = p[key];
      const why = v === undefined ? undefined : accountRefProblem(key, v);
      if (why) out.push({ param: key, message: `\`${key}\` ${why}` });
    }
    if ((p.user !== undefined || p.group !== undefined) && process.getuid?.() !== 0) {
      out.push({ param: p.user !== undefined ? 'user' : 'group', message: '`user` and `group` need the engine to run as root' });
    }
    return out;
  },
  autoEdges: (_name, { cwd, user, group }) => {
    const hints: { afterPath?: string[]; afterVertex?: { kind: string; name: string }[] } = {};
    if (cwd !== undefined) {
      const dir = posix.normalize(cwd);
      hints.afterPath = [dir.endsWith('/') ? dir : `${dir}/`];
    }
    // After the user and group it runs as, when the graph manages them by name (Puppet's autorequire).
    const vertices = [
      ...(user !== undefined && !/^[0-9]+$/.test(user) ? [{ kind: 'user', name: user }] : []),
      ...(group !== undefined && !/^[0-9]+$/.test(group) ? [{ kind: 'group', name: group }] : []),
    ];
    if (vertices.length) hints.afterVertex = vertices;
    return hints;
  },
  create: (name, p, ctx) =>
    deferredResource(
      () => import('./exec-resource.js'),
      (m) => m.execResource(name, p, ctx),
    ),
});
