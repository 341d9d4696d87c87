/**
 * The mount resource: a file system's entry in the fstab, and whether it is mounted. The name is the mount point.
 * Semantics follow mgmt's mount (state exists/absent, options as a map) and Puppet's mount type (the `unmounted`
 * and `defined` states, remounting on refresh and after the entry changed while mounted, `fstab` = Puppet's
 * `target`).
 *
 * Mounting is done with mount(8)/umount(8) (src/system/tools/mount-table.ts), with `--fstab` so that a table other than
 * /etc/fstab works too. "Mounted" means anything is mounted at the mount point, whatever its device, as Puppet
 * decides. The fstab is watched through its directory, the mount table through `findmnt --poll`, so an unmount by
 * hand or an edit of the table is repaired at once. Automatic edges put the mount after its mount point directory
 * and its fstab (when managed), and before every resource whose path lies below the mount point.
 */
import { isAbsolute, posix } from 'node:path';
import type { ParamsOf } from './params.js';
import { defineKind, type Problem } from './resource.js';
import { deferredResource } from './deferred-resource.js';
import { pathProblem } from '../system/fs/path-check.js';

export const DEFAULT_FSTAB = '/etc/fstab';

const STATES = ['exists', 'absent', 'unmounted', 'defined'] as const;

const params = {
  state: {
    type: 'string',
    enum: STATES,
    required: 'exists, unmounted, defined or absent',
    doc: '`exists`: in the fstab and mounted; `unmounted`: in the fstab and not mounted; `defined`: in the fstab, mounted or not (left alone); `absent`: unmounted and out of the fstab.',
  },
  device: {
    type: 'string',
    doc: 'What to mount: a device path, `UUID=...`, `LABEL=...`, `host:/export`, `tmpfs`... Needed to create the entry; unset keeps the device of an existing entry.',
  },
  type: { type: 'string', doc: 'The file system type (`ext4`, `tmpfs`, `nfs`...). Needed to create the entry; unset keeps the type of an existing entry.' },
  options: {
    type: 'map',
    doc: 'Mount options, in order: `{noatime: "", errors: panic}` is `noatime,errors=panic`; unset keeps the options of an existing entry, and a new entry gets `defaults`.',
  },
  freq: { type: 'integer', minimum: 0, default: 0, doc: 'The dump frequency (fifth field).' },
  passno: {
    type: 'integer',
    minimum: 0,
    default: 0,
    doc: 'The fsck pass number (sixth field): 0 skips the check, 1 is for the root file system, 2 for the others.',
  },
  fstab: {
    type: 'string',
    default: DEFAULT_FSTAB,
    doc: 'The table to edit (Puppet’s `target`); mount(8) is given it with `--fstab`, so another table works too. A new table is created with mode 0644.',
  },
} as const;

export type MountParams = ParamsOf<typeof params>;

const OPTION_KEY = /^[^\s,="]+$/;
const OPTION_VALUE = /^(?:"[^"\n]*"|[^\s,"]*)$/;

function validate(name: string, p: MountParams): Problem[] {
  const out: Problem[] = [];
  const badName = pathProblem(name);
  if (badName !== undefined) out.push({ message: `the mount point ${badName}` });
  else if (!name.startsWith('/')) out.push({ message: `the name must be the absolute mount point, got "${name}"` });
  else if (posix.normalize(name) !== name || (name.length > 1 && name.endsWith('/'))) {
    out.push({
      message: `the mount point "${name}" is not normalized (no "//", "/./", "/../" or trailing "/"); write "${posix.normalize(name).replace(/(.)\/$/, '$1')}"`,
    });
  }
  if (/[\n\0]/.test(name)) out.push({ message: 'the mount point contains a newline or NUL byte' });
  if (p.device !== undefined && (p.device === '' || /[\n\0]/.test(p.device))) out.push({ param: 'device', message: '`device` is empty or contains a newline' });
  if (p.type !== undefined && (p.type === '' || /\s/.test(p.type))) out.push({ param: 'type', message: `\`type\` "${p.type}" is empty or contains blanks` });
  for (const [k, v] of Object.entries(p.options ?? {})) {
    if (!OPTION_KEY.test(k)) out.push({ param: 'options', message: `option name "${k}" is empty or contains a blank, comma, "=" or quote` });
    if (!OPTION_VALUE.test(v))
      out.push({ param: 'options', message: `the value of option "${k}" contains a blank or an unquoted comma (quote it: "\\"a,b\\"")` });
  }
  const badFstab = pathProblem(p.fstab);
  if (badFstab !== undefined) out.push({ param: 'fstab', message: `\`fstab\` ${badFstab}` });
  else if (!isAbsolute(p.fstab) || p.fstab.endsWith('/'))
    out.push({ param: 'fstab', message: `\`fstab\` must be the absolute path of a file, got "${p.fstab}"` });
  if (p.type === 'swap' && (p.state === 'exists' || p.state === 'unmounted')) {
    out.push({ param: 'state', message: 'swap is not mounted (it is enabled with swapon); use state: defined to manage its fstab entry' });
  }
  return out;
}

export const mountKind = defineKind({
  kind: 'mount',
  doc: "A file system's entry in the fstab (`fstab`, default /etc/fstab) and whether it is mounted; the name is the mount point. The entry is the one line naming the mount point (further lines naming it are removed; every other line is kept byte for byte); a new line is written with tab-separated fields, as Puppet writes it. Mounting uses mount(8) with `--fstab`; anything mounted at the mount point counts as mounted. When the entry of a mounted file system changes, and on a refresh, it is remounted (`mount -o remount`, which applies new options, not a new device). The mount point directory is not created. The fstab and the mount table are watched, so an unmount by hand is repaired at once.",
  params,
  refreshable: true,
  reach: { touches: ['mounts', 'files'], collect: 'explicit' },
  validate,
  autoEdges: (name, p) => {
    const fstab = p.fstab;
    const dir = `${name === '/' ? '' : name}/`;
    // After the mount point directory, the table and managed ancestors; before whatever lies below the mount
    // point (as Puppet's autobefore; also when absent: the files then belong on the file system underneath).
    return { afterPath: [dir, fstab], afterNearestAncestor: [name], beforeBelow: [dir] };
  },
  create: (name, p, ctx) =>
    deferredResource(
      () => import('./mount-resource.js'),
      (m) => m.mountResource(name, p, ctx),
    ),
});
