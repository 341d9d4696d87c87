/**
 * What makes a user or group name, id or password field acceptable to the shadow tools: the pure checks that
 * validation makes before anything runs (shadow.ts runs the tools; ids.ts resolves names).
 */

/** The largest valid uid/gid: (uid_t)-1 means "no change" to the kernel. */
export const MAX_ID = 0xfffffffe;
/** The longest user or group name the tools accept here (Debian 12). */
export const MAX_NAME_LENGTH = 32;

/**
 * Why a name is not a valid user or group name for the tools, or undefined when it is. Only what is always
 * wrong is refused here (the tools' own rules, which distributions patch, decide the rest at apply time).
 */
export function invalidAccountName(name: string): string | undefined {
  if (name === '') return 'is empty';
  if (name.length > MAX_NAME_LENGTH) return `is longer than ${MAX_NAME_LENGTH} characters`;
  if (/[:,\s/]/.test(name)) return 'contains a colon, comma, slash or white space';
  if (/^[-+#]/.test(name)) return "starts with '-', '+' or '#'";
  if (name === '.' || name === '..') return "is '.' or '..'";
  return undefined;
}

/** Why a value cannot be a password field (`:` or a line break would corrupt the shadow line), or undefined. */
export function invalidPasswordHash(hash: string): string | undefined {
  return /[:\n\r]/.test(hash) ? "cannot contain ':' or a line break" : undefined;
}
