/**
 * Completion and hover from the project's JSON Schema: the keys a mapping may still
 * take (required first), the values a key or list item may take, and what a key means.
 * A key whose value is a mapping or a list is inserted with its first child line
 * started, so typing goes on at the right indentation.
 */
import { isMap, isNode, isScalar } from "yaml";
import {
  CompletionItemKind,
  InsertTextFormat,
  InsertTextMode,
  MarkupKind,
  type CompletionItem,
  type Hover,
  type Position,
  type Range,
} from "vscode-languageserver";
import { cursorContext, keyAt, tokenize } from "./cursor.js";
import type { ParsedText } from "./ranges.js";
import { defaultOf, descriptionOf, SchemaWalker, typeLabel, types, type JsonSchema, type PathSegment, type ValuesAt } from "./schema.js";

export interface CompletionOptions {
  /** The client takes snippets (`$0`); without, a key's insert text is plain. */
  readonly snippets: boolean;
}

/** What a key's value is, for what its completion inserts after the colon. */
export type ValueShape = "scalar" | "object" | "array";

export function completions(parsed: ParsedText, schema: JsonSchema, at: Position, options: CompletionOptions = { snippets: false }): CompletionItem[] {
  const lines = parsed.text.split(/\r?\n/);
  const context = cursorContext(lines, at.line, at.character);
  if (!context) return [];
  const walker = new SchemaWalker(schema);
  const values = valuesOf(parsed, at.line);
  const range = { start: { line: at.line, character: context.column }, end: at };
  if (context.kind === "value") {
    const schemas = childSchemas(walker, context.path, context.key, values);
    return walker.values(schemas).map((v) => valueItem(v, range, context.needsSpace ? " " : ""));
  }
  const schemas = walker.at(context.path, values);
  const present = new Set(Object.keys(values(context.path) ?? {}));
  const keys = walker
    .properties(schemas)
    .filter((p) => !present.has(p.name))
    .map(
      (p): CompletionItem => ({
        label: p.name,
        kind: CompletionItemKind.Property,
        detail: [typeLabel(p.schemas, walker), p.required ? "(required)" : ""].filter(Boolean).join(" "),
        ...documentation(descriptionOf(p.schemas)),
        sortText: `${p.required ? "0" : "1"}${p.name}`,
        filterText: p.name,
        ...keyInsert(p.name, shapeOf(p.schemas), range, lines, options),
      }),
    );
  // `- ` may start a mapping or be a scalar item (`weekday:` then `- mon`).
  const items = context.listItem ? walker.values(schemas).map((v) => valueItem(v, range)) : [];
  return [...keys, ...items];
}

export function hover(parsed: ParsedText, schema: JsonSchema, at: Position): Hover | null {
  const lines = parsed.text.split(/\r?\n/);
  const key = keyAt(lines, at.line, at.character);
  if (!key) return null;
  const walker = new SchemaWalker(schema);
  const name = key.path[key.path.length - 1] as string;
  const schemas = childSchemas(walker, key.path.slice(0, -1), name, valuesOf(parsed, -1));
  if (schemas.length === 0) return null;
  const type = typeLabel(schemas, walker);
  const description = descriptionOf(schemas);
  const values = walker.values(schemas).filter((v) => typeof v !== "boolean");
  const fallback = defaultOf(schemas);
  const parts = [
    `**${name}**${type ? ` \`${type}\`` : ""}`,
    description,
    values.length > 1 ? `One of: ${values.map((v) => `\`${JSON.stringify(v)}\``).join(", ")}` : undefined,
    fallback ? `Default: \`${JSON.stringify(fallback.value)}\`` : undefined,
  ].filter((p): p is string => !!p);
  return {
    contents: { kind: MarkupKind.Markdown, value: parts.join("\n\n") },
    range: { start: { line: at.line, character: key.start }, end: { line: at.line, character: key.end } },
  };
}

/** The schemas of `key` in the mapping at `path`, the union there narrowed by its other keys. */
function childSchemas(walker: SchemaWalker, path: readonly PathSegment[], key: string, values: ValuesAt): JsonSchema[] {
  const parents = walker.at(path, values, key);
  return [...new Set(parents.flatMap((s) => walker.child(s, key)).flatMap((s) => walker.branches(s, values([...path, key]))))];
}

