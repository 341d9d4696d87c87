/**
 * Keeping the previous content of a file that a resource is about to rewrite or remove in the backup bucket
 * (system/fs/bucket.ts): the file kind's `backup: bucket`, and every in-place edit (line, ini), so that nothing we
 * overwrite is lost.
 *
 * The content is in the bucket before the file changes; a failure there throws, and the change is not made. Its
 * index line (when, which path, mode, owner) and the log line are written in a microtask, once the caller's
 * synchronous rewrite is done: they cost as much as the rest of a drift repair, and nothing is lost if they come
 * after it. An index line that cannot be written is a warning (the content is kept; `mgmt bucket list` does not
 * show it). A resource with Sensitive content logs no checksum.
 */
import type { Logger } from '../observe/logger.js';
import { errorText } from '../observe/errors.js';
import type { BackupOf, Bucket } from '../system/fs/bucket.js';
import type { EditedFile } from '../system/fs/edited-file.js';
import type { ResourceContext } from './resource.js';

export function keepPrevious(bucket: Bucket, log: Logger, data: Buffer, of: BackupOf): void {
  const at = new Date();
  const sum = bucket.keepContent(data, at);
  if (sum === undefined) {
    log.warn(`the previous content of ${of.path} (${data.length} bytes) is over the backup bucket's limit of ${bucket.limits.maxFileBytes} bytes: not kept`);
    return;
  }
  queueMicrotask(() => {
    try {
      bucket.index(sum, data.length, of, at);
    } catch (e) {
      log.warn(`kept the previous content of ${of.path} in the backup bucket, but could not index it (mgmt bucket list will not show it): ${errorText(e)}`);
      return;
    }
    log.info(
      `kept the previous content of ${of.path} in the backup bucket${of.sensitive ? ` (Sensitive: no checksum shown; mgmt bucket restore ${of.path})` : ` as sha256:${sum}`}`,
    );
  });
}

/** keepPrevious for a resource that edits a file in place (line, ini), with what it read of the file. */
export function keepEdited(ctx: ResourceContext, file: EditedFile): void {
  if (file.data === undefined || file.meta === undefined || !ctx.bucket) return;
  keepPrevious(ctx.bucket(), ctx.log, file.data, { path: file.real, ...file.meta, sensitive: (ctx.sensitive?.size ?? 0) > 0 });
}
