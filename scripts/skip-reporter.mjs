// A node:test reporter that writes one line per skipped or todo test ("skip|todo <file> > <name>: <reason>")
// to its destination; scripts/run-tests.mjs reads them and fails the run, since a skip is not a pass.
import { relative } from 'node:path';

export default async function* skipReporter(source) {
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const { skip, todo, name, file } = event.data;
    const what = skip !== undefined && skip !== false ? 'skip' : todo !== undefined && todo !== false ? 'todo' : undefined;
    if (what === undefined) continue;
    const reason = typeof (what === 'skip' ? skip : todo) === 'string' ? `: ${what === 'skip' ? skip : todo}` : '';
    yield `${what} ${file === undefined ? '?' : relative(process.cwd(), file)} > ${name}${reason}\n`;
  }
}
