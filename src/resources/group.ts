/**
 * The group resource: a local group in /etc/group, managed with groupadd/groupmod/groupdel. The resource name is
 * the group name (as in mgmt; a separate name parameter would collide with the YAML `name` key and would hide
 * the group from the user kind's autoedges, which find groups by vertex name).
 */
import { defineKind, type Problem, type Resource, type ResourceContext } from './resource.js';
import { normalizeComplete } from './normalize.js';
import type { ParamsOf, WrittenParamsOf } from './params.js';
import { untilAborted } from '../system/proc/abort.js';
import { watchPath } from '../system/fs/path-watcher.js';
import { type AccountFiles, invalidAccountName, MAX_ID, readGroups, runShadowTool, SYSTEM_ACCOUNTS } from '../system/tools/shadow.js';

const params = {
  state: {
    type: 'string',
    enum: ['exists', 'absent'],
    doc: "`exists` creates the group, `absent` removes it. Unset (mgmt requires it; Puppet's bare `group{'g':}`): the group is neither created nor removed, and `gid` is enforced only while it exists.",
  },
  gid: { type: 'integer', minimum: 0, doc: 'The numeric group id; unset: chosen by groupadd when created, and not checked after.' },
  system: {
    type: 'boolean',
    default: false,
    doc: 'Create it as a system group (`groupadd --system`: a gid from the system range); only used when the group is created.',
  },
} as const;

/** The parameters of a group resource as a spec writes them (what `createGroup` takes). */
export type GroupParams = WrittenParamsOf<typeof params>;

/** The parameters the kind receives, normalized. */
type Params = ParamsOf<typeof params>;

export function validateGroup(name: string, p: Params): Problem[] {
  const out: Problem[] = [];
  const bad = invalidAccountName(name);
  if (bad) out.push({ message: `the group name '${name}' ${bad}` });
  if (p.gid !== undefined && p.gid > MAX_ID) out.push({ param: 'gid', message: `gid ${p.gid} is out of range (0..${MAX_ID})` });
  return out;
}

/** The resource, on any account files (tests pass a scratch root; the kind uses the real system). */
export function createGroup(name: string, written: GroupParams, ctx: ResourceContext, files: AccountFiles = SYSTEM_ACCOUNTS): Resource {
  const p = normalizeComplete(groupKind, name, written) as Params;
  const tool = (t: 'groupadd' | 'groupmod' | 'groupdel', args: string[], signal: AbortSignal) =>
    runShadowTool(t, [...args, name], { root: files.root, signal }).then((warnings) => warnings.forEach((w) => ctx.log.warn(w)));
  return {
    async watch(w) {
      const stop = watchPath(files.group, () => w.event());
      try {
        w.event();
        await untilAborted(w.signal);
      } finally {
        stop();
      }
    },

    async checkApply(c) {
      const groups = await readGroups(files);
      const cur = groups.find((g) => g.name === name);
      if (p.state === 'absent') {
        if (!cur) return true;
        const removed = (message: string) => c.change?.({ property: 'state', previous: 'exists', desired: 'absent', message });
        if (!c.apply) {
          ctx.log.info('would remove the group');
          removed('would remove the group');
          return false;
        }
        await tool('groupdel', [], c.signal);
        ctx.log.info('removed the group');
        removed('removed the group');
        return false;
      }
      const taken = p.gid !== undefined ? groups.find((g) => g.gid === p.gid && g.name !== name) : undefined;
      if (!cur) {
        if (p.state === undefined) {
          ctx.log.debug('the group does not exist and `state` is unset: nothing to manage');
          return true;
        }
        if (taken) throw new Error(`cannot create the group with gid ${p.gid}: group '${taken.name}' already has it`);
        const args = [...(p.gid !== undefined ? ['--gid', String(p.gid)] : []), ...(p.system ? ['--system'] : [])];
        const created = (message: string) => c.change?.({ property: 'state', previous: 'absent', desired: 'exists', message });
        if (!c.apply) {
          ctx.log.info(`would create the group${describeArgs(p)}`);
          created(`would create the group${describeArgs(p)}`);
          return false;
        }
        await tool('groupadd', args, c.signal);
        ctx.log.info(`created the group${describeArgs(p)}`);
        created(`created the group${describeArgs(p)}`);
        return false;
      }
      if (p.gid === undefined || cur.gid === p.gid) return true;
      if (taken) throw new Error(`cannot change the gid ${cur.gid} -> ${p.gid}: group '${taken.name}' already has ${p.gid}`);
      const gid = (message: string) => c.change?.({ property: 'gid', previous: cur.gid, desired: p.gid, message });
      if (!c.apply) {
        ctx.log.info(`would change gid ${cur.gid} -> ${p.gid}`);
        gid(`would change gid ${cur.gid} -> ${p.gid}`);
        return false;
      }
      await tool('groupmod', ['--gid', String(p.gid)], c.signal);
      ctx.log.info(`gid ${cur.gid} -> ${p.gid}`);
      gid(`gid ${cur.gid} -> ${p.gid}`);
      return false;
    },
  };
}

function describeArgs(p: Params): string {
  const parts = [...(p.gid !== undefined ? [`gid ${p.gid}`] : []), ...(p.system ? ['system'] : [])];
  return parts.length ? ` (${parts.join(', ')})` : '';
}

export const groupKind = defineKind({
  kind: 'group',
  doc: "A local group in /etc/group, managed with groupadd, groupmod and groupdel; the resource name is the group name. It watches /etc/group, so a group removed or changed by hand is repaired at once. Removing a group that is some user's primary group fails (groupdel refuses): a `user` resource with `state: absent` naming it is ordered before it automatically.",
  params,
  refreshable: false,
  reach: { touches: ['accounts'], collect: 'explicit' },
  validate: validateGroup,
  create: (name, p, ctx) => createGroup(name, p, ctx),
});
