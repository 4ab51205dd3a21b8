/**
 * YAML parsing that keeps source positions, so every error can point at
 * file:line:column, and that refuses alias bombs before expanding them.
 */
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from "yaml";
import { diagnostic, type Diagnostic } from "../errors.js";

export const MAX_ALIAS_COUNT = 100;

export interface ParsedYaml {
  readonly file: string;
  readonly doc: Document.Parsed;
  readonly lines: LineCounter;
  readonly value: unknown;
  readonly diagnostics: readonly Diagnostic[];
}

export type PathSegment = string | number;

export function parseYaml(text: string, file: string): ParsedYaml {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false, strict: true });
  const diagnostics: Diagnostic[] = [];
  for (const e of doc.errors) {
    const pos = lines.linePos(e.pos[0]);
    const detail = e.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
    diagnostics.push(diagnostic("XO_CONFIG_YAML_SYNTAX", { detail }, { file, line: pos.line, column: pos.col }));
  }
  let value: unknown;
  if (diagnostics.length === 0) {
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (e) {
      const aliasBomb = e instanceof ReferenceError || /alias/i.test(String((e as Error).message));
      diagnostics.push(
        aliasBomb
          ? diagnostic("XO_CONFIG_ALIAS_LIMIT", { limit: MAX_ALIAS_COUNT }, { file, line: 1, column: 1 })
          : diagnostic("XO_CONFIG_YAML_SYNTAX", { detail: (e as Error).message }, { file, line: 1, column: 1 }),
      );
    }
  }
  return { file, doc, lines, value, diagnostics };
}

/**
 * The position of `path` in the document: the key for `mode: "key"` (unknown
 * keys), else the value. Walks up to the nearest existing ancestor when the
 * path is missing (a missing key is reported at its parent mapping).
 */
export function locate(parsed: ParsedYaml, path: readonly PathSegment[], mode: "key" | "value" = "value"): { line: number; column: number } | undefined {
  let node: Node | null | undefined = parsed.doc.contents as Node | null;
  let keyNode: Node | null | undefined;
  let complete = true;
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(segment));
      if (!pair) {
        complete = false;
        break;
      }
      keyNode = pair.key as Node;
      node = pair.value as Node | null;
    } else if (isSeq(node) && typeof segment === "number" && node.items[segment]) {
      keyNode = undefined;
      node = node.items[segment] as Node;
    } else {
      complete = false;
      break;
    }
  }
  // A missing key is reported at the key of its parent mapping.
  const target = (mode === "key" || !complete) && keyNode ? keyNode : (node ?? keyNode);
  const offset = target?.range?.[0];
  if (offset === undefined) return undefined;
  const pos = parsed.lines.linePos(offset);
  return { line: pos.line, column: pos.col };
}

/** Whether `path` exists in the parsed document (used to decide which file set a value). */
export function hasPath(parsed: ParsedYaml, path: readonly PathSegment[]): boolean {
  return parsed.doc.hasIn(path);
}
