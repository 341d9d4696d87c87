/**
 * The core kinds, one line each. Adding a kind to mgmt-ts is one line here (and the kind's own file); the
 * registry of them is core-registry.ts.
 */
export { archiveKind } from './archive.js';
export { augeasKind } from './augeas.js';
export { crontabEntryKind } from './crontab-entry.js';
export { execKind } from './exec.js';
export { fileKind } from './file/kind.js';
export { groupKind } from './group.js';
export { hostKind } from './host.js';
export { iniKind } from './ini.js';
export { iniSubsettingKind } from './ini-subsetting.js';
export { lineKind } from './line.js';
export { mountKind } from './mount.js';
export { msgKind } from './msg.js';
export { noopKind } from './noop.js';
export { pkgKind } from './pkg/kind.js';
export { sshAuthorizedKeyKind } from './ssh-authorized-key.js';
export { svcKind } from './svc.js';
export { timerKind } from './timer.js';
export { userKind } from './user.js';
