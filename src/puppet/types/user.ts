/**
 * Puppet `user` → `user`. The vertex is `user[<name>]` (the namevar, not the title; the origin keeps
 * `User[<title>]`).
 * - ensure present → `state: exists`, absent → `state: absent`. Without ensure, Puppet defaults it to present
 *   when any property is given (uid, gid, groups, home, shell, comment...; not the parameters system, managehome,
 *   membership, allowdupe), and manages nothing otherwise (Puppet 7.23, checked with `puppet apply --noop`). So a
 *   bare `user{'u':}` becomes a native vertex with no `state`, which manages nothing, as Puppet does; it still
 *   orders, and execs running as `u` come after it.
 * - gid: a number → `gid`, a name → `group`. membership → `membership` (both values are native).
 * - password: the hash, set through chpasswd; always Sensitive (the type declares `sensitive true`), so it is
 *   redacted from every output even when the manifest does not wrap it. Password ageing, expiry and SSH key
 *   purging are not managed by our kind: fallback.
 * - The provider resolved on the compiling host is ignored; only an explicit non-useradd provider falls back.
 */
import type { UserParams } from '../../resources/user.js';
import { textOf } from '../catalog.js';
import { type Converter, type Derivation, IS_FALSE, IS_TRUE, numericId, refused, type TypeRules } from '../rules.js';
import { accountName, platformOnly } from './accounts.js';

/** The user type's properties (not parameters) that our kind manages: giving one makes Puppet ensure present. */
const USER_PROPERTIES = ['uid', 'gid', 'groups', 'home', 'shell', 'comment', 'password'] as const;

const groupNames: Converter = {
  doc: 'to a list of group names (a string is one group)',
  refuses: 'groups must be a list of group names; groups given by number are not supported',
  convert: (v) => {
    const l: unknown[] = Array.isArray(v) ? v : [v];
    if (l.some((g) => typeof g !== 'string' || g.includes(','))) return refused('groups must be a list of group names');
    if (l.some((g) => numericId(g) !== undefined)) return refused('groups given by number are not supported');
    return l;
  },
};

/** The type's validation: a string without ':' (Puppet refuses it); a line break would corrupt the shadow line. */
const passwordHash: Converter = {
  doc: 'the hash as it is (a string without `:` or a line break)',
  refuses: 'the password is not a string without a colon or a line break',
  convert: (v) => (typeof v === 'string' && !/[:\r\n]/.test(v) ? v : refused('the password is not a string without a colon or a line break')),
};

/** Puppet's gid is a number or a group name: the number goes to `gid`, the name to `group`. */
const gidNumber: Derivation = {
  doc: 'a number (or numeric string) → `gid`',
  derive: (ctx) => (ctx.has('gid') ? numericId(ctx.value('gid')) : undefined),
};

const gidName: Derivation = {
  doc: 'a group name → `group`',
  derive: (ctx) => {
    if (!ctx.has('gid')) return undefined;
    const v = ctx.value('gid');
    if (numericId(v) !== undefined) return undefined;
    return typeof v === 'string' && v !== '' ? v : refused('not a group name or number');
  },
};

export const userRules: TypeRules<UserParams> = {
  type: 'User',
  kind: 'user',
  doc: "A local account, managed with the shadow tools. The vertex is `user[<name>]` (the namevar; the origin keeps the title). A bare `user{'u':}` manages nothing, as in Puppet.",
  name: accountName,
  attributes: {
    name: { do: 'use', doc: 'the vertex name (default: the title)' },
    ensure: {
      do: 'map',
      to: 'state',
      values: { present: 'exists', absent: 'absent' },
      default: 'present',
      defaultIf: USER_PROPERTIES,
      doc: 'Puppet defaults it to present when a property is given; otherwise no `state` (Puppet manages nothing then)',
    },
    uid: { do: 'carry', to: 'uid', as: 'id' },
    groups: { do: 'carry', to: 'groups', as: groupNames },
    membership: { do: 'map', to: 'membership', values: { minimum: 'minimum', inclusive: 'inclusive' } },
    home: { do: 'carry', to: 'home', as: 'string' },
    managehome: { do: 'carry', to: 'managehome', as: 'boolean' },
    shell: { do: 'carry', to: 'shell', as: 'string' },
    comment: { do: 'carry', to: 'comment', as: 'string' },
    system: { do: 'carry', to: 'system', as: 'boolean', doc: 'used when the account is created, as in Puppet' },
    allowdupe: { do: 'carry', to: 'allowduplicateuid', as: 'boolean' },
    forcelocal: { do: 'info', message: 'our kind always reads and writes the local files', accept: IS_TRUE },
    provider: { do: 'refuse', reason: 'only the useradd provider is supported', accept: ['useradd'] },
    password: { do: 'carry', to: 'password', as: passwordHash },
    password_max_age: { do: 'refuse', reason: 'password ageing is not managed natively' },
    password_min_age: { do: 'refuse', reason: 'password ageing is not managed natively' },
    password_warn_days: { do: 'refuse', reason: 'password ageing is not managed natively' },
    expiry: { do: 'refuse', reason: 'account expiry is not managed natively' },
    purge_ssh_keys: { do: 'refuse', reason: 'SSH keys are not managed natively', accept: IS_FALSE },
    ...platformOnly(
      'attribute_membership',
      'attributes',
      'auth_membership',
      'auths',
      'ia_load_module',
      'iterations',
      'key_membership',
      'keys',
      'loginclass',
      'profile_membership',
      'profiles',
      'project',
      'role_membership',
      'roles',
      'salt',
    ),
  },
  sensitive: ['password'],
  derive: {
    gid: { from: ['gid'], by: gidNumber },
    group: { from: ['gid'], by: gidName },
  },
  autorelations: [
    {
      relation: 'require',
      type: 'Group',
      doc: 'its `gid` (a name; a numeric gid: the Group whose `gid` it is) and its `groups` (`roles`, Solaris only, are not translated)',
      names: (r, catalog) => {
        const out: string[] = [];
        const gid = r.parameters.gid;
        for (const g of Array.isArray(gid) ? gid : gid === undefined ? [] : [gid]) {
          const id = numericId(g);
          if (id !== undefined) out.push(...catalog.withId('Group', 'gid', id));
          else if (typeof g === 'string' && g !== '') out.push(g);
        }
        const groups = r.parameters.groups;
        const list = Array.isArray(groups) ? groups.map(textOf).join(',') : typeof groups === 'string' ? groups : '';
        if (list !== '') out.push(...list.split(','));
        return out;
      },
    },
  ],
};
