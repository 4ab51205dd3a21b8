import type { Logger } from "@xo-foundry/core";

export interface RecordingLogger extends Logger {
  readonly warnings: string[];
  readonly infos: string[];
}

/** A logger that keeps what it was told, for asserting retries and warnings. */
export function recordingLogger(): RecordingLogger {
  const warnings: string[] = [];
  const infos: string[] = [];
  const log: RecordingLogger = {
    warnings,
    infos,
    info: (m) => void infos.push(m),
    warn: (m) => void warnings.push(m),
    debug: () => {},
    child: () => log,
  };
  return log;
}

/** The error `run` fails with; fails the test when it succeeds. */
export async function rejectionOf(run: () => Promise<unknown>): Promise<Error> {
  try {
    await run();
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected a failure, but it succeeded");
}
