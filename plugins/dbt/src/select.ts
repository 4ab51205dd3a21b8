/**
 * dbt's node selection syntax, evaluated on a compiled manifest's models, for
 * `render: per_model` (the DAG is generated without running dbt). Supported, as dbt
 * defines them (docs.getdbt.com, "Syntax overview", "Graph operators", "Set operators",
 * "Node selection methods"): the default method (a model name, a package, or an fqn path
 * such as `staging.stg_orders`), `tag:`, `path:`, `fqn:`, `package:`, `resource_type:`,
 * `config.materialized:`; `*` and `?` wildcards in values; `+` and `n+` on either side; `@`;
 * unions (spaces, or several entries of a list) and intersections (commas). A test of this
 * module compares it with `dbt ls` on the example project.
 */
import { DbtError } from "./errors.js";

/** A node of dbt's graph: a model, seed, snapshot or source (tests are leaves and stay out). */
export interface ManifestNode {
  readonly uniqueId: string;
  readonly resourceType: string;
  readonly name: string;
  readonly packageName: string;
  readonly fqn: readonly string[];
  readonly tags: readonly string[];
  /** `original_file_path`, relative to the project: `models/staging/stg_orders.sql`. */
  readonly path: string;
  /** `config.materialized`; empty for sources. */
  readonly materialized: string;
  /** unique ids of the nodes it depends on (`depends_on.nodes`). */
  readonly parents: readonly string[];
  /** The table it is in the warehouse, `schema.table` (alias or identifier), when the manifest says. */
  readonly relation?: string | undefined;
}

type Method = "default" | "tag" | "path" | "fqn" | "package" | "resource_type" | "config.materialized";
const METHODS = new Set<string>(["tag", "path", "fqn", "package", "resource_type", "config.materialized", "file"]);

interface Atom {
  readonly method: Method;
  readonly value: string;
  readonly parents: number; // 0 none, Infinity for `+`
  readonly children: number;
  readonly at: boolean;
}

/** The models a `--select` / `--exclude` pair picks, as unique ids, in the order of `nodes`. */
export function selectModels(nodes: readonly ManifestNode[], select: readonly string[], exclude: readonly string[]): string[] {
  const graph = graphOf(nodes);
  const chosen = select.length === 0 ? new Set(nodes.map((m) => m.uniqueId)) : union(select.map((s) => evaluate(s, nodes, graph)));
  const dropped = exclude.length === 0 ? new Set<string>() : union(exclude.map((s) => evaluate(s, nodes, graph)));
  return nodes.filter((n) => n.resourceType === "model" && chosen.has(n.uniqueId) && !dropped.has(n.uniqueId)).map((n) => n.uniqueId);
}

interface Graph {
  readonly parents: ReadonlyMap<string, readonly string[]>;
  readonly children: ReadonlyMap<string, readonly string[]>;
}

function graphOf(models: readonly ManifestNode[]): Graph {
  const ids = new Set(models.map((m) => m.uniqueId));
  const parents = new Map<string, string[]>();
  const children = new Map<string, string[]>();
  for (const m of models) {
    parents.set(m.uniqueId, m.parents.filter((p) => ids.has(p)));
    for (const p of m.parents) if (ids.has(p)) children.set(p, [...(children.get(p) ?? []), m.uniqueId]);
  }
  return { parents, children };
}

/** One selection string: space-separated unions of comma-separated intersections. */
function evaluate(text: string, models: readonly ManifestNode[], graph: Graph): Set<string> {
  return union(
    text
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map((part) => intersection(part.split(",").map((atom) => evaluateAtom(parseAtom(atom, text), models, graph)))),
  );
}

function parseAtom(raw: string, whole: string): Atom {
  const m = /^(@)?(?:(\d*)\+)?(.*?)(?:\+(\d*))?$/.exec(raw);
  if (!m || m[3] === "") throw unsupported(whole, `${JSON.stringify(raw)} is not a selector`);
  const body = m[3]!;
  const colon = body.indexOf(":");
  let method: Method = "default";
  let value = body;
  if (colon > 0) {
    const name = body.slice(0, colon);
    if (!METHODS.has(name)) throw unsupported(whole, `the method ${JSON.stringify(name)} is not evaluated here`);
    method = (name === "file" ? "path" : name) as Method;
    value = body.slice(colon + 1);
  }
  // An unmatched group is undefined (no operator); a matched one without digits is unbounded.
  const depth = (digits: string | undefined) => (digits === undefined ? 0 : digits === "" ? Infinity : Number(digits));
  return { method, value, parents: depth(m[2]), children: depth(m[4]), at: m[1] === "@" };
}

