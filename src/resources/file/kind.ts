/**
 * The file kind: a regular file, a directory or a symlink, with its content (inline, or copied from a local
 * source file or directory tree), owner, group and mode. Semantics follow mgmt's file resource; see the `file`
 * section of graph-format-and-engine.md.
 *
 * Safety rules: the path is only ever looked at with lstat, and owner/mode are applied through a descriptor opened
 * with O_NOFOLLOW (or lchown for symlinks), so a symlink the user did not ask for is never followed. The parent
 * directory is opened by system/fs/safe-path.ts (symlinks above the path are followed only under the owner rule)
 * and held for the whole check: every call goes through it (parent.ts), so a parent swapped for a symlink cannot
 * redirect a write. Writes go through a temp file and a rename. Nothing about the path is cached between checks:
 * every check reads what is on disk.
 *
 * Synchronous fs calls, in time slices: small content is read, compared and written with node:fs's sync calls,
 * in slices that let the event loop (and so the watches) run between them; see src/system/fs/sync-slices.ts.
 *
 * Calls per check, common path: lstat, then for a file whose size matches the wanted content open, fstat, one
 * read, close (the content is always compared: no shortcut on size, times or inode). Creating a file: open of a
 * temp file, fchmod, write, close, rename; the parent directory is only examined (to name it in the error, or to
 * create it with recurse) when that create fails with ENOENT or ENOTDIR.
 *
 * The parts: params.ts (the parameter table), validate.ts, wanted.ts (what the parameters ask for, read once),
 * file-resource.ts (the watch and the check, step by step), create.ts, parent.ts (the parent directory of a path
 * to create), source.ts (the file or directory to copy); the tree copy is src/system/fs/tree-copy.ts.
 */
import { defineKind } from '../resource.js';
import { Backup } from './backup.js';
import { FileResource } from './file-resource.js';
import { params } from './params.js';
import { validate } from './validate.js';
import { wantedFile } from './wanted.js';

export const fileKind = defineKind({
  kind: 'file',
  doc: 'Manages a regular file, a directory (path ending in `/`) or a symlink: its existence, its content (inline or copied from a local file or directory tree), owner, group and mode. Without `state: exists` it only manages a path that already exists. Changes are written atomically, a symlink at the path is never followed (one above it only when root owns it, or its owner owns where it leads: see docs/security.md), and the path is watched for drift. A directory with `recurse` and `purge` removes what no other resource of the graph manages; what the resource replaces or removes is kept in the backup bucket (`backup`, `mgmt bucket`).',
  params,
  nameParam: 'path',
  reach: { touches: ['files'], collect: 'plain' },
  refreshable: false,
  validate: (_name, p) => validate(p),
  autoEdges: (_name, p) => ({ manages: [p.path], afterNearestAncestor: [p.path] }),
  create: (_name, p, ctx) =>
    new FileResource(
      wantedFile(p),
      ctx.log,
      new Backup(p.backup, ctx.bucket?.bind(ctx), ctx.log, ctx.sensitive?.has('content') === true),
      ctx.managedPaths?.bind(ctx),
    ),
});
