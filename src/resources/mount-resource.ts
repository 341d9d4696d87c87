/**
 * What a mount resource does on the system (the kind, its parameters and checks: mount.ts): edits the fstab entry and
 * mounts, remounts or unmounts, watching the mount table.
 */
import { type MountParams } from './mount.js';
import { untilAborted } from '../system/proc/abort.js';
import { formatOptions, planFstab, type FstabWant } from '../system/formats/fstab-text.js';
import { mount, mountedAt, remount, umount, watchMountPoint } from '../system/tools/mount-table.js';
import { watchPath } from '../system/fs/path-watcher.js';
import { withFileLock } from '../system/fs/file-lock.js';
import { readTextIfExists, writeText } from '../system/fs/text-file.js';
import { type Change, type Resource, type ResourceContext } from './resource.js';

export function mountResource(name: string, p: MountParams, ctx: ResourceContext): Resource {
  const { fstab, state } = p;
  const want: FstabWant | null =
    state === 'absent'
      ? null
      : {
          device: p.device,
          type: p.type,
          options: p.options === undefined ? undefined : formatOptions(p.options) || 'defaults',
          freq: p.freq,
          passno: p.passno,
        };

  /** Makes the fstab right; returns the changes (made, or that would be made). */
  const syncFstab = (apply: boolean, record: (x: Change) => void): Promise<readonly string[]> =>
    withFileLock(fstab, async () => {
      const text = await readTextIfExists(fstab);
      const plan = planFstab(text ?? '', name, want, fstab);
      if (plan.changes.length === 0) return [];
      for (const c of plan.changes) {
        ctx.log.info(apply ? c : `would ${c}`);
        record({ property: 'state', message: apply ? c : `would ${c}` });
      }
      if (apply) await writeText(fstab, plan.text, text === undefined ? { mode: 0o644 } : {});
      return plan.changes;
    });

  const isMounted = async () => (await mountedAt(name)) !== undefined;

  return {
    async watch(w) {
      const stops: (() => unknown)[] = [];
      try {
        stops.push(watchPath(fstab, () => w.event()));
        stops.push(await watchMountPoint(name, () => w.event()));
        w.event();
        await untilAborted(w.signal);
      } finally {
        await Promise.all(stops.map((stop) => stop()));
      }
    },

    async checkApply(c) {
      let ok = true;
      const mounted = await isMounted();
      if (state === 'absent' || state === 'unmounted') {
        if (mounted) {
          ok = false;
          if (c.apply) {
            await umount(name, c.signal);
            ctx.log.info(`unmounted ${name}`);
            c.change?.({ property: 'state', previous: 'mounted', desired: 'unmounted', message: `unmounted ${name}` });
          } else {
            ctx.log.info(`would unmount ${name}`);
            c.change?.({ property: 'state', previous: 'mounted', desired: 'unmounted', message: `would unmount ${name}` });
          }
        }
        if ((await syncFstab(c.apply, (x) => c.change?.(x))).length > 0) ok = false;
        return ok;
      }
      // exists, defined: the table first (mount reads it), then the mount.
      const changed = (await syncFstab(c.apply, (x) => c.change?.(x))).length > 0;
      if (changed) ok = false;
      if (state === 'exists' && !mounted) {
        ok = false;
        if (c.apply) {
          await mount(name, fstab, c.signal);
          ctx.log.info(`mounted ${name}`);
          c.change?.({ property: 'state', previous: 'unmounted', desired: 'mounted', message: `mounted ${name}` });
        } else {
          ctx.log.info(`would mount ${name}`);
          c.change?.({ property: 'state', previous: 'unmounted', desired: 'mounted', message: `would mount ${name}` });
        }
      } else if (mounted && (changed || c.refresh)) {
        // Puppet's mount refreshes itself after a change, and on a refresh remounts what is mounted.
        ok = false;
        const why = changed ? 'its entry changed' : 'refresh';
        if (c.apply) {
          await remount(name, fstab, c.signal);
          ctx.log.info(`remounted ${name} (${why})`);
          c.change?.({ property: 'state', message: `remounted ${name} (${why})` });
        } else {
          ctx.log.info(`would remount ${name} (${why})`);
          c.change?.({ property: 'state', message: `would remount ${name} (${why})` });
        }
      }
      return ok;
    },
  };
}
