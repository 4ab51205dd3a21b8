/**
 * Core diagnostics as LSP diagnostics: the words `validate-config` prints, the code with
 * its docs link, and the range of the key or value they are about.
 */
import path from "node:path";
import { formatDiagnostic, type Diagnostic } from "@xo-foundry/core";
import { DiagnosticSeverity, type Diagnostic as LspDiagnostic } from "vscode-languageserver";
import { diagnosticRange, type ParsedText } from "./ranges.js";

export const SOURCE = "xo-foundry";

/** What a quick fix needs, carried in `Diagnostic.data` (clients send it back with code actions). */
export interface DiagnosticData {
  readonly suggestion?: string;
  readonly path?: string;
}

export function toLspDiagnostic(d: Diagnostic, parsed: ParsedText): LspDiagnostic {
  const suggestion = suggestionOf(`${d.message}\n${d.hint ?? ""}`);
  const data: DiagnosticData = { ...(suggestion !== undefined ? { suggestion } : {}), ...(d.path ? { path: d.path } : {}) };
  return {
    range: diagnosticRange(parsed, d.line, d.column, d.path),
    severity: severity(d.severity),
    code: d.code,
    codeDescription: { href: d.docs },
    source: SOURCE,
    message: cliMessage(d),
    data,
  };
}

/**
 * The diagnostic as the CLI prints it, without the `file:line:column severity CODE` head
 * the editor shows on its own: `path: message`, then `hint: ...` on its own line.
 */
export function cliMessage(d: Diagnostic): string {
  return formatDiagnostic(d)
    .split("\n")
    .slice(1)
    .map((line) => line.replace(/^ {2}/, ""))
    .join("\n");
}

/**
 * The replacement a `did you mean "x"?` in a message or hint offers. Core writes the
 * suggestion JSON-quoted (errors.ts `didYouMean`, and schedule presets in the message).
 */
export function suggestionOf(text: string): string | undefined {
  const m = /did you mean ("(?:[^"\\]|\\.)*")\?/.exec(text);
  if (!m) return undefined;
  try {
    const s = JSON.parse(m[1]!) as unknown;
    return typeof s === "string" && s !== "" ? s : undefined;
  } catch {
    return undefined;
  }
}

function severity(s: Diagnostic["severity"]): DiagnosticSeverity {
  switch (s) {
    case "error":
      return DiagnosticSeverity.Error;
    case "warning":
      return DiagnosticSeverity.Warning;
  }
}

/**
 * Diagnostics by the absolute file they are in. Core names files relative to the working
 * directory (as the CLI prints them); one without a file is about `file` itself.
 */
export function byFile(diagnostics: readonly Diagnostic[], file: string, cwd = process.cwd()): Map<string, Diagnostic[]> {
  const out = new Map<string, Diagnostic[]>([[file, []]]);
  for (const d of diagnostics) {
    const where = d.file ? path.resolve(cwd, d.file) : file;
    const list = out.get(where) ?? [];
    list.push(d);
    out.set(where, list);
  }
  return out;
}
