import pc from "picocolors";
import { formatDiagnostic, redact, type Diagnostic } from "@xo-foundry/core";

export interface Output {
  readonly json: boolean;
  /** A human line on stdout (suppressed in --json mode). */
  line(text?: string): void;
  /** A machine document on stdout (only in --json mode). */
  document(value: unknown): void;
  diagnostics(ds: readonly Diagnostic[]): void;
}

export function output(json: boolean): Output {
  return {
    json,
    line(text = "") {
      if (!json) process.stdout.write(`${redact(text)}\n`);
    },
    document(value) {
      if (json) process.stdout.write(`${redact(JSON.stringify(value, null, 2))}\n`);
    },
    diagnostics(ds) {
      if (json) return;
      for (const d of ds) process.stderr.write(`${redact(colorize(formatDiagnostic(d), d))}\n`);
    },
  };
}

function colorize(text: string, d: Diagnostic): string {
  const [head, ...rest] = text.split("\n");
  const color = d.severity === "error" ? pc.red : pc.yellow;
  const styled = head!.replace(`${d.severity} ${d.code}`, color(`${d.severity} ${pc.bold(d.code)}`));
  return [styled, ...rest.map((l) => (l.startsWith("  hint:") ? pc.dim(l) : l))].join("\n");
}

export const symbols = {
  ok: pc.green("✔"),
  fail: pc.red("✖"),
  skip: pc.yellow("◌"),
  stale: pc.yellow("~"),
};

export function duration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)}ms` : `${(ms / 1000).toFixed(1)}s`;
}
