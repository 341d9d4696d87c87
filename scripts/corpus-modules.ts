/**
 * The corpus's module list (fixtures/corpus/modules.json): which public module repositories, at which release,
 * and the cache they are exported into. The list is committed; the modules never are. `pickReleases` chooses each
 * repository's newest release whose metadata.json accepts the Puppet we run (git tags `vX.Y.Z`, read from a git
 * directory of the repository); `exportModules` writes each module's tree at its commit into the cache.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CorpusModule {
  /** The module's name on the modulepath (`apache`), from its metadata.json. */
  readonly name: string;
  /** The GitHub repository, `owner/name`. */
  readonly repo: string;
  readonly tag: string;
  readonly commit: string;
  readonly version: string;
  /** Its examples/*.pp are part of the corpus (false: a dependency only). */
  readonly examples: boolean;
}

export interface ModuleList {
  readonly '//'?: string;
  /** The Puppet version the releases were chosen for. */
  readonly puppet: string;
  readonly modules: readonly CorpusModule[];
}

export function readModuleList(file: string): ModuleList {
  return JSON.parse(readFileSync(file, 'utf8')) as ModuleList;
}

export function writeModuleList(file: string, list: ModuleList): void {
  writeFileSync(file, JSON.stringify(list, null, 2) + '\n');
}

/** A git directory for `owner/name`: the template with `{owner}` and `{name}` filled in. */
export function gitDirOf(template: string, repo: string): string {
  const [owner = '', name = ''] = repo.split('/');
  return template.replaceAll('{owner}', owner).replaceAll('{name}', name);
}

