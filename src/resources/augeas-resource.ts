/**
 * What an augeas resource does on the system (the kind, its parameters and checks: augeas.ts): runs its changes
 * through augtool when its guard says they are needed.
 */
import { contextOf, type AugeasParams } from './augeas.js';
import { untilAborted } from '../system/proc/abort.js';
import { changeCommand, conditionHolds, parseCondition, quoted } from '../system/formats/augeas-commands.js';
import { getAnswer, matchAnswer, runAugtool, type AugeasSetup } from '../system/tools/augtool.js';
import { type Resource, type ResourceContext } from './resource.js';

/** `/files/etc/hosts` → `/etc/hosts` (the saved files, for messages). */
const fileOf = (augPath: string) => augPath.replace(/^\/files/, '') || '/';

export function augeasResource(_name: string, p: AugeasParams, ctx: ResourceContext): Resource {
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
}