/**
 * The mappings of the document as written, for picking union branches; keys on the line
 * being typed are left out (they are half written).
 */
function valuesOf(parsed: ParsedText, cursorLine: number): ValuesAt {
  return (prefix) => {
    let node: unknown;
    try {
      node = prefix.length ? parsed.doc.getIn(prefix, true) : parsed.doc.contents;
    } catch {
      return undefined;
    }
    if (!isMap(node)) return undefined;
    const out: Record<string, unknown> = {};
    for (const pair of node.items) {
      if (!isScalar(pair.key)) continue;
      const start = pair.key.range?.[0];
      if (start !== undefined && parsed.lines.linePos(start).line - 1 === cursorLine) continue;
      out[String(pair.key.value)] = plain(pair.value);
    }
    return out;
  };
}

/** A node's value for comparing with a schema's constants; an alias (`*defaults`) is left unknown. */
function plain(node: unknown): unknown {
  if (!isNode(node)) return node ?? null;
  try {
    return node.toJSON();
  } catch {
    return undefined;
  }
}

/** A mapping or list when every alternative is one (`schedule` may be a string too: no block then). */
function shapeOf(schemas: readonly JsonSchema[]): ValueShape {
  const all = new Set(schemas.flatMap(types));
  if (all.size === 0 || [...all].some((t) => t !== "object" && t !== "array")) return "scalar";
  return all.has("object") ? "object" : "array";
}

/**
 * What completing key `name` (a plain YAML key) inserts: `name: ` for a scalar; for a mapping or a list,
 * `name:` and a new line indented one unit deeper than the key (a list's first `- `
 * included), where the cursor goes. The text carries its full indentation, so clients
 * are told to insert it as is rather than indent it again.
 */
export function keyInsert(name: string, shape: ValueShape, range: Range, lines: readonly string[], options: CompletionOptions): Pick<CompletionItem, "textEdit" | "insertTextFormat" | "insertTextMode"> {
  if (shape === "scalar") return { textEdit: { range, newText: `${name}: ` } };
  const child = `\n${" ".repeat(range.start.character + indentUnit(lines))}${shape === "array" ? "- " : ""}`;
  return options.snippets
    ? { textEdit: { range, newText: `${escapeSnippet(name)}:${child}$0` }, insertTextFormat: InsertTextFormat.Snippet, insertTextMode: InsertTextMode.asIs }
    : { textEdit: { range, newText: `${name}:${child}` }, insertTextFormat: InsertTextFormat.PlainText, insertTextMode: InsertTextMode.asIs };
}

/**
 * The document's indentation step: the most common indent of a mapping's first child
 * line past its key (a list at its key's own column adds none); 2 when nothing says.
 */
export function indentUnit(lines: readonly string[]): number {
  const counts = new Map<number, number>();
  let open: number | undefined;
  for (const line of lines) {
    const t = tokenize(line);
    if (!t) continue;
    const first = t.dashes[0] ?? t.contentColumn;
    if (open !== undefined && first > open) counts.set(first - open, (counts.get(first - open) ?? 0) + 1);
    open = t.key && t.key.value === "" ? t.key.column : undefined;
  }
  let best = 2;
  let seen = 0;
  for (const [unit, n] of counts) if (n > seen || (n === seen && unit < best)) [best, seen] = [unit, n];
  return best;
}

function escapeSnippet(text: string): string {
  return text.replace(/[$}\\]/g, (c) => `\\${c}`);
}

function valueItem(value: unknown, range: { start: Position; end: Position }, before = ""): CompletionItem {
  const text = yamlScalar(value);
  return { label: text, kind: CompletionItemKind.EnumMember, filterText: `${before}${text}`, textEdit: { range, newText: `${before}${text}` } };
}

/** A value as a YAML scalar that reads back as the same value (`@daily` and `"yes"` need quotes). */
export function yamlScalar(value: unknown): string {
  if (typeof value !== "string") return JSON.stringify(value);
  const plain = /^[A-Za-z_][A-Za-z0-9_./-]*$/.test(value) && !/^(?:true|false|null|yes|no|on|off|y|n)$/i.test(value);
  return plain ? value : JSON.stringify(value);
}

function documentation(description: string | undefined): Pick<CompletionItem, "documentation"> {
  return description ? { documentation: { kind: MarkupKind.Markdown, value: description } } : {};
}
