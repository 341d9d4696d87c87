// The docs and the source comments point at files of this repository; a moved or deleted file must not leave
// them pointing at nothing. Also: the user guide's table of contents lists every section, in order.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const ROOMS = ['src', 'test', 'docs', 'scripts', 'puppet-module', 'fixtures', 'examples', 'bin', '.ci'];

function filesUnder(dir: string, keep: (name: string) => boolean): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...filesUnder(p, keep));
    else if (keep(e)) out.push(p);
  }
  return out;
}

/** Repository paths written in a text: a room of the repository, a slash, then the rest of the path. */
function citedPaths(text: string): string[] {
  const re = new RegExp(`(?<![\\w./-])(?:${ROOMS.map((r) => r.replace('.', '\\.')).join('|')})/[\\w./-]*[\\w/]`, 'g');
  return [...text.matchAll(re)].map((m) => m[0]).filter((p) => !p.includes('*') && !p.includes('<'));
}

function exists(cited: string): boolean {
  if (existsSync(join(root, cited))) return true;
  // compiled paths in comments (dist/src/x.js) are not cited this way; a `.js` import path names its `.ts` source
  return cited.endsWith('.js') && existsSync(join(root, cited.replace(/\.js$/, '.ts')));
}

describe('references to files of the repository', () => {
  const sources = [
    join(root, 'README.md'),
    ...['CONTRIBUTING.md', 'CHANGELOG.md'].map((f) => join(root, f)).filter((f) => existsSync(f)),
    ...filesUnder(join(root, 'docs'), (n) => n.endsWith('.md')),
    ...filesUnder(join(root, 'src'), (n) => n.endsWith('.ts')),
    ...filesUnder(join(root, 'test'), (n) => n.endsWith('.ts')),
    ...filesUnder(join(root, 'scripts'), (n) => /\.(ts|mjs)$/.test(n)),
  ];
  it('every cited path exists', () => {
    const missing: string[] = [];
    for (const f of sources) {
      // in Markdown, fenced code blocks show examples (a worked example's new files), not references
      const text = f.endsWith('.md') ? readFileSync(f, 'utf8').replace(/^```.*?^```/gms, '') : readFileSync(f, 'utf8');
      for (const cited of citedPaths(text)) if (!exists(cited)) missing.push(`${relative(root, f)}: ${cited}`);
    }
    assert.deepEqual(missing, [], 'files cite paths that are not in the repository');
  });
});

describe('docs/user-guide.md', () => {
  it('its table of contents lists every section in order', () => {
    const text = readFileSync(join(root, 'docs', 'user-guide.md'), 'utf8');
    const headings = [...text.matchAll(/^(#{2,3}) (.+)$/gm)].map((m) => ({ level: m[1]!.length, title: m[2]! })).filter((h) => h.title !== 'Contents');
    const toc = [...text.matchAll(/^( *)- \[(.+)\]\(#([\w-]+)\)$/gm)].map((m) => ({ level: m[1]!.length / 2 + 2, title: m[2]!, anchor: m[3]! }));
    assert.deepEqual(
      toc.map(({ level, title }) => ({ level, title })),
      headings,
    );
    for (const t of toc) {
      const anchor = t.title
        .toLowerCase()
        .replace(/[^\w\- ]/g, '')
        .replace(/ /g, '-');
      assert.equal(t.anchor, anchor, `anchor of "${t.title}"`);
    }
  });
});
