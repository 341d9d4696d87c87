/** The host's identity in logs, graphviz files and (later) etcd keys. */
import { hostname } from 'node:os';

/** Returns an error message, or undefined when `h` is a valid hostname. */
export function checkHostname(h: string): string | undefined {
  if (h.length === 0 || h.length > 253) return 'a hostname has 1 to 253 characters';
  if (!/^[A-Za-z0-9._-]+$/.test(h)) return 'a hostname may contain only letters, digits, `.`, `_` and `-`';
  if (!/[A-Za-z0-9]/.test(h)) return 'a hostname needs at least one letter or digit';
  if (h.startsWith('.') || h.startsWith('-')) return 'a hostname may not start with `.` or `-`';
  return undefined;
}

export function defaultHostname(): string {
  return hostname();
}
