/** Every resource kind the engine knows, by name. The engine and the graph layer reach kinds only here. */
import type { ResourceKind } from './resource.js';
import { execKind } from './exec.js';
import { fileKind } from './file.js';
import { iniKind } from './ini.js';
import { lineKind } from './line.js';
import { msgKind } from './msg.js';
import { noopKind } from './noop.js';
import { puppetKind } from './puppet.js';
import { timerKind } from './timer.js';

const kinds = new Map<string, ResourceKind>(
  [execKind, fileKind, iniKind, lineKind, msgKind, noopKind, puppetKind, timerKind].map((k) => [k.kind, k] as const),
);

export function lookupKind(kind: string): ResourceKind | undefined {
  return kinds.get(kind);
}

/** All kinds, sorted by name. */
export function allKinds(): ResourceKind[] {
  return [...kinds.values()].sort((a, b) => (a.kind < b.kind ? -1 : 1));
}
