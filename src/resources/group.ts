/**
 * The group resource: a local group in /etc/group, managed with groupadd/groupmod/groupdel. The resource name is
 * the group name (as in mgmt; a separate name parameter would collide with the YAML `name` key and would hide
 * the group from the user kind's autoedges, which find groups by vertex name).
 */
import { defineKind, type Problem } from './resource.js';
import { deferredResource } from './deferred-resource.js';
import type { ParamsOf, WrittenParamsOf } from './params.js';
import { invalidAccountName, MAX_ID } from '../system/tools/account-names.js';

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
export type Params = ParamsOf<typeof params>;

export function validateGroup(name: string, p: Params): Problem[] {
  const out: Problem[] = [];
  const bad = invalidAccountName(name);
  if (bad) out.push({ message: `the group name '${name}' ${bad}` });
  if (p.gid !== undefined && p.gid > MAX_ID) out.push({ param: 'gid', message: `gid ${p.gid} is out of range (0..${MAX_ID})` });
  return out;
}

export const groupKind = defineKind({
  kind: 'group',
  doc: "A local group in /etc/group, managed with groupadd, groupmod and groupdel; the resource name is the group name. It watches /etc/group, so a group removed or changed by hand is repaired at once. Removing a group that is some user's primary group fails (groupdel refuses): a `user` resource with `state: absent` naming it is ordered before it automatically.",
  params,
  refreshable: false,
  reach: { touches: ['accounts'], collect: 'explicit' },
  validate: validateGroup,
  create: (name, p, ctx) =>
    deferredResource(
      () => import('./group-resource.js'),
      (m) => m.createGroup(name, p, ctx),
    ),
});
