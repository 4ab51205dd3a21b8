/**
 * Quick fixes for `did you mean "x"?`: replace the misspelt key or value with the
 * suggestion core made (an unknown key, plugin, enum value, time zone or schedule preset).
 */
import { CodeActionKind, type CodeAction, type Diagnostic as LspDiagnostic } from "vscode-languageserver";
import type { TextDocument } from "vscode-languageserver-textdocument";
import { SOURCE, suggestionOf, type DiagnosticData } from "./diagnostics.js";
import { yamlScalar } from "./completion.js";

export function quickFixes(document: TextDocument, diagnostics: readonly LspDiagnostic[]): CodeAction[] {
  const actions: CodeAction[] = [];
  for (const d of diagnostics) {
    if (d.source !== SOURCE || d.range.start.line !== d.range.end.line) continue;
    // `data` comes back from clients that keep it; the message always carries the suggestion.
    const suggestion = (d.data as DiagnosticData | undefined)?.suggestion ?? suggestionOf(typeof d.message === "string" ? d.message : d.message.value);
    if (suggestion === undefined) continue;
    const current = document.getText(d.range);
    // Keep the quoting the user chose; a plain scalar gets quotes only when YAML needs them.
    const newText = current.startsWith('"') ? JSON.stringify(suggestion) : current.startsWith("'") ? `'${suggestion.replace(/'/g, "''")}'` : yamlScalar(suggestion);
    if (newText === current) continue;
    actions.push({
      title: `Change to ${JSON.stringify(suggestion)}`,
      kind: CodeActionKind.QuickFix,
      diagnostics: [d],
      isPreferred: true,
      edit: { changes: { [document.uri]: [{ range: d.range, newText }] } },
    });
  }
  return actions;
}
