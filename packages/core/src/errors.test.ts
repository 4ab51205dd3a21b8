import { describe, expect, it } from "vitest";
import { readFile } from "node:fs/promises";
import { diagnostic, ERROR_CODES, formatDiagnostic } from "./errors.js";

describe("the error catalog", () => {
  it("documents every code under its docs anchor", async () => {
    const docs = await readFile(new URL("../../../docs/errors.md", import.meta.url), "utf8");
    for (const code of ERROR_CODES) expect(docs).toContain(`## ${code.toLowerCase()}`);
  });

  it("formats a located diagnostic as file:line:col, code, path, message and hint", () => {
    const d = diagnostic("XO_CONFIG_UNKNOWN_KEY", { key: "shedule", suggestion: "schedule", allowed: [] }, { file: "p.yaml", line: 3, column: 5, path: "pipeline.shedule" });
    expect(formatDiagnostic(d)).toBe('p.yaml:3:5 error XO_CONFIG_UNKNOWN_KEY\n  pipeline.shedule: unknown key "shedule"\n  hint: did you mean "schedule"?');
    expect(d.docs).toBe("https://xo-foundry.dev/docs/errors#xo_config_unknown_key");
  });
});
