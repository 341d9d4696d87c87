/** Leveled logging. The engine hands each resource one already prefixed with `kind[name]:`. */
export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}
