/** Printing a translation: the graph YAML (Sensitive values redacted) with its header comment. */
import type { GraphSpec } from '../graph/spec.js';
import { writeGraphYaml } from '../graph/yaml-writer.js';
import { REDACTED } from '../observe/redact.js';
import { hasSensitive, redactSpec } from './redact.js';

export function graphYaml(spec: GraphSpec): string {
  const header = [`Translated from the Puppet catalog of ${spec.graph} (${spec.source ?? 'catalog'}) by \`mgmt puppet translate\`.`];
  if (hasSensitive(spec)) {
    header.push(
      `Sensitive values are replaced by "${REDACTED}": a graph printed with redactions is not meant to be applied as is;`,
      '`mgmt puppet` runs use the in-memory graph, which keeps the values.',
    );
  }
  return writeGraphYaml(redactSpec(spec), { header });
}
