/**
 * Reading what was thrown: its text for a message, and its system error code (`ENOENT`, `EACCES`...). Anything
 * can be thrown in JavaScript, so these take `unknown`. In observe/, so that every room may use them.
 */

/** The message of an Error, or the thrown value as text. */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The system error code of a thrown value (`ENOENT`, `EBUSY`...), or undefined when it carries none. */
export function errnoCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string' ? e.code : undefined;
}

/** Whether the thrown value carries one of these system error codes. */
export function isErrno(e: unknown, ...codes: readonly string[]): boolean {
  const code = errnoCode(e);
  return code !== undefined && codes.includes(code);
}
