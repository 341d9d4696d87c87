/**
 * What an ini:subsetting resource does on the system (the kind, its parameters and checks: ini-subsetting.ts): edits
 * one subsetting of a setting's value under the file's lock and watches the file.
 */
import { bytes, formatOf, wantOf, type IniSubsettingParams } from './ini-subsetting.js';
import { EditedFileWatching, readEdited, writeEdited } from '../system/fs/edited-file.js';
import { withFileLock } from '../system/fs/file-lock.js';
import { editIni, iniValue } from '../system/formats/ini-text.js';
import { editSubsetting } from '../system/formats/ini-subsetting-text.js';
import { type Resource, type ResourceContext } from './resource.js';

export function iniSubsettingResource(_name: string, p: IniSubsettingParams, ctx: ResourceContext): Resource {
  const path = p.path;
  const want = wantOf(p);
  const format = formatOf(p);
  const section = bytes(p.section);
  const setting = bytes(p.setting);
  const watching = new EditedFileWatching(path);
  return {
    watch: (w) => watching.run(w),
    checkApply(c) {
      return withFileLock(path, async () => {
        const file = await readEdited(path);
        watching.follow(file.real);
        if (file.data === undefined && want.state === 'absent') return true;
        const text = file.data?.toString('latin1') ?? '';
        const sub = editSubsetting(iniValue(text, section, setting, format), want);
        if (sub.inSync) return true;
        const edit = editIni(text, { section, setting, state: sub.value === undefined ? 'absent' : 'exists', value: sub.value, createsection: true }, format);
        if (edit.inSync) return true;
        const what = Buffer.from(`${sub.what} in ${setting}`, 'latin1').toString('utf8');
        const created = file.data === undefined ? ' (new file)' : '';
        if (!c.apply) {
          ctx.log.info(`would edit ${path}${created}: ${what}`);
          return false;
        }
        await writeEdited(file, Buffer.from(edit.text, 'latin1'));
        ctx.log.info(`edited ${path}${created}: ${what}`);
        return false;
      });
    },
  };
}
