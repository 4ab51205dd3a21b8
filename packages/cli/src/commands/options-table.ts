/**
 * Markdown tables of a plugin's options, built from the JSON Schema that zod 4 makes of
 * each zod schema (`schema.toJSONSchema()`, the same conversion `xo-foundry schema` uses),
 * so a plugin's README says what its validator accepts. Keys keep the order the schema
 * declares them in; everything else is sorted by code point, so the output is the same
 * on every machine.
 */
import type { OptionsSchema } from "@xo-foundry/core";

type Json = null | boolean | number | string | readonly Json[] | { readonly [key: string]: Json };
type JsonSchema = { readonly [key: string]: Json | undefined };

export interface OptionRow {
  /** `a.b`, `a[].b`, and for a variant of a union `a (type: x)`. */
  readonly key: string;
  readonly type: string;
  /** `required`, `default <value>` or `optional`. */
  readonly presence: string;
  readonly description: string;
}

/** The rows of one options schema: its keys, then the keys of nested objects, arrays of objects and tagged unions. */
export function optionRows(schema: OptionsSchema): OptionRow[] {
  const root = schema.toJSONSchema({ io: "input", unrepresentable: "any" }) as unknown as JsonSchema;
  const rows: OptionRow[] = [];
  new Walker(root).properties(root, "", rows);
  return rows;
}

/** A GitHub-flavoured Markdown table of the rows; `none` when the schema has no keys. */
export function optionsTable(rows: readonly OptionRow[], none = "No options."): string {
  if (rows.length === 0) return none;
  const lines = ["| Key | Type | Required | Description |", "| --- | --- | --- | --- |"];
  for (const r of rows) lines.push(`| ${cell(r.key)} | ${cell(r.type)} | ${cell(r.presence)} | ${cell(prose(r.description))} |`);
  return lines.join("\n");
}

class Walker {
  readonly #defs: Readonly<Record<string, JsonSchema>>;

  constructor(root: JsonSchema) {
    this.#defs = { ...(asObject(root.$defs) ?? {}), ...(asObject(root.definitions) ?? {}) } as Record<string, JsonSchema>;
  }

  /** The keys of an object schema, each followed by what is nested in it. */
  properties(schema: JsonSchema, prefix: string, rows: OptionRow[], variant = ""): void {
    const object = this.deref(schema);
    const props = asObject(object.properties) ?? {};
    const required = new Set(Array.isArray(object.required) ? object.required.map(String) : []);
    for (const [name, value] of Object.entries(props)) {
      const prop = this.deref(value as JsonSchema);
      const key = `${prefix}${name}`;
      rows.push({ key: code(key) + variant, type: this.type(prop), presence: presence(prop, required.has(name)), description: text(prop.description) });
      this.nested(prop, key, rows);
    }
  }

  /** Objects, arrays of objects and tagged unions get rows of their own under the key. */
  nested(schema: JsonSchema, key: string, rows: OptionRow[]): void {
    const s = this.deref(schema);
    const nonNull = this.branches(s).filter((b) => b.type !== "null");
    if (nonNull.length === 1 && nonNull[0] !== s) return this.nested(nonNull[0]!, key, rows);
    if (asObject(s.properties)) return this.properties(s, `${key}.`, rows);
    if (s.type === "array" && s.items && typeof s.items === "object" && !Array.isArray(s.items)) {
      const items = this.deref(s.items as JsonSchema);
      if (asObject(items.properties) || this.tag(this.branches(items))) this.nested(items, `${key}[]`, rows);
      return;
    }
    const tag = this.tag(nonNull);
    if (!tag) return;
    for (const branch of nonNull) {
      const value = constOf(asObject(this.deref(branch).properties)![tag] as JsonSchema);
      const variant = ` (${tag}: ${code(String(value))})`;
      rows.push({ key: code(key) + variant, type: "object", presence: "", description: text(this.deref(branch).description) });
      const inner: OptionRow[] = [];
      this.properties(branch, `${key}.`, inner, variant);
      rows.push(...inner.filter((r) => r.key !== code(`${key}.${tag}`) + variant));
    }
  }

