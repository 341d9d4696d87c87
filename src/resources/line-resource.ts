/**
 * What a line resource does on the system (the kind, its parameters and checks: line.ts): edits the file under its
 * lock as Puppet's file_line does, keeping every other byte, and watches the file.
 */
import { rulesOf, type LineParams } from './line.js';
import { EditedFileWatching, readEdited, writeEdited } from '../system/fs/edited-file.js';
import { keepEdited } from './keep-previous.js';
import { withFileLock } from '../system/fs/file-lock.js';
import { editFileLine } from '../system/formats/file-line-text.js';
import { type Resource, type ResourceContext } from './resource.js';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function lineResource(_name: string, p: LineParams, ctx: ResourceContext): Resource {
  const path = p.path;
  const rules = rulesOf(p);
  const latin1 = p.encoding === 'latin1';
  const watching = new EditedFileWatching(path);

  const decode = (data: Buffer): string => {
    if (latin1) return data.toString('latin1');
    try {
      return utf8.decode(data);
    } catch {
      throw new Error(`${path} is not valid UTF-8; set encoding: latin1 to edit it byte for byte`);
    }
  };

  return {
    watch: (w) => watching.run(w),
    checkApply(c) {
      return withFileLock(path, async () => {
        const file = await readEdited(path);
        watching.follow(file.real);
        if (file.data === undefined) {
          if (rules.state === 'absent') return true;
          if (!c.apply) {
            ctx.log.info(`would add the line to ${path}, which does not exist (yet)`);
            c.change?.({ property: 'state', previous: 'absent', desired: 'present', message: `would add the line to ${path}, which does not exist (yet)` });
            return false;
          }
          throw new Error(`${path} does not exist; a line is added to an existing file: manage the file (a file resource with state: exists) or create it`);
        }
        const edit = editFileLine(decode(file.data), rules, path);
        if (edit.inSync) return true;
        const presence = rules.state === 'absent' ? { previous: 'present', desired: 'absent' } : { previous: 'absent', desired: 'present' };
        if (!c.apply) {
          ctx.log.info(`would edit ${path}: ${edit.what}`);
          c.change?.({ property: 'state', ...presence, message: `would edit ${path}: ${edit.what}` });
          return false;
        }
        keepEdited(ctx, file);
        await writeEdited(file, Buffer.from(edit.text, latin1 ? 'latin1' : 'utf8'));
        ctx.log.info(`edited ${path}: ${edit.what}`);
        c.change?.({ property: 'state', ...presence, message: `edited ${path}: ${edit.what}` });
        return false;
      });
    },
  };
}
