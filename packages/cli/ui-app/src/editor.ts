/**
 * The YAML editor: CodeMirror 6 with the YAML language, the server's diagnostics as lint
 * marks, and completion from the project's schema. The page owns the text; the editor
 * tells it about every change a person makes.
 */
import { basicSetup, EditorView } from "codemirror";
import { yaml } from "@codemirror/lang-yaml";
import { HighlightStyle, syntaxHighlighting } from "@codemirror/language";
import { lintGutter, setDiagnostics, type Diagnostic } from "@codemirror/lint";
import { Compartment, EditorState, type Text } from "@codemirror/state";
import { tags } from "@lezer/highlight";
import type { WireDiagnostic } from "./api.js";
import { schemaCompletion } from "./complete.js";
import type { SchemaWalker } from "./schema.js";

/** Colours that keep a 4.5:1 contrast on the dark background (the default style is for light). */
const darkHighlight = HighlightStyle.define(
  [
    { tag: tags.comment, color: "#9aa7b4", fontStyle: "italic" },
    { tag: [tags.propertyName, tags.definition(tags.propertyName)], color: "#7cc4ff" },
    { tag: [tags.string, tags.special(tags.string), tags.content], color: "#b5e08c" },
    { tag: [tags.number, tags.bool, tags.null, tags.atom], color: "#f5b971" },
    { tag: [tags.keyword, tags.meta, tags.punctuation, tags.separator], color: "#d4b8ff" },
  ],
  { themeType: "dark" },
);

export interface Editor {
  readonly view: EditorView;
  /** Replaces the text without telling the page back (it did this). */
  setText(text: string, options?: { keepHistory?: boolean }): void;
  text(): string;
  showDiagnostics(ds: readonly WireDiagnostic[]): void;
  goTo(line: number, column: number): void;
}

export function createEditor(parent: HTMLElement, options: { onChange: (text: string) => void; schema: () => SchemaWalker | undefined }): Editor {
  let quiet = false;
  // One source for the editor's life: CodeMirror matches a result to its source by identity.
  const complete = schemaCompletion(options.schema);
  // Light or dark follows the system setting, also when it changes while the page is open.
  const scheme = matchMedia("(prefers-color-scheme: dark)");
  const theme = new Compartment();
  const themeFor = (dark: boolean) => EditorView.theme({}, { dark });
  const extensions = [
    basicSetup,
    yaml(),
    syntaxHighlighting(darkHighlight),
    lintGutter(),
    EditorState.tabSize.of(2),
    EditorState.languageData.of(() => [{ autocomplete: complete }]),
    EditorView.cspNonce.of(document.querySelector<HTMLMetaElement>('meta[name="xo-style-nonce"]')?.content ?? ""),
    // An explicit tabindex: axe (and some screen readers) do not count contenteditable as focusable.
    EditorView.contentAttributes.of({ "aria-label": "Pipeline YAML", tabindex: "0" }),
    EditorView.updateListener.of((u) => {
      if (u.docChanged && !quiet) options.onChange(u.state.doc.toString());
    }),
  ];
  const state = (doc: string) => EditorState.create({ doc, extensions: [extensions, theme.of(themeFor(scheme.matches))] });
  const view = new EditorView({ parent, state: state("") });
  scheme.addEventListener("change", () => view.dispatch({ effects: theme.reconfigure(themeFor(scheme.matches)) }));
  return {
    view,
    setText(text, o = {}) {
      const old = view.state.doc.toString();
      if (old === text) return;
      // Only the changed middle is replaced, so the cursor and folds elsewhere stay.
      let start = 0;
      while (start < old.length && start < text.length && old[start] === text[start]) start++;
      let end = 0;
      while (end < old.length - start && end < text.length - start && old[old.length - 1 - end] === text[text.length - 1 - end]) end++;
      quiet = true;
      try {
        if (o.keepHistory) view.dispatch({ changes: { from: start, to: old.length - end, insert: text.slice(start, text.length - end) } });
        else view.setState(state(text));
      } finally {
        quiet = false;
      }
    },
    text: () => view.state.doc.toString(),
    showDiagnostics(ds) {
      view.dispatch(setDiagnostics(view.state, ds.map((d) => toCm(view.state.doc, d))));
    },
    goTo(line, column) {
      const l = view.state.doc.line(Math.min(Math.max(line, 1), view.state.doc.lines));
      const pos = Math.min(l.from + Math.max(column - 1, 0), l.to);
      view.dispatch({ selection: { anchor: pos }, scrollIntoView: true });
      view.focus();
    },
  };
}

/** A diagnostic's 1-based line and column as a range over the word there. */
function toCm(doc: Text, d: WireDiagnostic): Diagnostic {
  const line = doc.line(Math.min(Math.max(d.line ?? 1, 1), doc.lines));
  const from = Math.min(line.from + Math.max((d.column ?? 1) - 1, 0), line.to);
  const word = /^[^\s:,\]}]+/.exec(line.text.slice(from - line.from));
  const to = word ? from + word[0].length : Math.min(from + 1, line.to);
  return { from, to, severity: d.severity === "warning" ? "warning" : "error", message: `${d.code}: ${d.path ? `${d.path}: ` : ""}${d.message}${d.hint ? `\nhint: ${d.hint}` : ""}`, source: "xo-foundry" };
}