  type(schema: JsonSchema): string {
    const s = this.deref(schema);
    if (s.const !== undefined) return literal(s.const);
    if (Array.isArray(s.enum)) return s.enum.map(literal).join(" | ");
    const branches = this.branches(s);
    if (branches.length > 1 || (branches.length === 1 && branches[0] !== s)) {
      if (this.tag(branches.filter((b) => b.type !== "null"))) return branches.some((b) => b.type === "null") ? "object or null" : "object";
      return [...new Set(branches.map((b) => this.type(b)))].join(" or ");
    }
    if (Array.isArray(s.type)) return s.type.map(String).join(" or ");
    switch (s.type) {
      case "array": {
        const items = s.items && typeof s.items === "object" && !Array.isArray(s.items) ? this.type(s.items as JsonSchema) : "any";
        return items.includes(" ") ? `list of (${items})` : `${items}[]`;
      }
      case "object": {
        if (asObject(s.properties)) return "object";
        const values = s.additionalProperties;
        return values && typeof values === "object" && !Array.isArray(values) ? `map of ${this.type(values as JsonSchema)}` : "object";
      }
      case "integer":
      case "number":
        return `${s.type}${range(s)}`;
      case "string":
      case "boolean":
      case "null":
        return s.type;
      default:
        return "any";
    }
  }

  /** The alternatives of a union, or the schema itself. */
  branches(s: JsonSchema): JsonSchema[] {
    const list = Array.isArray(s.anyOf) ? s.anyOf : Array.isArray(s.oneOf) ? s.oneOf : undefined;
    return list ? list.map((b) => this.deref(b as JsonSchema)) : [s];
  }

  /** The key every object branch has with a constant value (`type`), if the union is tagged. */
  tag(branches: readonly JsonSchema[]): string | undefined {
    if (branches.length < 2) return undefined;
    const props = branches.map((b) => asObject(this.deref(b).properties));
    if (props.some((p) => !p)) return undefined;
    return Object.keys(props[0]!).find((k) => props.every((p) => p![k] !== undefined && constOf(this.deref(p![k] as JsonSchema)) !== undefined));
  }

  deref(schema: JsonSchema): JsonSchema {
    const ref = schema.$ref;
    if (typeof ref !== "string") return schema;
    const name = ref.split("/").pop() ?? "";
    const target = this.#defs[name];
    // A reference back to the root (a recursive schema) is shown as a plain object.
    return target ? { ...target, ...(schema.description !== undefined ? { description: schema.description } : {}) } : { type: "object" };
  }
}

function presence(s: JsonSchema, required: boolean): string {
  if (s.default !== undefined) return `default ${literal(s.default)}`;
  return required ? "required" : "optional";
}

function range(s: JsonSchema): string {
  const parts: string[] = [];
  if (typeof s.minimum === "number") parts.push(`min ${s.minimum}`);
  if (typeof s.exclusiveMinimum === "number") parts.push(`above ${s.exclusiveMinimum}`);
  if (typeof s.maximum === "number" && Math.abs(s.maximum) < Number.MAX_SAFE_INTEGER) parts.push(`max ${s.maximum}`);
  if (typeof s.exclusiveMaximum === "number") parts.push(`below ${s.exclusiveMaximum}`);
  // zod writes the safe-integer bounds of every int(); they say nothing to a reader.
  const meaningful = parts.filter((p) => !/ -?9007199254740991$/.test(p));
  return meaningful.length ? ` (${meaningful.join(", ")})` : "";
}

function constOf(s: JsonSchema | undefined): Json | undefined {
  if (!s) return undefined;
  if (s.const !== undefined) return s.const;
  return Array.isArray(s.enum) && s.enum.length === 1 ? s.enum[0] : undefined;
}

/** A value as a reader writes it in YAML: strings bare, the rest as JSON. */
function literal(value: Json | undefined): string {
  // An empty string would be an empty code span, which Markdown does not show.
  return code(typeof value === "string" && value !== "" ? value : JSON.stringify(value));
}

/** A code span that survives any backticks in the text. */
function code(value: string): string {
  const longest = Math.max(0, ...[...value.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = "`".repeat(longest + 1);
  const pad = value.startsWith("`") || value.endsWith("`") ? " " : "";
  return `${fence}${pad}${value}${pad}${fence}`;
}

function text(value: Json | undefined): string {
  return typeof value === "string" ? value.replace(/\s*\n\s*/g, " ").trim() : "";
}

/** Outside code spans, `<` starts HTML in Markdown: `<token>` would vanish. */
function prose(value: string): string {
  return value
    .split(/(`+[^`]*`+)/)
    .map((part, i) => (i % 2 === 1 ? part : part.replaceAll("&", "&amp;").replaceAll("<", "&lt;")))
    .join("");
}

/** A table cell: one line, and `|` (even inside code) does not end it. */
function cell(value: string): string {
  return value.replace(/\r?\n/g, " ").replaceAll("|", "\\|");
}

function asObject(value: Json | undefined): Readonly<Record<string, Json>> | undefined {
  return value && typeof value === "object" && !Array.isArray(value) ? (value as Readonly<Record<string, Json>>) : undefined;
}
