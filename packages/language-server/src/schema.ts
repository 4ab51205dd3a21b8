/**
 * Walking the project's JSON Schema (what `xo-foundry schema` prints) along a YAML path.
 * The schema is zod's output: unions of plugin blocks are `oneOf`/`anyOf` whose branches
 * differ by a `const` key (`plugin: api`, `uses: dbt.build`, `type: kubernetes`) or by
 * which keys they allow (one `alerts:` entry per notifier), so a branch is picked by the
 * values already written next to the cursor, as the validator would pick it.
 */

export type JsonSchema = Readonly<Record<string, unknown>>;
export type PathSegment = string | number;

/** A mapping's values as written so far, by path prefix (undefined where there is no mapping). */
export type ValuesAt = (prefix: readonly PathSegment[]) => Readonly<Record<string, unknown>> | undefined;

export interface Property {
  readonly name: string;
  readonly required: boolean;
  readonly schemas: readonly JsonSchema[];
}

export class SchemaWalker {
  constructor(readonly root: JsonSchema) {}

  /**
   * The schemas a value at `path` must match (several when a union could not be narrowed).
   * `ignoreKey` is left out when narrowing the last mapping: it is the key being completed.
   */
  at(path: readonly PathSegment[], values: ValuesAt, ignoreKey?: string): JsonSchema[] {
    let current = this.branches(this.root, values([]), path.length === 0 ? ignoreKey : undefined);
    for (let i = 0; i < path.length; i++) {
      const segment = path[i]!;
      const next = current.flatMap((s) => this.child(s, segment));
      const here = values(path.slice(0, i + 1));
      current = unique(next.flatMap((s) => this.branches(s, here, i === path.length - 1 ? ignoreKey : undefined)));
      if (current.length === 0) break;
    }
    return current;
  }

  /** The keys an object matching any of `schemas` may have, required ones marked. */
  properties(schemas: readonly JsonSchema[]): Property[] {
    const byName = new Map<string, { required: boolean; schemas: JsonSchema[] }>();
    for (const s of schemas) {
      const props = record(s.properties);
      const required = new Set(strings(s.required));
      for (const [name, value] of Object.entries(props)) {
        const entry = byName.get(name) ?? { required: false, schemas: [] };
        entry.required ||= required.has(name);
        entry.schemas.push(...this.branches(value as JsonSchema, undefined));
        byName.set(name, entry);
      }
    }
    return [...byName].map(([name, e]) => ({ name, required: e.required, schemas: unique(e.schemas) }));
  }

  /** The values a scalar matching any of `schemas` may take: enums, consts and booleans. */
  values(schemas: readonly JsonSchema[]): unknown[] {
    const out: unknown[] = [];
    for (const s of schemas) {
      if ("const" in s) out.push(s.const);
      if (Array.isArray(s.enum)) out.push(...(s.enum as unknown[]));
      if (types(s).includes("boolean")) out.push(true, false);
    }
    return [...new Map(out.map((v) => [JSON.stringify(v), v])).values()];
  }

  /** A `$ref`'s target (local pointers only: zod writes `#/$defs/...` and `#`). */
  deref(schema: JsonSchema): JsonSchema {
    let s = schema;
    for (let hops = 0; typeof s.$ref === "string" && hops < 32; hops++) {
      const target = pointer(this.root, s.$ref);
      if (!target) break;
      const { $ref: _ref, ...rest } = s;
      s = Object.keys(rest).length ? { ...target, ...rest } : target;
    }
    return s;
  }

  /**
   * The alternatives of a schema with its unions flattened; when `value` (the mapping
   * written so far) is given, only the branches it can still match.
   */
  branches(schema: JsonSchema, value: Readonly<Record<string, unknown>> | undefined, ignoreKey?: string, depth = 0): JsonSchema[] {
    const s = this.deref(schema);
    if (depth > 16) return [s];
    const union = [...arrayOf(s.anyOf), ...arrayOf(s.oneOf)];
    const all = arrayOf(s.allOf);
    if (union.length === 0 && all.length === 0) return [s];
    const { anyOf: _a, oneOf: _o, allOf: _l, ...own } = s;
    const base = Object.keys(own).some((k) => k !== "description" && k !== "default" && k !== "title") ? [own] : [];
    // allOf: every member applies; treated as alternatives, their keys and values all count.
    const members = all.flatMap((m) => this.branches(m, value, ignoreKey, depth + 1));
    let options = union.flatMap((b) => this.branches(b, value, ignoreKey, depth + 1).map((x) => withDescription(x, own)));
    if (value && options.length > 1) options = this.narrow(options, value, ignoreKey);
    return [...base, ...members, ...options];
  }

