/** Reads a YAML graph file and checks it completely: syntax, schema, then semantics. */
import { readFile } from 'node:fs/promises';
import { hasErrors, sortDiagnostics } from './diagnostics.js';
import { validateGraph } from './validate.js';
import { type Loaded, loadYamlGraph } from './yaml-loader.js';

export async function readGraphFile(path: string): Promise<Loaded> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
    return { diagnostics: [{ severity: 'error', message: `cannot read graph ${path}: ${why}` }] };
  }
  return checkGraphText(text, path);
}

export function checkGraphText(text: string, file: string): Loaded {
  const loaded = loadYamlGraph(text, file);
  const diagnostics = [...loaded.diagnostics];
  if (loaded.spec) diagnostics.push(...validateGraph(loaded.spec, loaded.invalid));
  return { ...(loaded.spec && !hasErrors(diagnostics) ? { spec: loaded.spec } : {}), diagnostics: sortDiagnostics(diagnostics) };
}
