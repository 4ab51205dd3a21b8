import { redact, type Logger } from "@xo-foundry/core";

export interface ConsoleLoggerOptions {
  readonly scope?: string;
  readonly verbose?: boolean;
  /** Where lines go; stderr by default so stdout stays machine-readable. */
  readonly write?: (line: string) => void;
}

/** Plain `[scope] message key=value` lines, every one passed through the secret redactor. */
export function consoleLogger(options: ConsoleLoggerOptions = {}): Logger {
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const emit = (level: string, message: string, fields?: Record<string, unknown>) => {
    const scope = options.scope ? `[${options.scope}] ` : "";
    const tail = fields
      ? Object.entries(fields)
          .map(([k, v]) => ` ${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
          .join("")
      : "";
    write(redact(`${level === "info" ? "" : `${level}: `}${scope}${message}${tail}`));
  };
  return {
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    debug: (m, f) => {
      if (options.verbose) emit("debug", m, f);
    },
    child: (scope) => consoleLogger({ ...options, scope: options.scope ? `${options.scope}:${scope}` : scope }),
  };
}