  /** The schemas of `segment` inside an object or array schema. */
  child(schema: JsonSchema, segment: PathSegment): JsonSchema[] {
    if (typeof segment === "number") {
      const prefix = arrayOf(schema.prefixItems);
      if (prefix[segment]) return [prefix[segment]];
      const items = schema.items;
      return items && typeof items === "object" && !Array.isArray(items) ? [items as JsonSchema] : [];
    }
    const props = record(schema.properties);
    if (Object.hasOwn(props, segment)) return [props[segment] as JsonSchema];
    const additional = schema.additionalProperties;
    return additional && typeof additional === "object" ? [additional as JsonSchema] : [];
  }

  /** Keeps the branches whose constant keys agree with `value` and that allow every key it has. */
  narrow(options: readonly JsonSchema[], value: Readonly<Record<string, unknown>>, ignoreKey?: string): JsonSchema[] {
    const keys = Object.keys(value).filter((k) => k !== ignoreKey);
    const scored = options.map((option) => {
      const props = record(option.properties);
      let matched = false;
      let refused = false;
      for (const [key, prop] of Object.entries(props)) {
        if (key === ignoreKey || !(key in value)) continue;
        const constant = constantOf(this.deref(prop as JsonSchema));
        if (constant === undefined) continue;
        if (JSON.stringify(constant.value) === JSON.stringify(value[key])) matched = true;
        else refused = true;
      }
      const closed = option.additionalProperties === false;
      if (closed && keys.some((k) => !Object.hasOwn(props, k))) refused = true;
      return { option, matched, refused };
    });
    const matched = scored.filter((s) => s.matched && !s.refused);
    if (matched.length) return matched.map((s) => s.option);
    const possible = scored.filter((s) => !s.refused);
    return (possible.length ? possible : scored).map((s) => s.option);
  }
}

/** A short type for people: `string`, `integer`, `"a" | "b"`, `object`. */
export function typeLabel(schemas: readonly JsonSchema[], walker: SchemaWalker): string {
  const labels = new Set<string>();
  for (const s of schemas) {
    const constant = constantOf(s);
    if (constant) labels.add(JSON.stringify(constant.value));
    else if (Array.isArray(s.enum)) for (const v of s.enum) labels.add(JSON.stringify(v));
    else for (const t of types(s)) labels.add(t === "array" ? `${itemLabel(s, walker)}[]` : t);
  }
  return [...labels].join(" | ");
}

function itemLabel(s: JsonSchema, walker: SchemaWalker): string {
  const items = s.items;
  if (!items || typeof items !== "object" || Array.isArray(items)) return "unknown";
  const label = typeLabel(walker.branches(items as JsonSchema, undefined), walker);
  return label.includes(" | ") ? `(${label})` : label || "unknown";
}

export function descriptionOf(schemas: readonly JsonSchema[]): string | undefined {
  for (const s of schemas) if (typeof s.description === "string" && s.description) return s.description;
  return undefined;
}

export function defaultOf(schemas: readonly JsonSchema[]): { value: unknown } | undefined {
  for (const s of schemas) if ("default" in s) return { value: s.default };
  return undefined;
}

export function types(s: JsonSchema): string[] {
  if (typeof s.type === "string") return [s.type];
  if (Array.isArray(s.type)) return s.type.filter((t): t is string => typeof t === "string");
  if (s.properties || s.additionalProperties) return ["object"];
  return [];
}

function constantOf(s: JsonSchema): { value: unknown } | undefined {
  if ("const" in s) return { value: s.const };
  if (Array.isArray(s.enum) && s.enum.length === 1) return { value: s.enum[0] };
  return undefined;
}

/** A union branch keeps the description of the union when it has none of its own. */
function withDescription(branch: JsonSchema, union: JsonSchema): JsonSchema {
  return typeof branch.description !== "string" && typeof union.description === "string" ? { ...branch, description: union.description } : branch;
}

function pointer(root: JsonSchema, ref: string): JsonSchema | undefined {
  if (ref === "#") return root;
  if (!ref.startsWith("#/")) return undefined;
  let node: unknown = root;
  for (const raw of ref.slice(2).split("/")) {
    const key = decodeURIComponent(raw).replace(/~1/g, "/").replace(/~0/g, "~");
    if (!node || typeof node !== "object") return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node && typeof node === "object" ? (node as JsonSchema) : undefined;
}

function record(v: unknown): Record<string, unknown> {
  return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function arrayOf(v: unknown): JsonSchema[] {
  return Array.isArray(v) ? v.filter((x): x is JsonSchema => !!x && typeof x === "object") : [];
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
}

function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}
