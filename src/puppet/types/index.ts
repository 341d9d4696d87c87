/** Every Puppet type with a native translation, by catalog type name. Others go to the fallback. */
import type { TypeRules } from '../rules.js';
import { anchorRules } from './anchor.js';
import { concatFileRules } from './concat_file.js';
import { concatFragmentRules } from './concat_fragment.js';
import { execRules } from './exec.js';
import { fileRules } from './file.js';
import { fileLineRules } from './file_line.js';
import { iniSettingRules } from './ini_setting.js';
import { notifyRules } from './notify.js';

export { metaparamRules } from './metaparams.js';

export const typeRules: ReadonlyMap<string, TypeRules> = new Map(
  [anchorRules, concatFileRules, concatFragmentRules, execRules, fileRules, fileLineRules, iniSettingRules, notifyRules].map((t) => [t.type, t] as const),
);
