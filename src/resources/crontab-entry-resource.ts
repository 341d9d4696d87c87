/**
 * What a crontab entry does on the system (the kind, its parameters and checks: crontab-entry.ts): edits the user's
 * crontab through crontab(1) and watches the spool.
 */
import { schedule, type CrontabEntryParams } from './crontab-entry.js';
import { untilAborted } from '../system/proc/abort.js';
import { readCrontab, spoolFile, UnknownCrontabUser, writeCrontab } from '../system/tools/crontab.js';
import { formatSchedule, planCrontab, resolveEntry, type CronWant } from '../system/formats/crontab-text.js';
import { withFileLock } from '../system/fs/file-lock.js';
import { PASSWD_FILE } from '../system/tools/ids.js';
import { watchPath } from '../system/fs/path-watcher.js';
import { type Resource, type ResourceContext } from './resource.js';

export function crontabEntryResource(name: string, p: CrontabEntryParams, ctx: ResourceContext): Resource {
  const user = p.user;
  const spool = spoolFile(user);
  const sched = schedule(p).schedule;
  const want: CronWant =
    p.state === 'absent'
      ? p.command !== undefined
        ? { state: 'absent', match: { schedule: sched, command: p.command } }
        : { state: 'absent' }
      : { state: 'exists', entry: { schedule: sched, command: p.command ?? '', ...(p.environment !== undefined ? { environment: p.environment } : {}) } };
  const where = `${user}'s crontab`;

  return {
    async watch(w) {
      const stopSpool = watchPath(spool, () => w.event());
      const stopPasswd = watchPath(PASSWD_FILE, () => w.event());
      try {
        w.event();
        await untilAborted(w.signal);
      } finally {
        stopSpool();
        stopPasswd();
      }
    },

    checkApply: (c) =>
      withFileLock(spool, async () => {
        let text: string;
        try {
          text = await readCrontab(user, c.signal);
        } catch (e) {
          if (!(e instanceof UnknownCrontabUser)) throw e;
          if (want.state === 'absent') return true;
          if (!c.apply) {
            ctx.log.info(`would add the entry "${name}" to ${where}: ${formatSchedule(resolveEntry(want.entry).schedule)} (the user does not exist yet)`);
            return false;
          }
          throw e;
        }
        const plan = planCrontab(text, name, want, where);
        if (plan.changes.length === 0) return true;
        for (const change of plan.changes) {
          ctx.log.info(c.apply ? change : `would ${change}`);
          c.change?.({ property: 'state', message: c.apply ? change : `would ${change}` });
        }
        if (c.apply) await writeCrontab(user, plan.text, c.signal);
        return false;
      }),
  };
}
