/** The noop resource: a vertex that does nothing, useful to group and order other resources. */
import { defineKind } from './resource.js';
import { untilAborted } from '../system/proc/abort.js';

const params = {
  comment: { type: 'string', doc: 'Free text, ignored.' },
} as const;

export const noopKind = defineKind({
  kind: 'noop',
  doc: 'Does nothing and is always in its desired state; logs refreshes it receives. Useful as an ordering point.',
  params,
  refreshable: true,
  reach: { touches: ['nothing'], collect: 'plain' },
  create: (_name, _params, ctx) => ({
    async watch(w) {
      w.event();
      await untilAborted(w.signal);
    },
    async checkApply(c) {
      if (c.refresh) ctx.log.info(c.apply ? 'received a refresh' : 'would receive a refresh (noop)');
      return true;
    },
  }),
});
