/** Problems found while loading and validating a graph: what, where (file:line:col, kind[name]), and how bad. */
import type { Pos } from './spec.js';

export type Severity = 'error' | 'warning';

export interface Diagnostic {
  readonly severity: Severity;
  readonly message: string;
  readonly pos?: Pos | undefined;
  /** `kind[name]` of the resource concerned, if any. */
  readonly where?: string | undefined;
}

/** `file:line:col: error: kind[name]: message` */
export function formatDiagnostic(d: Diagnostic): string {
  const at = d.pos ? `${d.pos.file}:${d.pos.line}:${d.pos.col}: ` : '';
  const who = d.where ? `${d.where}: ` : '';
  return `${at}${d.severity}: ${who}${d.message}`;
}

/**
 * For a log line, whose level already names the severity: with a position it keeps the `file:line:col: error: ...`
 * form (editors parse it); without one the severity is left out, so that the line does not read "error: error: ...".
 */
export function diagnosticLogText(d: Diagnostic): string {
  return d.pos ? formatDiagnostic(d) : `${d.where ? `${d.where}: ` : ''}${d.message}`;
}

export function hasErrors(ds: readonly Diagnostic[]): boolean {
  return ds.some((d) => d.severity === 'error');
}

/** Sorted by file, line, column, so that all problems read top to bottom. */
export function sortDiagnostics(ds: readonly Diagnostic[]): Diagnostic[] {
  return [...ds].sort((a, b) => {
    const fa = a.pos?.file ?? '';
    const fb = b.pos?.file ?? '';
    if (fa !== fb) return fa < fb ? -1 : 1;
    return (a.pos?.line ?? 0) - (b.pos?.line ?? 0) || (a.pos?.col ?? 0) - (b.pos?.col ?? 0);
  });
}

/** The closest candidate within a small edit distance, for "did you mean" hints. */
export function suggest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      const sub = diag + (a[i - 1] === b[j - 1] ? 0 : 1);
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, sub);
      diag = tmp;
    }
  }
  return prev[b.length]!;
}
