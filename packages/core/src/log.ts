/** The logger every step gets. Messages pass through the secret redactor before output. */
export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  debug(message: string, fields?: Record<string, unknown>): void;
  /** A logger whose messages are prefixed with `scope`. */
  child(scope: string): Logger;
}

export const silentLogger: Logger = {
  info() {},
  warn() {},
  debug() {},
  child() {
    return silentLogger;
  },
};
