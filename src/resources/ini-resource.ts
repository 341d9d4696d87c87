/**
 * What an ini resource does on the system (the kind, its parameters and checks: ini.ts): edits the setting in the
 * file under its lock, keeping every other byte, and watches the file.
 */
import { formatOf, wantOf, type IniParams } from './ini.js';
import { EditedFileWatching, readEdited, writeEdited } from '../system/fs/edited-file.js';
import { keepEdited } from './keep-previous.js';
import { withFileLock } from '../system/fs/file-lock.js';
import { editIni } from '../system/formats/ini-text.js';
import { type Resource, type ResourceContext } from './resource.js';

export function iniResource(_name: string, p: IniParams, ctx: ResourceContext): Resource {
  const path = p.path;
  const want = wantOf(p);
  const format = formatOf(p);
  const watching = new EditedFileWatching(path);
  return {
    watch: (w) => watching.run(w),
    checkApply(c) {
      return withFileLock(path, async () => {
        const file = await readEdited(path);
        watching.follow(file.real);
        if (file.data === undefined && want.state === 'absent') return true;
        const edit = editIni(file.data?.toString('latin1') ?? '', want, format);
        if (edit.inSync) return true;
        const what = Buffer.from(edit.what, 'latin1').toString('utf8');
        const created = file.data === undefined ? ' (new file)' : '';
        if (!c.apply) {
          ctx.log.info(`would edit ${path}${created}: ${what}`);
          c.change?.({ property: 'state', message: `would edit ${path}${created}: ${what}` });
          return false;
        }
        keepEdited(ctx, file);
        await writeEdited(file, Buffer.from(edit.text, 'latin1'));
        ctx.log.info(`edited ${path}${created}: ${what}`);
        c.change?.({ property: 'state', message: `edited ${path}${created}: ${what}` });
        return false;
      });
    },
  };
}
