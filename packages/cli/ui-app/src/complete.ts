/**
 * Completion of keys and choice values from the project's JSON Schema. Where the cursor
 * is in the YAML is read from indentation, line by line, so it works while the file is
 * half typed and does not parse.
 */
import type { CompletionContext, CompletionResult } from "@codemirror/autocomplete";
import type { SchemaWalker } from "./schema.js";

interface LineInfo {
  /** Spaces before the line's first character. */
  readonly indent: number;
  readonly dash: boolean;
  /** The key's column: after `- ` on an item line. */
  readonly column: number;
  readonly key?: string;
  readonly value?: string;
}

const LINE = /^(\s*)(-\s+)?(?:([A-Za-z_][\w.-]*)\s*:(?:\s+(.*))?)?\s*$/;

function info(text: string): LineInfo | undefined {
  if (/^\s*(#.*)?$/.test(text)) return undefined;
  const m = LINE.exec(text.replace(/\s+#.*$/, ""));
  const indent = /^\s*/.exec(text)![0].length;
  if (!m) return { indent, dash: false, column: indent };
  const dash = m[2] !== undefined;
  return { indent, dash, column: indent + (m[2]?.length ?? 0), ...(m[3] ? { key: m[3] } : {}), ...(m[4] ? { value: m[4].trim() } : {}) };
}

/** The path of the mapping a key at `column` on line `at` (0-based) belongs to, and that mapping's other scalar keys. */
export function containerAt(lines: readonly string[], at: number, column: number, dash: boolean): { path: string[]; siblings: Record<string, string> } {
  const path: string[] = [];
  let target = column;
  if (dash) {
    path.unshift("[]");
    target = /^\s*/.exec(lines[at] ?? "")![0].length;
  }
  for (let i = at - 1; i >= 0 && target > 0; i--) {
    const l = info(lines[i]!);
    if (!l) continue;
    if (l.dash && l.indent < target && target <= l.column) {
      if (path[0] !== "[]" || target !== l.indent) path.unshift("[]");
      target = l.indent;
      continue;
    }
    if (l.key && l.column < target) {
      path.unshift(l.key);
      target = l.column;
      if (l.dash) {
        path.unshift("[]");
        target = l.indent;
      }
    }
  }
  return { path, siblings: siblingsAt(lines, at, column) };
}

/** The scalar `key: value` pairs of the block around line `at` whose keys start at `column`. */
function siblingsAt(lines: readonly string[], at: number, column: number): Record<string, string> {
  const out: Record<string, string> = {};
  const take = (l: LineInfo) => {
    if (l.key && l.value !== undefined && l.column === column) out[l.key] = l.value.replace(/^["']|["']$/g, "");
  };
  for (const dir of [-1, 1]) {
    for (let i = at + dir; i >= 0 && i < lines.length; i += dir) {
      const l = info(lines[i]!);
      if (!l) continue;
      if (l.column < column || (l.dash && l.indent < column)) {
        // The item line that opens this block holds one of its keys.
        if (l.dash && l.column === column) take(l);
        break;
      }
      take(l);
    }
  }
  return out;
}

export function schemaCompletion(schema: () => SchemaWalker | undefined) {
  return (context: CompletionContext): CompletionResult | null => {
    const walker = schema();
    if (!walker) return null;
    const line = context.state.doc.lineAt(context.pos);
    const before = line.text.slice(0, context.pos - line.from);
    const lines = context.state.doc.toString().split("\n");
    const at = line.number - 1;

    // A value after `key: `: the key's choices.
    const value = /^(\s*)(-\s+)?([A-Za-z_][\w.-]*)\s*:\s+([\w@.-]*)$/.exec(before);
    if (value) {
      const column = value[1]!.length + (value[2]?.length ?? 0);
      const { path, siblings } = containerAt(lines, at, column, value[2] !== undefined);
      const nodes = walker.at([...path, value[3]!], (vs) => walker.matching(vs, path.length === 0 ? {} : siblings));
      const choices = walker.choices(nodes);
      if (!choices.length) return null;
      return {
        from: context.pos - value[4]!.length,
        options: choices.map((c) => ({ label: typeof c === "string" && /^[@*!&%{[]/.test(c) ? JSON.stringify(c) : String(c), type: "enum" })),
        validFor: /^[\w@."-]*$/,
      };
    }

    // A key: the keys of the mapping the cursor is in, less those already there.
    const key = /^(\s*)(-\s+)?([A-Za-z_][\w.-]*)?$/.exec(before);
    if (!key || (!context.explicit && !key[3] && !key[2])) return null;
    const column = key[1]!.length + (key[2]?.length ?? 0);
    const { path, siblings } = containerAt(lines, at, column, key[2] !== undefined);
    const keys = walker.keys(walker.at(path), siblings);
    if (!keys.size) return null;
    return {
      from: context.pos - (key[3]?.length ?? 0),
      options: [...keys]
        .filter(([k]) => !(k in siblings) || k === key[3])
        .map(([k, s]) => {
          const node = walker.resolve(s);
          const nested = walker.variants(node).some((v) => v.type === "object" || v.type === "array") && !walker.kind(node);
          return { label: k, type: "property", apply: nested ? `${k}:\n${" ".repeat(column + 2)}` : `${k}: `, ...(node?.description ? { info: node.description } : {}) };
        }),
      validFor: /^[\w.-]*$/,
    };
  };
}
