/** Reads a YAML graph file and checks it completely: syntax, schema, then semantics. */
import { readFile } from 'node:fs/promises';
import type { Registry } from '../resources/registry.js';
import { hasErrors, sortDiagnostics } from './diagnostics.js';
import { validateGraph } from './validate.js';
import { type Loaded, loadYamlGraph } from './yaml-loader.js';
import { errnoCode, errorText } from '../observe/errors.js';

export async function readGraphFile(registry: Registry, path: string): Promise<Loaded> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = errnoCode(e);
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : errorText(e);
    return { diagnostics: [{ severity: 'error', message: `cannot read graph ${path}: ${why}` }] };
  }
  return checkGraphText(registry, text, path);
}

export function checkGraphText(registry: Registry, text: string, file: string): Loaded {
  const loaded = loadYamlGraph(registry, text, file);
  const diagnostics = [...loaded.diagnostics];
  if (loaded.spec) diagnostics.push(...validateGraph(registry, loaded.spec, loaded.invalid));
  return { ...(loaded.spec && !hasErrors(diagnostics) ? { spec: loaded.spec } : {}), diagnostics: sortDiagnostics(diagnostics) };
}
