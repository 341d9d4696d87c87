/** Every resource kind the engine knows, by name. The engine and the graph layer reach kinds only here. */
import type { ResourceKind } from './resource.js';
import { crontabEntryKind } from './crontab-entry.js';
import { execKind } from './exec.js';
import { fileKind } from './file/kind.js';
import { groupKind } from './group.js';
import { hostKind } from './host.js';
import { iniKind } from './ini.js';
import { lineKind } from './line.js';
import { mountKind } from './mount.js';
import { msgKind } from './msg.js';
import { noopKind } from './noop.js';
import { pkgKind } from './pkg/kind.js';
import { puppetKind } from './puppet.js';
import { sshAuthorizedKeyKind } from './ssh-authorized-key.js';
import { svcKind } from './svc.js';
import { timerKind } from './timer.js';
import { userKind } from './user.js';

const kinds = new Map<string, ResourceKind>(
  [
    crontabEntryKind,
    execKind,
    fileKind,
    groupKind,
    hostKind,
    iniKind,
    lineKind,
    mountKind,
    msgKind,
    noopKind,
    pkgKind,
    puppetKind,
    sshAuthorizedKeyKind,
    svcKind,
    timerKind,
    userKind,
  ].map((k) => [k.kind, k] as const),
);

export function lookupKind(kind: string): ResourceKind | undefined {
  return kinds.get(kind);
}

/** All kinds, sorted by name. */
export function allKinds(): ResourceKind[] {
  return [...kinds.values()].sort((a, b) => (a.kind < b.kind ? -1 : 1));
}
