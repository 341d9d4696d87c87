/**
 * Before a resource that edits a file in place (line, ini) rewrites it, the file's previous content goes to the
 * backup bucket (system/fs/bucket.ts), as the file kind's `backup: bucket` does: nothing we overwrite is lost.
 * A resource with a Sensitive parameter logs no checksum.
 */
import type { EditedFile } from '../system/fs/edited-file.js';
import type { ResourceContext } from './resource.js';

export function keepEdited(ctx: ResourceContext, file: EditedFile): void {
  if (file.data === undefined || file.meta === undefined || !ctx.bucket) return;
  const bucket = ctx.bucket();
  const sensitive = (ctx.sensitive?.size ?? 0) > 0;
  const sum = bucket.store(file.data, { path: file.real, ...file.meta, sensitive });
  if (sum === undefined)
    ctx.log.warn(`the previous content of ${file.real} is over the backup bucket's limit of ${bucket.limits.maxFileBytes} bytes: not kept`);
  else ctx.log.info(`kept the previous content of ${file.real} in the backup bucket${sensitive ? ' (Sensitive: no checksum shown)' : ` as sha256:${sum}`}`);
}
