/**
 * What a host resource does on the system (the kind, its parameters and checks: host.ts): reads the hosts table,
 * plans the entry's line and writes the table atomically under its lock; watches the file through its directory.
 */
import { type HostParams } from './host.js';
import { untilAborted } from '../system/proc/abort.js';
import { planHosts, type HostWant } from '../system/formats/hosts-text.js';
import { watchPath } from '../system/fs/path-watcher.js';
import { withFileLock } from '../system/fs/file-lock.js';
import { readTextIfExists, writeText } from '../system/fs/text-file.js';
import { type Resource, type ResourceContext } from './resource.js';

export function hostResource(name: string, p: HostParams, ctx: ResourceContext): Resource {
  const target = p.target;
  const want: HostWant | null = p.state === 'absent' ? null : { ip: p.ip, aliases: p.aliases, comment: p.comment };
  return {
    async watch(w) {
      const stop = watchPath(target, () => w.event());
      try {
        w.event();
        await untilAborted(w.signal);
      } finally {
        stop();
      }
    },
    checkApply: (c) =>
      withFileLock(target, async () => {
        const text = await readTextIfExists(target);
        const plan = planHosts(text ?? '', name, want, target);
        if (plan.changes.length === 0) return true;
        for (const change of plan.changes) {
          ctx.log.info(c.apply ? change : `would ${change}`);
          c.change?.({ property: 'state', message: c.apply ? change : `would ${change}` });
        }
        if (c.apply) await writeText(target, plan.text, text === undefined ? { mode: 0o644 } : {});
        return false;
      }),
  };
}
