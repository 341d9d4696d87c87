/**
 * The augeas resource: changes to configuration files through Augeas's lenses, as Puppet's `augeas` type makes
 * them, run by augtool (src/system/tools/augtool.ts):
 *
 * - `onlyif` (one `get` or `match` condition) false: nothing to do;
 * - otherwise the changes are run with Augeas's save mode `noop`, which reports the files a save would write
 *   without writing them: none means in sync (unless `force`), as Puppet's provider decides;
 * - applying runs them again and saves; Augeas writes each file by rename. A command that fails, or a tree the
 *   lens cannot write back (`put_failed`), is an error that names the file and Augeas's message.
 *
 * Relative paths in the changes and in `onlyif` are joined to `context` (default `/files<incl>` with `incl`), as
 * in Puppet. The changes themselves are never logged (they may hold secrets); the files they touch are.
 */
import { isAbsolute } from 'node:path';
import type { ParamsOf } from './params.js';
import { defineKind, type Problem } from './resource.js';
import { untilAborted } from '../system/proc/abort.js';
import { CHANGE_COMMANDS, changeCommand, conditionHolds, parseCondition, quoted } from '../system/formats/augeas-commands.js';
import { getAnswer, matchAnswer, runAugtool, type AugeasSetup } from '../system/tools/augtool.js';

const params = {
  changes: {
    type: 'string[]',
    required: 'the Augeas commands to run, such as `set /files/etc/hosts/1/ipaddr 127.0.0.1`',
    doc: `The commands, one per item, in order: ${CHANGE_COMMANDS}. Relative paths are joined to \`context\`. Never logged.`,
  },
  onlyif: {
    type: 'string',
    doc: 'Run the changes only when this condition holds: `get PATH OP VALUE` (OP: == != < <= > >= =~) or `match PATH size OP N`, `match PATH include VALUE`, `match PATH not_include VALUE`.',
  },
  context: { type: 'string', doc: 'Joined in front of relative paths; default: `/files<incl>` when `incl` is set, else nothing.' },
  incl: { type: 'string', doc: 'Load only this file (or glob) with `lens`, instead of every lens with its default files (much faster).' },
  lens: { type: 'string', doc: 'The lens for `incl`, such as `Hosts.lns`; give both or neither.' },
  load_path: { type: 'string[]', doc: 'More directories of lenses.' },
  force: { type: 'boolean', default: false, doc: 'Run the changes (when `onlyif` holds) even when they would change nothing.' },
  root: { type: 'string', default: '/', doc: 'The file system root Augeas works under (augtool `--root`).' },
} as const;

export type AugeasParams = ParamsOf<typeof params>;

function contextOf(p: AugeasParams): string {
  return p.context ?? (p.incl !== undefined ? `/files${p.incl}` : '');
}

function validate(_name: string, p: AugeasParams): Problem[] {
  const out: Problem[] = [];
  if ((p.incl === undefined) !== (p.lens === undefined))
    out.push({ param: p.incl === undefined ? 'lens' : 'incl', message: 'give both `incl` and `lens`, or neither' });
  if (p.incl !== undefined && !isAbsolute(p.incl)) out.push({ param: 'incl', message: `\`incl\` must be an absolute path (or glob), got "${p.incl}"` });
  if (!isAbsolute(p.root)) out.push({ param: 'root', message: `\`root\` must be an absolute path, got "${p.root}"` });
  for (const d of p.load_path ?? []) if (!isAbsolute(d)) out.push({ param: 'load_path', message: `\`load_path\` entries must be absolute paths, got "${d}"` });
  const context = contextOf(p);
  if (p.changes.length === 0) out.push({ param: 'changes', message: '`changes` is empty: give at least one command' });
  p.changes.forEach((line, i) => {
    if (/[\r\n]/.test(line)) out.push({ param: 'changes', message: `change ${i + 1} contains a line break: give one command per item` });
    else {
      const c = changeCommand(line, context);
      if (typeof c !== 'string') out.push({ param: 'changes', message: `change ${i + 1}: ${c.error}` });
    }
  });
  if (p.onlyif !== undefined) {
    const c = parseCondition(p.onlyif, context);
    if ('error' in c) out.push({ param: 'onlyif', message: `\`onlyif\`: ${c.error}` });
  }
  return out;
}

