/** `mgmt validate FILE`: checks a graph completely (including cycles through automatic edges); applies nothing. */
import { parseArgs } from 'node:util';
import { autoEdges } from '../engine/autoedges.js';
import { cycleDiagnostics } from '../graph/cycles.js';
import { formatDiagnostic, hasErrors } from '../graph/diagnostics.js';
import { readGraphFile } from '../graph/read.js';
import { vertexId } from '../graph/spec.js';
import { registry } from './registry.js';
import { EXIT_FAILED, EXIT_OK, UsageError } from './usage.js';

export const validateHelp = `usage: mgmt validate FILE [--no-autoedges]

Checks the YAML graph in FILE: syntax, parameters against the schema, duplicates, edges, cycles. Prints
every problem with its position and exits 1 if there is an error. Nothing is applied.`;

export async function validateCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { 'no-autoedges': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
  });
  if (values.help) {
    process.stdout.write(validateHelp + '\n');
    return EXIT_OK;
  }
  if (positionals.length !== 1) throw new UsageError('give exactly one graph file: mgmt validate FILE');
  const file = positionals[0]!;
  const loaded = await readGraphFile(registry, file);
  const diagnostics = [...loaded.diagnostics];
  let edges = loaded.spec?.edges.length ?? 0;
  if (loaded.spec && !values['no-autoedges'] && loaded.spec.autoedges !== false) {
    const auto = autoEdges(registry, loaded.spec.resources, loaded.spec.edges);
    edges += auto.length;
    // Cycles of written edges alone were reported by the loader; add those that run through automatic edges.
    const ids = loaded.spec.resources.map((r) => vertexId(r));
    const pos = new Map(loaded.spec.resources.map((r) => [vertexId(r), r.pos] as const));
    diagnostics.push(...cycleDiagnostics(ids, [...loaded.spec.edges, ...auto], { onlyThroughAutoEdges: true, posOf: (id) => pos.get(id) }));
  }
  for (const d of diagnostics) process.stderr.write(formatDiagnostic(d) + '\n');
  if (!loaded.spec || hasErrors(diagnostics)) {
    const n = diagnostics.filter((d) => d.severity === 'error').length;
    process.stderr.write(`${file}: ${n} error${n === 1 ? '' : 's'}\n`);
    return EXIT_FAILED;
  }
  process.stdout.write(`${file}: ok (${loaded.spec.resources.length} resources, ${edges} edges)\n`);
  return EXIT_OK;
}
