/** Every Puppet type with a native translation, by catalog type name. Others go to the fallback. */
import type { TypeRules } from '../rules.js';
import { anchorRules } from './anchor.js';
import { archiveRules } from './archive.js';
import { augeasRules } from './augeas.js';
import { concatFileRules } from './concat_file.js';
import { concatFragmentRules } from './concat_fragment.js';
import { cronRules } from './cron.js';
import { execRules } from './exec.js';
import { fileRules } from './file.js';
import { fileLineRules } from './file_line.js';
import { groupRules } from './group.js';
import { hostRules } from './host.js';
import { iniSettingRules } from './ini_setting.js';
import { iniSubsettingRules } from './ini_subsetting.js';
import { mountRules } from './mount.js';
import { notifyRules } from './notify.js';
import { packageRules } from './package.js';
import { serviceRules } from './service.js';
import { sshAuthorizedKeyRules } from './ssh_authorized_key.js';
import { userRules } from './user.js';

export { metaparamRules } from './metaparams.js';

export const typeRules: ReadonlyMap<string, TypeRules> = new Map(
  [
    anchorRules,
    archiveRules,
    augeasRules,
    concatFileRules,
    concatFragmentRules,
    cronRules,
    execRules,
    fileRules,
    fileLineRules,
    groupRules,
    hostRules,
    iniSettingRules,
    iniSubsettingRules,
    mountRules,
    notifyRules,
    packageRules,
    serviceRules,
    sshAuthorizedKeyRules,
    userRules,
  ].map((t) => [t.type, t] as const),
);
