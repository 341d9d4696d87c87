/**
 * File text as a unified diff: the lines of two texts compared (Myers' O(ND) algorithm, bounded), then grouped in
 * hunks with three lines of context, as `diff -u` prints them. Also the changed lines alone (`-old`, `+new`), which
 * the `=~>` and `=&>` ignore rules match.
 */

export interface LineOp {
  readonly op: ' ' | '-' | '+';
  readonly text: string;
}

/** Beyond this many differing lines the texts are shown as all removed then all added (bounded cost). */
const MAX_EDITS = 4000;

export function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** The line-by-line edit script from `a` to `b`. */
export function diffLines(a: readonly string[], b: readonly string[]): LineOp[] {
  // Common prefix and suffix first: most edits are small.
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf]) suf++;
  const head: LineOp[] = a.slice(0, pre).map((text) => ({ op: ' ', text }));
  const tail: LineOp[] = a.slice(a.length - suf).map((text) => ({ op: ' ', text }));
  const x = a.slice(pre, a.length - suf);
  const y = b.slice(pre, b.length - suf);
  return [...head, ...middle(x, y), ...tail];
}

function middle(a: readonly string[], b: readonly string[]): LineOp[] {
  const n = a.length;
  const m = b.length;
  if (n === 0) return b.map((text) => ({ op: '+', text }));
  if (m === 0) return a.map((text) => ({ op: '-', text }));
  const max = Math.min(n + m, MAX_EDITS);
  const off = max;
  const v = new Int32Array(2 * max + 2);
  const trace: Int32Array[] = [];
  let found = -1;
  for (let d = 0; d <= max && found < 0; d++) {
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      let xi = k === -d || (k !== d && v[off + k - 1]! < v[off + k + 1]!) ? v[off + k + 1]! : v[off + k - 1]! + 1;
      let yi = xi - k;
      while (xi < n && yi < m && a[xi] === b[yi]) {
        xi++;
        yi++;
      }
      v[off + k] = xi;
      if (xi >= n && yi >= m) {
        found = d;
        break;
      }
    }
  }
  if (found < 0) return [...a.map((text) => ({ op: '-' as const, text })), ...b.map((text) => ({ op: '+' as const, text }))];
  // Walk the trace back from (n, m).
  const out: LineOp[] = [];
  let xi = n;
  let yi = m;
  for (let d = found; d > 0; d--) {
    const vd = trace[d]!;
    const k = xi - yi;
    const prevK = k === -d || (k !== d && vd[off + k - 1]! < vd[off + k + 1]!) ? k + 1 : k - 1;
    const px = vd[off + prevK]!;
    const py = px - prevK;
    while (xi > px && yi > py) {
      xi--;
      yi--;
      out.push({ op: ' ', text: a[xi]! });
    }
    if (xi === px) out.push({ op: '+', text: b[--yi]! });
    else out.push({ op: '-', text: a[--xi]! });
  }
  while (xi > 0 && yi > 0) {
    out.push({ op: ' ', text: a[--xi]! });
    yi--;
  }
  return out.reverse();
}

/** A unified diff of two texts (no `---`/`+++` header), or '' when they are equal. */
export function unifiedDiff(oldText: string, newText: string, context = 3): string {
  const ops = diffLines(splitLines(oldText), splitLines(newText));
  const changed = ops.map((o, i) => (o.op === ' ' ? -1 : i)).filter((i) => i >= 0);
  if (changed.length === 0) return '';
  const out: string[] = [];
  let i = 0;
  while (i < changed.length) {
    const start = Math.max(0, changed[i]! - context);
    let end = Math.min(ops.length, changed[i]! + context + 1);
    while (i + 1 < changed.length && changed[i + 1]! - context <= end) {
      i++;
      end = Math.min(ops.length, changed[i]! + context + 1);
    }
    i++;
    // Line numbers of the hunk on each side.
    let oldLine = 1;
    let newLine = 1;
    for (let j = 0; j < start; j++) {
      if (ops[j]!.op !== '+') oldLine++;
      if (ops[j]!.op !== '-') newLine++;
    }
    const hunk = ops.slice(start, end);
    const oldCount = hunk.filter((o) => o.op !== '+').length;
    const newCount = hunk.filter((o) => o.op !== '-').length;
    out.push(`@@ -${oldCount === 0 ? oldLine - 1 : oldLine},${oldCount} +${newCount === 0 ? newLine - 1 : newLine},${newCount} @@`);
    for (const o of hunk) out.push(`${o.op}${o.text}`);
  }
  return out.join('\n') + '\n';
}

/** The changed lines only, each with its `-` or `+` mark. */
export function changedLines(oldText: string, newText: string): string[] {
  return diffLines(splitLines(oldText), splitLines(newText))
    .filter((o) => o.op !== ' ')
    .map((o) => `${o.op}${o.text}`);
}
