import { describe, expect, it } from "vitest";
import { TextDocument } from "vscode-languageserver-textdocument";
import { formatDiagnostic } from "@xo-foundry/core";
import { quickFixes } from "./code-actions.js";
import { cliMessage, suggestionOf, SOURCE } from "./diagnostics.js";

const doc = TextDocument.create("file:///p.yaml", "yaml", 1, 'pipeline:\n  schedule: "@dayly"\n  timezone: europe/berlin\n');
const at = (line: number, start: number, end: number) => ({ start: { line, character: start }, end: { line, character: end } });

describe("quickFixes", () => {
  it("replaces a quoted value with the suggestion in the same quotes", () => {
    const message = 'pipeline.schedule: unknown preset "@dayly"; did you mean "@daily"?';
    const [fix] = quickFixes(doc, [{ range: at(1, 12, 20), message, source: SOURCE }]);
    expect(fix?.edit?.changes?.[doc.uri]).toEqual([{ range: at(1, 12, 20), newText: '"@daily"' }]);
  });

  it("keeps a plain scalar plain, and prefers the suggestion the diagnostic carries", () => {
    const [fix] = quickFixes(doc, [{ range: at(2, 12, 25), message: "no hint here", source: SOURCE, data: { suggestion: "Europe/Berlin" } }]);
    expect(fix?.edit?.changes?.[doc.uri]).toEqual([{ range: at(2, 12, 25), newText: "Europe/Berlin" }]);
  });

  it("offers nothing for other servers' diagnostics or diagnostics without a suggestion", () => {
    expect(quickFixes(doc, [{ range: at(1, 12, 20), message: 'did you mean "@daily"?', source: "yaml" }])).toEqual([]);
    expect(quickFixes(doc, [{ range: at(1, 12, 20), message: "expected a string", source: SOURCE }])).toEqual([]);
  });
});

describe("messages", () => {
  it("are what the CLI prints under the location line", () => {
    const d = { code: "XO_CONFIG_UNKNOWN_KEY", severity: "error" as const, message: 'unknown key "nme"', hint: 'did you mean "name"?', path: "source.nme", file: "a.yaml", line: 3, column: 3, docs: "https://x" };
    expect(formatDiagnostic(d)).toBe(`a.yaml:3:3 error XO_CONFIG_UNKNOWN_KEY\n${cliMessage(d).replace(/^/gm, "  ")}`);
    expect(suggestionOf(`${d.message}\n${d.hint}`)).toBe("name");
    expect(suggestionOf('did you mean "a \\"b\\""?')).toBe('a "b"');
  });
});
