/** The file kind's parameters. */
import type { ParamsOf } from '../params.js';

export const params = {
  path: {
    type: 'string',
    doc: 'Absolute, normalized path to manage; defaults to the resource name, and a trailing `/` means a directory.',
  },
  state: {
    type: 'string',
    enum: ['exists', 'absent', ''],
    emptyIsUnset: true,
    doc: '`exists` creates the path if missing, `absent` removes it; unset leaves existence alone: owner, group and mode only apply to a path that already exists (a missing path is in sync, as a Puppet File without ensure), and content or source with a missing path is an error.',
  },
  content: {
    type: 'string',
    doc: 'The exact content of the file; unset leaves the content alone, while an empty string makes the file empty.',
  },
  source: {
    type: 'string',
    emptyIsUnset: true,
    doc: 'Absolute path of a local file to copy, or of a directory to copy recursively like rsync (the path must end with `/` and `recurse` must be set; copied entries keep the source permission bits); with `symlink`, the link target, which may be relative.',
  },
  owner: {
    type: 'string',
    doc: 'The owner, as a user name (from /etc/passwd, else NSS such as LDAP or SSSD) or a numeric uid; unset keeps the current owner.',
  },
  group: { type: 'string', doc: 'The group, as a group name (from /etc/group, else NSS) or a numeric gid; unset keeps the current group.' },
  mode: {
    type: 'string',
    doc: 'Permissions as an octal string (`"0644"`, `"1777"`) or chmod-style symbolic clauses (`"u=rw,go=r"`, `"a+x"`); unset keeps the current mode, and new files get 0644, new directories 0755.',
  },
  recurse: {
    type: 'boolean',
    default: false,
    doc: 'Create missing parent directories, remove a directory together with its contents when absent, and copy and watch a directory source recursively.',
  },
  force: {
    type: 'boolean',
    default: false,
    doc: 'Allow replacing an object of another type at the path (a regular file, directory or symlink) and removing a directory when absent.',
  },
  replacenondir: {
    type: 'boolean',
    default: false,
    doc: 'Replace a regular file or symlink of another type at the path without `force` (Puppet’s rule); replacing a directory still needs `force`.',
  },
  purge: {
    type: 'boolean',
    default: false,
    doc: 'With `recurse` on a directory: with a directory `source`, delete entries that are not in the source; without one, delete every entry below the directory that no other resource of the graph manages (Puppet’s File `purge`), honouring `ignore`, `recurselimit`, `maxfiles` and `force` (directories are removed only with `force`; otherwise they stay and their entries are purged). Symlinks are removed, never followed; removed files are kept in the backup bucket (`backup`).',
  },
  ignore: {
    type: 'string[]',
    doc: 'With `purge` (no `source`): entries whose name matches one of these glob patterns (`*`, `?`, `[a-z]`, `\\` escapes; a leading `.` must be matched literally, as Puppet’s `ignore`) are left alone and not descended into.',
  },
  recurselimit: {
    type: 'integer',
    minimum: 0,
    doc: 'With `purge` (no `source`): how deep to purge, as Puppet’s `recurselimit`: 1 is the directory’s own entries, 2 also their entries, and so on; 0 purges nothing; unset: no limit.',
  },
  maxfiles: {
    type: 'integer',
    minimum: -1,
    default: 0,
    doc: 'With `purge` (no `source`): the most entries the purge may find (counted before anything is removed, as Puppet’s `max_files`); more is an error and nothing is purged. 0 warns above 1,000 entries; -1 neither fails nor warns.',
  },
  backup: {
    type: 'string',
    default: 'bucket',
    pattern: '^(bucket|false|\\.[^/]+)$',
    doc: 'What happens to the content of a regular file this resource replaces or removes (a content change, `state: absent`, a purge, a type change): `bucket` keeps it in the local backup bucket under the state directory (`mgmt bucket list`, `mgmt bucket restore`; Puppet’s clientbucket), `false` keeps nothing, and a suffix such as `.bak` copies it next to the file under that name (Puppet’s `backup => ".bak"`).',
  },
  symlink: {
    type: 'boolean',
    default: false,
    doc: 'Make the path a symlink whose target is `source`, written as given (relative targets stay relative).',
  },
} as const;

/** What the kind receives (normalized): `path` is always there (the resource name when unset). */
export type FileParams = ParamsOf<typeof params, 'path'>;
