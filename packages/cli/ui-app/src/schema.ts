/**
 * Just enough JSON Schema walking for completion and the form: the schema is core's
 * (zod's `toJSONSchema`), so `properties`, `items`, `oneOf`/`anyOf` of variants, `enum`,
 * `const`, `default`, `description` and local `$ref`s are all there is to read.
 */
export type Schema = {
  readonly $ref?: string;
  readonly type?: string | readonly string[];
  readonly properties?: Readonly<Record<string, Schema>>;
  readonly required?: readonly string[];
  readonly items?: Schema;
  readonly oneOf?: readonly Schema[];
  readonly anyOf?: readonly Schema[];
  readonly allOf?: readonly Schema[];
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly default?: unknown;
  readonly description?: string;
  readonly additionalProperties?: boolean | Schema;
};

export class SchemaWalker {
  constructor(readonly root: Schema) {}

  resolve(node: Schema | undefined): Schema | undefined {
    let n = node;
    for (let i = 0; n?.$ref && i < 20; i++) {
      const parts = n.$ref.replace(/^#\/?/, "").split("/").filter(Boolean).map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
      let at: unknown = this.root;
      for (const p of parts) at = (at as Record<string, unknown> | undefined)?.[p];
      n = at as Schema | undefined;
    }
    return n;
  }

  /** The node and every variant under it (oneOf/anyOf/allOf), flattened. */
  variants(node: Schema | undefined): Schema[] {
    const n = this.resolve(node);
    if (!n) return [];
    const nested = [...(n.oneOf ?? []), ...(n.anyOf ?? []), ...(n.allOf ?? [])];
    return nested.length ? [n, ...nested.flatMap((v) => this.variants(v))] : [n];
  }

  /** The schemas at a path of keys, `[]` standing for any item of an array. */
  at(path: readonly string[], pick?: (variants: Schema[]) => Schema[]): Schema[] {
    let nodes: Schema[] = [this.root];
    for (const seg of path) {
      const next: Schema[] = [];
      for (const n of nodes) {
        const vs = pick ? pick(this.variants(n)) : this.variants(n);
        for (const v of vs) {
          if (seg === "[]") {
            if (v.items) next.push(v.items);
          } else if (v.properties?.[seg]) next.push(v.properties[seg]);
          else if (typeof v.additionalProperties === "object") next.push(v.additionalProperties);
        }
      }
      nodes = next;
    }
    return nodes;
  }

  /** Keys an object at these schemas may have, with a description each. */
  keys(nodes: readonly Schema[], siblings: Readonly<Record<string, string>> = {}): Map<string, Schema> {
    const out = new Map<string, Schema>();
    for (const n of nodes) for (const v of this.matching(this.variants(n), siblings)) for (const [k, s] of Object.entries(v.properties ?? {})) if (!out.has(k)) out.set(k, s);
    return out;
  }

  /** The variants whose `const` keys agree with what the block already says (`plugin: api`). */
  matching(variants: Schema[], siblings: Readonly<Record<string, string>>): Schema[] {
    const fits = variants.filter((v) =>
      Object.entries(v.properties ?? {}).every(([k, s]) => {
        const c = this.resolve(s)?.const;
        return c === undefined || siblings[k] === undefined || String(c) === siblings[k];
      }),
    );
    return fits.length ? fits : variants;
  }

  /** The values a scalar may take, when it is a choice: enum, consts, booleans. */
  choices(nodes: readonly Schema[]): unknown[] {
    const out: unknown[] = [];
    for (const n of nodes)
      for (const v of this.variants(n)) {
        if (v.enum) out.push(...v.enum);
        if (v.const !== undefined) out.push(v.const);
        if (v.type === "boolean") out.push(true, false);
      }
    return [...new Set(out)];
  }

  /** The control a form shows for a value, or undefined when only the YAML can say it (lists, objects). */
  kind(node: Schema | undefined): ScalarKind | undefined {
    const vs = this.variants(node).filter((v) => v.type !== "null");
    const leaves = vs.filter((v) => !v.oneOf && !v.anyOf && !v.allOf);
    if (leaves.length === 0) return undefined;
    if (leaves.every((v) => v.const !== undefined || v.enum)) return { kind: "choice", values: this.choices(leaves) };
    if (leaves.some((v) => has(v, "object") || has(v, "array"))) {
      // `schedule` is a cron string or an object of assets: the form edits the string.
      if (!leaves.some((v) => has(v, "string"))) return undefined;
    }
    const free = leaves.filter((v) => v.const === undefined && !v.enum);
    // A string or a number (`initial_value`): a text box, numbers written as numbers.
    if (free.some((v) => has(v, "string"))) return free.some((v) => has(v, "number") || has(v, "integer")) ? { kind: "string", numeric: true } : { kind: "string" };
    for (const t of ["boolean", "integer", "number"] as const) if (free.some((v) => has(v, t))) return { kind: t };
    return undefined;
  }

  /** How the form shows a value of this schema. */
  shape(node: Schema | undefined): Shape {
    const leaves = this.variants(node).filter((v) => v.type !== "null" && !v.oneOf && !v.anyOf && !v.allOf);
    if (leaves.length && leaves.every((v) => has(v, "object") || v.properties)) return this.objectShape(leaves);
    if (leaves.length && leaves.every((v) => has(v, "array"))) return { kind: "list", item: leaves[0]!.items ?? {} };
    const scalar = this.kind(node);
    return scalar ? { kind: "scalar", control: scalar } : { kind: "opaque" };
  }

  objectShape(objects: readonly Schema[]): Shape {
    const withKeys = objects.filter((o) => Object.keys(o.properties ?? {}).length > 0);
    if (withKeys.length === 0) {
      // `headers`, `checks`, `sinks`: any keys, each value of one schema. A free-form `body` stays in the YAML.
      const value = objects.find((o) => typeof o.additionalProperties === "object" && Object.keys(o.additionalProperties).length > 0)?.additionalProperties;
      return typeof value === "object" ? { kind: "map", value } : { kind: "opaque" };
    }
    if (withKeys.length === 1) return { kind: "object", properties: withKeys[0]!.properties ?? {}, required: withKeys[0]!.required ?? [] };
    // `plugin:` of a source, `type:` of auth, `uses:` of a step: a key that is a const in every variant.
    const key = Object.keys(withKeys[0]!.properties ?? {}).find((k) => withKeys.every((o) => this.resolve(o.properties?.[k])?.const !== undefined));
    if (key) return { kind: "union", key, variants: withKeys.map((o) => ({ value: this.resolve(o.properties![key])!.const, schema: o })) };
    // An alert: `email:`, `slack:` or `webhook:`, each required in its variant and in no other.
    const own = withKeys.map((o) => (o.required ?? []).find((r) => withKeys.every((p) => p === o || !p.properties?.[r])));
    if (own.every((k) => k !== undefined)) return { kind: "keyed", variants: withKeys.map((o, i) => ({ key: own[i]!, schema: o })) };
    // A stream's `target` for any of the sinks: every key any of them has.
    const properties: Record<string, Schema> = {};
    for (const o of withKeys) for (const [k, v] of Object.entries(o.properties ?? {})) properties[k] ??= v;
    const required = (withKeys[0]!.required ?? []).filter((r) => withKeys.every((o) => o.required?.includes(r)));
    return { kind: "object", properties, required };
  }
}

export type ScalarKind = { kind: "choice"; values: unknown[] } | { kind: "boolean" | "number" | "integer" } | { kind: "string"; numeric?: boolean };

export type Shape =
  | { readonly kind: "scalar"; readonly control: ScalarKind }
  | { readonly kind: "object"; readonly properties: Readonly<Record<string, Schema>>; readonly required: readonly string[] }
  | { readonly kind: "union"; readonly key: string; readonly variants: readonly { value: unknown; schema: Schema }[] }
  | { readonly kind: "keyed"; readonly variants: readonly { key: string; schema: Schema }[] }
  | { readonly kind: "list"; readonly item: Schema }
  | { readonly kind: "map"; readonly value: Schema }
  | { readonly kind: "opaque" };

/** `type` is a name or a list of names (`["string", "number", "boolean"]`). */
function has(node: Schema, type: string): boolean {
  return node.type === type || (Array.isArray(node.type) && node.type.includes(type));
}
