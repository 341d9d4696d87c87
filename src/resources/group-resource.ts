/**
 * What a group resource does on the system (the kind, its parameters and checks: group.ts): creates, changes or
 * removes the group with groupadd, groupmod and groupdel, watching /etc/group.
 */
import { groupKind, type GroupParams, type Params } from './group.js';
import { normalizeComplete } from './normalize.js';
import { untilAborted } from '../system/proc/abort.js';
import { watchPath } from '../system/fs/path-watcher.js';
import { type AccountFiles, readGroups, runShadowTool, SYSTEM_ACCOUNTS } from '../system/tools/shadow.js';
import { type Resource, type ResourceContext } from './resource.js';

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
