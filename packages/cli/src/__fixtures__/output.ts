import { afterEach, beforeEach, vi } from "vitest";

/**
 * Captures what commands write to stdout and stderr during each test of the calling file,
 * without colors (they depend on the terminal running the tests; the words do not).
 */
export function captureOutput(): {
  readonly out: () => string;
  readonly err: () => string;
  /** Forgets what was written so far to one stream, so a test can look at the next command alone. */
  readonly clear: (stream: "out" | "err") => void;
} {
  let stdout: string[] = [];
  let stderr: string[] = [];
  beforeEach(() => {
    stdout = [];
    stderr = [];
    vi.spyOn(process.stdout, "write").mockImplementation((chunk) => (stdout.push(String(chunk)), true));
    vi.spyOn(process.stderr, "write").mockImplementation((chunk) => (stderr.push(String(chunk)), true));
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });
  const plain = (parts: string[]) => parts.join("").replace(/\x1b\[[0-9;]*m/g, "");
  return {
    out: () => plain(stdout),
    err: () => plain(stderr),
    clear: (stream) => {
      if (stream === "out") stdout = [];
      else stderr = [];
    },
  };
}
