/** The timer resource: sends an event every `interval` seconds; a refresh restarts the ticker. */
import { TIMER_MAX_S } from './params.js';
import { defineKind } from './resource.js';
import { untilAborted } from '../system/proc/abort.js';

const params = {
  interval: {
    type: 'integer',
    minimum: 1,
    maximum: TIMER_MAX_S,
    required: 'the seconds between ticks',
    doc: 'Seconds between ticks.',
  },
} as const;

export const timerKind = defineKind({
  kind: 'timer',
  doc: 'Sends an event every `interval` seconds, so that resources after it are re-checked on a schedule. It is always in its desired state, except that a refresh restarts the ticker and counts as a change.',
  params,
  refreshable: true,
  reach: { touches: ['nothing'], collect: 'plain' },
  create: (_name, p, ctx) => {
    let restart: (() => void) | undefined;
    return {
      async watch(w) {
        const ms = p.interval * 1000;
        let t: NodeJS.Timeout | undefined;
        const arm = () => {
          if (t) clearInterval(t);
          t = setInterval(() => w.event(), ms);
        };
        restart = arm;
        arm();
        w.event();
        await untilAborted(w.signal);
        if (t) clearInterval(t);
        restart = undefined;
      },
      async checkApply(c) {
        if (!c.refresh) return true;
        if (c.apply) {
          restart?.();
          ctx.log.info('refresh: ticker restarted');
        }
        return false;
      },
    };
  },
});