function git(gitDir: string, args: readonly string[], maxBuffer = 16 << 20): Buffer {
  const r = spawnSync('git', ['--git-dir', gitDir, ...args], { maxBuffer });
  if (r.error) throw new Error(`git ${args.join(' ')} in ${gitDir}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`git ${args.join(' ')} in ${gitDir} failed: ${r.stderr.toString('utf8').trim()}`);
  return r.stdout;
}

type Version = readonly [number, number, number];

function parseVersion(s: string): Version | undefined {
  const m = /^v?(\d+)\.(\d+)\.(\d+)$/.exec(s.trim());
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

function compareVersions(a: Version, b: Version): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

/**
 * Whether a metadata.json `version_requirement` (`>= 7.0.0 < 9.0.0`, `7.x`, `>=6 <8`) admits `version`.
 * Missing parts of a bound are 0; `N.x` is `>= N.0.0 < N+1.0.0`.
 */
export function admits(requirement: string, version: string): boolean {
  const v = parseVersion(version);
  if (!v) throw new Error(`not a version: ${version}`);
  const clauses = requirement.match(/(>=|<=|>|<|=)?\s*\d+(?:\.(?:\d+|x))*/g);
  if (!clauses) return false;
  let ok = true;
  for (const raw of clauses) {
    const m = /^(>=|<=|>|<|=)?\s*(\d+)(?:\.(\d+|x))?(?:\.(\d+|x))?$/.exec(raw.trim());
    if (!m) return false;
    const op = m[1] ?? '=';
    if (m[3] === 'x' || (op === '=' && m[3] === undefined)) {
      ok &&= v[0] === Number(m[2]);
      continue;
    }
    const bound: Version = [Number(m[2]), Number(m[3] ?? 0), m[4] === undefined || m[4] === 'x' ? 0 : Number(m[4])];
    const c = compareVersions(v, bound);
    ok &&= op === '>=' ? c >= 0 : op === '<=' ? c <= 0 : op === '>' ? c > 0 : op === '<' ? c < 0 : c === 0;
  }
  return ok;
}

interface Metadata {
  readonly name?: string;
  readonly version?: string;
  readonly requirements?: readonly { readonly name: string; readonly version_requirement?: string }[];
}

/** Whether the metadata accepts Puppet `puppetVersion` (its `puppet` requirement, else its `openvox` one, whose 7 is Puppet's 7). */
function acceptsPuppet(meta: Metadata, puppetVersion: string): boolean {
  const reqs = meta.requirements ?? [];
  const req = reqs.find((r) => r.name === 'puppet') ?? reqs.find((r) => r.name === 'openvox');
  return req?.version_requirement === undefined || admits(req.version_requirement, puppetVersion);
}

/** The module's name on the modulepath: `puppetlabs-apache` → `apache`. */
export function moduleName(metadataName: string): string {
  return metadataName.split(/[-/]/).pop()!;
}

/** The newest release tag of the repository in `gitDir` whose metadata accepts Puppet `puppetVersion`. */
export function pickRelease(gitDir: string, repo: string, puppetVersion: string): Omit<CorpusModule, 'examples'> {
  const tags = git(gitDir, ['tag', '--list'])
    .toString('utf8')
    .split('\n')
    .map((t) => ({ tag: t.trim(), v: parseVersion(t) }))
    .filter((t): t is { tag: string; v: Version } => t.v !== undefined)
    .sort((a, b) => compareVersions(b.v, a.v));
  for (const { tag } of tags) {
    let meta: Metadata;
    try {
      meta = JSON.parse(git(gitDir, ['show', `${tag}:metadata.json`]).toString('utf8')) as Metadata;
    } catch {
      continue;
    }
    if (!meta.name || !acceptsPuppet(meta, puppetVersion)) continue;
    const commit = git(gitDir, ['rev-parse', `${tag}^{commit}`])
      .toString('utf8')
      .trim();
    return { name: moduleName(meta.name), repo, tag, commit, version: meta.version ?? tag.replace(/^v/, '') };
  }
  throw new Error(`${repo}: no release tag in ${gitDir} has a metadata.json that accepts Puppet ${puppetVersion}`);
}

/** The top-level entries of a module that Puppet reads. */
const MODULE_PARTS = new Set([
  'manifests',
  'lib',
  'templates',
  'files',
  'types',
  'functions',
  'data',
  'examples',
  'hiera.yaml',
  'metadata.json',
  'LICENSE',
  'NOTICE',
]);

/** The marker an exported module carries: the commit it was exported from. */
const MARK = '.corpus-commit';

/** The module directories of the cache (`<cache>/modules`), the modulepath the corpus compiles with. */
export const modulesDir = (cache: string) => join(cache, 'modules');

/** The modules the cache lacks (absent, or exported from another commit). */
export function missingModules(cache: string, list: ModuleList): CorpusModule[] {
  return list.modules.filter((m) => {
    const mark = join(modulesDir(cache), m.name, MARK);
    return !existsSync(mark) || readFileSync(mark, 'utf8').trim() !== m.commit;
  });
}

/** Exports each module's tree at its commit (`git archive`) into `<cache>/modules/<name>`. */
export function exportModules(cache: string, modules: readonly CorpusModule[], gitTemplate: string, log: (line: string) => void): void {
  mkdirSync(modulesDir(cache), { recursive: true });
  for (const m of modules) {
    const gitDir = gitDirOf(gitTemplate, m.repo);
    if (!existsSync(gitDir)) throw new Error(`${m.repo}: no git directory at ${gitDir} (the --git template gives it)`);
    const dest = join(modulesDir(cache), m.name);
    const tmp = `${dest}.partial`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    // What Puppet reads of a module (a mirror may lack large test fixtures, which are not needed).
    const top = git(gitDir, ['ls-tree', '--name-only', m.commit])
      .toString('utf8')
      .split('\n')
      .filter((e) => MODULE_PARTS.has(e));
    const tar = git(gitDir, ['archive', '--format=tar', m.commit, '--', ...top], 512 << 20);
    const x = spawnSync('tar', ['-x', '-C', tmp], { input: tar });
    if (x.status !== 0) throw new Error(`${m.repo}: tar -x failed: ${x.stderr.toString('utf8').trim()}`);
    writeFileSync(join(tmp, MARK), m.commit + '\n');
    rmSync(dest, { recursive: true, force: true });
    renameSync(tmp, dest);
    log(`exported ${m.repo} ${m.tag} (${m.commit.slice(0, 12)}) to ${dest}`);
  }
}
