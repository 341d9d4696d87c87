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
import type { MountParams } from '../../resources/mount.js';
import { parseOptions } from '../../system/formats/fstab-text.js';
import { type Converter, refused, type TypeRules } from '../rules.js';
import { parentDir } from './auto.js';

const ENSURE: Readonly<Record<string, string>> = { mounted: 'exists', defined: 'defined', present: 'defined', unmounted: 'unmounted', absent: 'absent' };

/** Puppet's name munge: `value.gsub(%r{^(.+?)/*$}, '\1')`. */
export function mountPointOf(v: string): string {
  return v.length > 1 ? v.replace(/^(.+?)\/*$/, '$1') : v;
}

const mountPoint = (r: { readonly title: string; readonly parameters: Readonly<Record<string, unknown>> }): string =>
  mountPointOf(typeof r.parameters.name === 'string' ? r.parameters.name : r.title);

const optionsMap: Converter = {
  doc: 'the comma-separated string to the options map, in order',
  refuses: 'options that cannot be a map (an option given twice, an empty option)',
  convert: (v) => {
    const m = typeof v === 'string' ? parseOptions(v) : 'not a string';
    return typeof m === 'string' ? refused('options that cannot be a map (an option given twice, an empty option)') : m;
  },
};

const fstabPath: Converter = {
  doc: 'an absolute path',
  refuses: 'target is not an absolute path',
  convert: (v) => (typeof v === 'string' && v.startsWith('/') ? v : refused('target is not an absolute path')),
};

export const mountRules: TypeRules<MountParams> = {
  type: 'Mount',
  kind: 'mount',
  doc: 'An fstab entry and its mount state. The vertex is `mount[<mount point>]` (the namevar without trailing slashes).',
  name: mountPoint,
  attributes: {
    name: { do: 'use', doc: 'the vertex name (default: the title), trailing slashes removed' },
    ensure: { do: 'map', to: 'state', values: ENSURE },
    device: { do: 'carry', to: 'device', as: 'string' },
    fstype: { do: 'carry', to: 'type', as: 'string' },
    options: { do: 'carry', to: 'options', as: optionsMap, doc: 'unset: an existing entry keeps its options (a new one gets `defaults`)' },
    dump: { do: 'carry', to: 'freq', as: 'count', default: 0, doc: 'Puppet’s default for a managed entry' },
    pass: { do: 'carry', to: 'passno', as: 'count', default: 0, doc: 'Puppet’s default for a managed entry' },
    target: { do: 'carry', to: 'fstab', as: fstabPath },
    atboot: { do: 'info', message: 'atboot is a Solaris vfstab field; Linux fstab has no such column (Puppet ignores it on Linux too)' },
    blockdevice: { do: 'info', message: 'blockdevice is a Solaris vfstab field; Linux fstab has no such column (Puppet ignores it on Linux too)' },
    remounts: { do: 'refuse', reason: 'remounts => false (unmount and mount again on refresh) is not supported', accept: [true, 'true'] },
    provider: { do: 'refuse', reason: 'only the parsed provider is supported', accept: ['parsed'] },
  },
  checks: [
    { attribute: 'ensure', outcome: 'fallback', message: 'a mount without ensure is not supported', when: (ctx) => !ctx.has('ensure') },
    {
      attribute: 'name',
      outcome: 'fallback',
      message: 'a mount point that is not an absolute path (such as none for swap) is not supported',
      when: (ctx) => !mountPoint(ctx.resource).startsWith('/'),
    },
    {
      attribute: 'ensure',
      outcome: 'fallback',
      message: 'swap is enabled with swapon, not mounted',
      doc: 'fstype swap with ensure mounted or unmounted',
      when: (ctx) => ctx.get('type') === 'swap' && (ctx.get('state') === 'exists' || ctx.get('state') === 'unmounted'),
    },
  ],
  autorelations: [
    {
      relation: 'require',
      type: 'Mount',
      doc: 'every mount whose mount point is a directory above its own',
      names: (r) => {
        const out: string[] = [];
        for (let d = parentDir(mountPoint(r)); d !== undefined; d = parentDir(d)) out.push(d);
        return out;
      },
    },
    { relation: 'before', type: 'File', doc: 'every file below its mount point', names: (r, catalog) => catalog.filesBelow(mountPoint(r)) },
  ],
};
