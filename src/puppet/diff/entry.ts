/**
 * What `mgmt puppet diff` reports: octocatalog-diff's difference entries (the keys of its JSON output, so the CI
 * glue written for it keeps working) and, per node, what we add on top (graph, translation, file text).
 */

/** Where a resource is declared; both keys null when the catalog does not say. */
export interface Location {
  readonly file: string | null;
  readonly line: number | null;
}

/**
 * `+` added, `-` removed, `~` a value changed, `!` a key added or removed inside a resource, or a list changed
 * (octocatalog-diff's two change marks; they display the same).
 */
export type DiffType = '+' | '-' | '~' | '!';

/** One difference, as octocatalog-diff's JSON writes it. */
export interface DiffEntry {
  readonly diff_type: DiffType;
  readonly type: string;
  readonly title: string;
  /** The path inside the resource (`["parameters", "owner"]`); empty for an added or removed resource. */
  readonly structure: readonly string[];
  /** The old value (null: absent or undef); for a removed resource, the whole resource. */
  readonly old_value: unknown;
  readonly new_value: unknown;
  readonly old_file: string | null;
  readonly old_line: number | null;
  readonly new_file: string | null;
  readonly new_line: number | null;
  readonly old_location: Location | null;
  readonly new_location: Location | null;
}

/** What Sensitive values look like in every output: they are compared, never printed. */
export const SENSITIVE_SHOWN = 'Sensitive [value redacted]';

export const refText = (e: { readonly type: string; readonly title: string }): string => `${e.type}[${e.title}]`;

/** A compile (or read) failure of one node at one side, with Puppet's own message and position. */
export interface NodeError {
  readonly side: 'from' | 'to' | 'both';
  readonly message: string;
  readonly file?: string | null;
  readonly line?: number | null;
}
