/**
 * Puppet `group` → `group`. The vertex is `group[<name>]` (the namevar; the origin keeps `Group[<title>]`).
 * ensure present/absent → `state`; no ensure → `state: exists`: the group type's ensure defaults to present, so
 * even a bare `group{'g':}` creates the group (Puppet 7.23, checked with `puppet apply --noop`). `system` is
 * native. Membership lists (`members`, `auth_membership`) are not managed by our kind: fallback.
 */
import type { GroupParams } from '../../resources/group.js';
import { IS_FALSE, IS_TRUE, type TypeRules } from '../rules.js';
import { accountName, platformOnly } from './accounts.js';

export const groupRules: TypeRules<GroupParams> = {
  type: 'Group',
  kind: 'group',
  doc: 'A local group, managed with the shadow tools. The vertex is `group[<name>]` (the namevar; the origin keeps the title). Without ensure the group is created, as in Puppet.',
  name: accountName,
  attributes: {
    name: { do: 'use', doc: 'the vertex name (default: the title)' },
    ensure: {
      do: 'map',
      to: 'state',
      values: { present: 'exists', absent: 'absent' },
      default: 'present',
      doc: 'Puppet’s default for groups, even a bare one, is present',
    },
    gid: { do: 'carry', to: 'gid', as: 'id' },
    system: { do: 'carry', to: 'system', as: 'boolean', doc: 'used when the group is created, as in Puppet' },
    members: { do: 'refuse', reason: 'group members are not managed natively' },
    auth_membership: { do: 'refuse', reason: 'group members are not managed natively' },
    allowdupe: { do: 'refuse', reason: 'duplicate gids are not supported', accept: IS_FALSE },
    forcelocal: { do: 'info', message: 'our kind always reads and writes the local files', accept: IS_TRUE },
    provider: { do: 'refuse', reason: 'only the groupadd provider is supported', accept: ['groupadd'] },
    ...platformOnly('attribute_membership', 'attributes', 'ia_load_module'),
  },
  // Puppet's group type declares no automatic relationship.
  autorelations: [],
};
