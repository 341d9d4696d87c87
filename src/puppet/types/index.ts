/** Every Puppet type with a native translation, by catalog type name. Others go to the fallback. */
import type { TypeRules } from '../rules.js';
import { anchorRules } from './anchor.js';
import { execRules } from './exec.js';
import { fileRules } from './file.js';
import { notifyRules } from './notify.js';
import { serviceRules } from './service.js';

export { metaparamRules } from './metaparams.js';

export const typeRules: ReadonlyMap<string, TypeRules> = new Map(
  [anchorRules, execRules, fileRules, notifyRules, serviceRules].map((t) => [t.type, t] as const),
);
