/** Whether `e` is a Node.js system error with one of the given errno codes (`ENOENT`, `ELOOP`...). */
export function isErrno(e: unknown, ...codes: string[]): boolean {
  const code = e instanceof Error ? (e as NodeJS.ErrnoException).code : undefined;
  return code !== undefined && codes.includes(code);
}
