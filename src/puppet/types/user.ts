/**
 * Puppet `user` → `user`. The vertex is `user[<name>]` (the namevar, not the title; the origin keeps
 * `User[<title>]`).
 * - ensure present → `state: exists`, absent → `state: absent`. Without ensure, Puppet defaults it to present
 *   when any property is given (uid, gid, groups, home, shell, comment...; not the parameters system, managehome,
 *   membership, allowdupe), and manages nothing otherwise (Puppet 7.23, checked with `puppet apply --noop`). So a
 *   bare `user{'u':}` becomes a native vertex with no `state`, which manages nothing, as Puppet does; it still
 *   orders, and execs running as `u` come after it.
 * - gid: a number → `gid`, a name → `group`. membership → `membership` (both values are native).
 * - Passwords, password ageing, expiry and SSH key purging are not managed by our kind: fallback.
 * - The provider resolved on the compiling host is ignored; only an explicit non-useradd provider falls back.
 */
import { REFUSED, type TypeRules, truthy } from '../rules.js';
import { accountName, idRule, numericId, platformOnly } from './accounts.js';

/** The user type's properties (not parameters) that our kind manages: giving one makes Puppet ensure present. */
const USER_PROPERTIES = ['uid', 'gid', 'groups', 'home', 'shell', 'comment'] as const;

export const userRules: TypeRules = {
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
      doc: 'not given: `exists` when a property (uid, gid, groups, home, shell, comment) is given, as Puppet defaults it; otherwise no `state` (Puppet manages nothing then); role → fallback',
    },
    uid: idRule('uid', 'uid'),
    gid: {
      do: 'use',
      doc: 'a number → `gid`, a group name → `group`',
    },
    groups: {
      do: 'map',
      to: 'groups',
      fn: (v, ctx) => {
        const l: unknown[] = Array.isArray(v) ? v : [v];
        if (l.some((g) => typeof g !== 'string' || g.includes(','))) {
          ctx.refuse('groups', 'groups must be a list of group names');
          return REFUSED;
        }
        if (l.some((g) => numericId(g) !== undefined)) {
          ctx.refuse('groups', 'groups given by number are not supported');
          return REFUSED;
        }
        return l;
      },
    },
    membership: { do: 'map', to: 'membership', values: { minimum: 'minimum', inclusive: 'inclusive' } },
    home: { do: 'map', to: 'home', fn: (v) => String(v) },
    managehome: { do: 'map', to: 'managehome', fn: (v) => truthy(v) },
    shell: { do: 'map', to: 'shell', fn: (v) => String(v) },
    comment: { do: 'map', to: 'comment', fn: (v) => String(v) },
    system: { do: 'map', to: 'system', fn: (v) => truthy(v), doc: 'used when the account is created, as in Puppet' },
    allowdupe: { do: 'map', to: 'allowduplicateuid', fn: (v) => truthy(v) },
    forcelocal: { do: 'drop', doc: 'our kind always reads and writes the local files' },
    provider: { do: 'refuse', reason: 'only the useradd provider is supported', accept: (v) => v === 'useradd' },
    password: { do: 'refuse', reason: 'passwords are not managed natively' },
    password_max_age: { do: 'refuse', reason: 'password ageing is not managed natively' },
    password_min_age: { do: 'refuse', reason: 'password ageing is not managed natively' },
    password_warn_days: { do: 'refuse', reason: 'password ageing is not managed natively' },
    expiry: { do: 'refuse', reason: 'account expiry is not managed natively' },
    purge_ssh_keys: { do: 'refuse', reason: 'SSH keys are not managed natively', accept: (v) => v === false || v === 'false' },
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
  finish: (ctx) => {
    if (ctx.has('gid')) {
      const v = ctx.value('gid');
      const n = numericId(v);
      if (n !== undefined) ctx.set('gid', n, 'gid');
      else if (typeof v === 'string' && v !== '') ctx.set('group', v, 'gid');
      else ctx.refuse('gid', 'not a group name or number');
    }
    // Puppet's ensure defaults to present on a resource that manages any property.
    if (!ctx.has('ensure') && USER_PROPERTIES.some((a) => ctx.has(a))) ctx.set('state', 'exists', []);
  },
};
