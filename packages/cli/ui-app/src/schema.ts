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
  kind(node: Schema | undefined): { kind: "choice"; values: unknown[] } | { kind: "boolean" | "number" | "integer" | "string" } | undefined {
    const vs = this.variants(node).filter((v) => v.type !== "null");
    const leaves = vs.filter((v) => !v.oneOf && !v.anyOf && !v.allOf);
    if (leaves.length === 0) return undefined;
    if (leaves.every((v) => v.const !== undefined || v.enum)) return { kind: "choice", values: this.choices(leaves) };
    if (leaves.some((v) => v.type === "object" || v.type === "array")) {
      // `schedule` is a cron string or an object of assets: the form edits the string.
      if (!leaves.some((v) => v.type === "string")) return undefined;
    }
    for (const t of ["boolean", "integer", "number", "string"] as const) if (leaves.some((v) => v.type === t && v.const === undefined && !v.enum)) return { kind: t };
    return undefined;
  }
}