/** `/files/etc/hosts` → `/etc/hosts` (the saved files, for messages). */
const fileOf = (augPath: string) => augPath.replace(/^\/files/, '') || '/';

export const augeasKind = defineKind({
  kind: 'augeas',
  doc: "Changes to configuration files through Augeas's lenses, as Puppet's `augeas` type makes them, run by augtool (Debian package `augeas-tools`). The changes run first with Augeas's save mode `noop`: when no file would be written, the resource is in sync (unless `force`); `onlyif` can make it skip. Files are written by Augeas (by rename). Not watched: as in Puppet, the changes are checked once per run (or every `poll` seconds), since many are not idempotent (`alias[last()+1]` appends each time they run). The changes are never logged; the files they touch are.",
  params,
  refreshable: false,
  reach: { touches: ['files'], collect: 'plain' },
  validate,
  autoEdges: (_name, p) => (p.incl !== undefined && !/[*?[]/.test(p.incl) && p.root === '/' ? { afterPath: [p.incl], afterNearestAncestor: [p.incl] } : {}),
  create: (_name, p, ctx) => {
    const context = contextOf(p);
    const setup: AugeasSetup = { root: p.root, incl: p.incl, lens: p.lens, loadPath: p.load_path, context };
    const changes = p.changes.map((l) => changeCommand(l, context) as string);
    const condition = p.onlyif === undefined ? undefined : parseCondition(p.onlyif, context);
    const putErrors = 'print /augeas//error[. = "put_failed"]';

    /** The put errors printed after a save, as one sentence (`/etc/hosts: Failed to match tree ...`). */
    const errorText = (lines: readonly string[]): string => {
      const messages = lines
        .filter((l) => l.includes('/error/message = '))
        .map((l) => l.replace(/^\/augeas(\/files\/.*?)\/error\/message = "?(.*?)"?$/, (_m, f: string, m: string) => `${fileOf(f)}: ${m.split('\\n')[0]}`));
      return messages.length > 0 ? messages.join('; ') : lines.join(' | ');
    };
    const failed = (what: string, a: { code: number | null; lines: readonly string[]; stderr: readonly string[] }): Error =>
      new Error(
        `${what} failed (augtool exit code ${a.code ?? 'none'}): ${[...a.stderr.filter((l) => l.startsWith('error:') || !l.startsWith(' ')), errorText(a.lines.filter((l) => l.startsWith('/augeas/')))].filter((x) => x !== '').join('; ')}; check the paths and values of \`changes\` against the lens`,
      );

    return {
      // Not watched, on purpose: Augeas changes are often not idempotent (`set alias[last()+1] x` appends on every
      // run), and Puppet applies them once per run; a watch would see our own save and apply them again, forever.
      async watch(w) {
        w.event();
        await untilAborted(w.signal);
      },

      async checkApply(c) {
        if (condition !== undefined && !('error' in condition)) {
          const query = condition.kind === 'get' ? `get ${quoted(condition.path)}` : `match ${quoted(condition.path)}`;
          const a = await runAugtool(setup, [], [query], c.signal);
          if (a.code !== 0) throw failed('evaluating `onlyif`', a);
          const holds = conditionHolds(condition, condition.kind === 'get' ? { value: getAnswer(a.lines[0]) } : { paths: matchAnswer(a.lines) });
          if (!holds) {
            ctx.log.debug('`onlyif` does not hold: nothing to do');
            return true;
          }
        }
        const dry = await runAugtool(setup, ['set /augeas/save noop', ...changes, 'save'], ['match /augeas/events/saved', putErrors], c.signal);
        if (dry.code !== 0) throw failed('the changes', dry);
        const saved = dry.lines
          .filter((l) => l.startsWith('/augeas/events/saved'))
          .map((l) => fileOf(getAnswer(l) ?? ''))
          .filter((f) => f !== '/');
        if (saved.length === 0 && !p.force) return true;
        const files = saved.length > 0 ? saved.join(', ') : 'no file (force)';
        if (!c.apply) {
          ctx.log.info(`would change ${files}`);
          return false;
        }
        const done = await runAugtool(setup, [...changes, 'save'], [putErrors], c.signal);
        if (done.code !== 0) throw failed('saving the changes', done);
        ctx.log.info(`changed ${files}`);
        return false;
      },
    };
  },
});
