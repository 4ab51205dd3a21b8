/**
 * Completion and hover from the project's JSON Schema: the keys a mapping may still
 * take (required first), the values a key or list item may take, and what a key means.
 */
import { isMap, isNode, isScalar } from "yaml";
import { CompletionItemKind, MarkupKind, type CompletionItem, type Hover, type Position } from "vscode-languageserver";
import { cursorContext, keyAt } from "./cursor.js";
import type { ParsedText } from "./ranges.js";
import { defaultOf, descriptionOf, SchemaWalker, typeLabel, type JsonSchema, type PathSegment, type ValuesAt } from "./schema.js";

export function completions(parsed: ParsedText, schema: JsonSchema, at: Position): CompletionItem[] {
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
        textEdit: { range, newText: `${p.name}: ` },
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