function evaluateAtom(atom: Atom, models: readonly ManifestNode[], graph: Graph): Set<string> {
  const matched = new Set(models.filter((m) => matches(atom, m)).map((m) => m.uniqueId));
  const out = new Set(matched);
  if (atom.at) {
    // @x: x, its descendants, and the ancestors of all of those.
    const down = walk(matched, graph.children, Infinity);
    for (const id of down) out.add(id);
    for (const id of walk(down, graph.parents, Infinity)) out.add(id);
    return out;
  }
  for (const id of walk(matched, graph.parents, atom.parents)) out.add(id);
  for (const id of walk(matched, graph.children, atom.children)) out.add(id);
  return out;
}

/** Everything reachable from `start` through `edges` within `depth` steps, `start` included. */
function walk(start: ReadonlySet<string>, edges: ReadonlyMap<string, readonly string[]>, depth: number): Set<string> {
  const seen = new Set(start);
  let frontier = [...start];
  for (let d = 0; d < depth && frontier.length > 0; d++) {
    const next: string[] = [];
    for (const id of frontier) {
      for (const n of edges.get(id) ?? []) {
        if (!seen.has(n)) {
          seen.add(n);
          next.push(n);
        }
      }
    }
    frontier = next;
  }
  return seen;
}

function matches(atom: Atom, model: ManifestNode): boolean {
  const { value } = atom;
  switch (atom.method) {
    case "tag":
      return model.tags.some((t) => glob(value, t));
    case "package":
      return glob(value, model.packageName);
    case "resource_type":
      return glob(value, model.resourceType);
    case "config.materialized":
      return glob(value, model.materialized);
    case "path":
      return pathMatches(value, model.path);
    case "fqn":
      return fqnMatches(value, model);
    case "default":
      // dbt's default: a path when it looks like one, else the fqn method.
      return value.includes("/") || value.endsWith(".sql") ? pathMatches(value, model.path) : fqnMatches(value, model);
  }
}

/** dbt's fqn method: the model's name, or a dotted prefix of its fqn, with or without the package. */
function fqnMatches(value: string, model: ManifestNode): boolean {
  const parts = value.split(".");
  if (parts.length === 1 && glob(parts[0]!, model.name)) return true;
  const prefix = (fqn: readonly string[]) => parts.length <= fqn.length && parts.every((p, i) => glob(p, fqn[i]!));
  return prefix(model.fqn) || prefix(model.fqn.slice(1));
}

/** A file, or a folder and everything under it, relative to the project. */
function pathMatches(value: string, file: string): boolean {
  const wanted = value.replace(/^\.\//, "").replace(/\/+$/, "");
  return glob(wanted, file) || file.startsWith(`${wanted}/`);
}

function glob(pattern: string, text: string): boolean {
  if (!/[*?[]/.test(pattern)) return pattern === text;
  const source = pattern.replace(/[.+^${}()|\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${source}$`).test(text);
}

function union(sets: readonly Set<string>[]): Set<string> {
  const out = new Set<string>();
  for (const s of sets) for (const id of s) out.add(id);
  return out;
}

function intersection(sets: readonly Set<string>[]): Set<string> {
  const [first = new Set<string>(), ...rest] = sets;
  return new Set([...first].filter((id) => rest.every((s) => s.has(id))));
}

function unsupported(selection: string, why: string): DbtError {
  return new DbtError(
    "XO_DBT_SELECTION_UNSUPPORTED",
    `render: per_model cannot evaluate the selection ${JSON.stringify(selection)}: ${why}`,
    "use a model name, tag:, path:, fqn:, package:, resource_type: or config.materialized:, with +, n+, @, spaces and commas; or render: single",
  );
}
