/**
 * Puppet `mount` (mount_core) → `mount`. The vertex is `mount[<mount point>]`: the namevar with its trailing
 * slashes removed, as Puppet munges it.
 * - ensure: mounted → exists, defined/present → defined, unmounted → unmounted, absent → absent. A mount without
 *   ensure goes to the fallback (Puppet then syncs properties of an entry it does not create; we have no state for
 *   that).
 * - fstype → type, dump → freq, pass → passno; unless absent, freq and passno are always written, 0 when not given
 *   (Puppet's defaults for a managed mount).
 * - options: the comma-separated string becomes the ordered options map (`noatime,errors=panic` →
 *   `{noatime: "", errors: panic}`); an option given twice cannot be a map key → fallback. Unset: the entry keeps
 *   its options (a new entry gets `defaults`), as in Puppet.
 * - target → `fstab`.
 * - atboot and blockdevice are Solaris vfstab fields: Puppet's Linux provider has no column for them, so they are
 *   dropped with a note. remounts => false (unmount and mount again on refresh) → fallback; true is our behaviour.
 */
import { parseOptions } from '../../system/formats/fstab-text.js';
import { REFUSED, type RuleContext, type TypeRules } from '../rules.js';

const ENSURE: Readonly<Record<string, string>> = { mounted: 'exists', defined: 'defined', present: 'defined', unmounted: 'unmounted', absent: 'absent' };

/** Puppet's name munge: `value.gsub(%r{^(.+?)/*$}, '\1')`. */
export function mountPointOf(v: string): string {
  return v.length > 1 ? v.replace(/^(.+?)\/*$/, '$1') : v;
}

function count(attr: string, v: unknown, ctx: RuleContext): number | typeof REFUSED {
  const s = String(v);
  if (/^[0-9]+$/.test(s)) return Number(s);
  ctx.refuse(attr, 'not a non-negative integer');
  return REFUSED;
}

export const mountRules: TypeRules = {
  type: 'Mount',
  kind: 'mount',
  doc: 'An fstab entry and its mount state. The vertex is `mount[<mount point>]` (the namevar without trailing slashes).',
  name: (r) => mountPointOf(typeof r.parameters.name === 'string' ? r.parameters.name : r.title),
  attributes: {
    name: { do: 'use', doc: 'the vertex name (default: the title), trailing slashes removed' },
    ensure: { do: 'map', to: 'state', values: ENSURE, doc: 'without ensure: fallback' },
    device: { do: 'map', to: 'device', fn: (v) => String(v) },
    fstype: { do: 'map', to: 'type', fn: (v) => String(v) },
    options: {
      do: 'map',
      to: 'options',
      fn: (v, ctx) => {
        const m = typeof v === 'string' ? parseOptions(v) : 'not a string';
        if (typeof m === 'string') {
          ctx.refuse('options', 'options that cannot be a map (an option given twice, an empty option)');
          return REFUSED;
        }
        return m;
      },
      doc: 'the options map, in order; an option given twice → fallback',
    },
    dump: { do: 'map', to: 'freq', fn: (v, ctx) => count('dump', v, ctx), doc: '0 when not given' },
    pass: { do: 'map', to: 'passno', fn: (v, ctx) => count('pass', v, ctx), doc: '0 when not given' },
    target: {
      do: 'map',
      to: 'fstab',
      fn: (v, ctx) => {
        if (typeof v === 'string' && v.startsWith('/')) return v;
        ctx.refuse('target', 'target is not an absolute path');
        return REFUSED;
      },
    },
    atboot: { do: 'note', message: 'atboot is a Solaris vfstab field; Linux fstab has no such column' },
    blockdevice: { do: 'note', message: 'blockdevice is a Solaris vfstab field; Linux fstab has no such column' },
    remounts: {
      do: 'refuse',
      reason: 'remounts => false (unmount and mount again on refresh) is not supported',
      accept: (v) => v === true || v === 'true',
    },
    provider: { do: 'refuse', reason: 'only the parsed provider is supported', accept: (v) => v === 'parsed' },
  },
  finish: (ctx) => {
    if (!ctx.has('ensure')) ctx.refuse('ensure', 'a mount without ensure is not supported');
    if (!mountRules.name(ctx.resource).startsWith('/'))
      ctx.refuse('name', 'a mount point that is not an absolute path (such as none for swap) is not supported');
    const state = ctx.get('state');
    if (ctx.get('type') === 'swap' && (state === 'exists' || state === 'unmounted')) ctx.refuse('ensure', 'swap is enabled with swapon, not mounted');
    if (state !== 'absent') {
      if (ctx.get('freq') === undefined) ctx.set('freq', 0, []);
      if (ctx.get('passno') === undefined) ctx.set('passno', 0, []);
    }
  },
};
