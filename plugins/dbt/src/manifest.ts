/**
 * The compiled manifest.json that `render: per_model` turns into tasks: its models, seeds,
 * snapshots and sources with their dependencies, read once per file version.
 */
import { readFileSync, statSync } from "node:fs";
import path from "node:path";
import { DbtError } from "./errors.js";
import type { ManifestNode } from "./select.js";

const GRAPH_TYPES = new Set(["model", "seed", "snapshot", "source"]);
const cache = new Map<string, { mtimeMs: number; size: number; nodes: readonly ManifestNode[] }>();

interface RawNode {
  readonly unique_id?: unknown;
  readonly resource_type?: unknown;
  readonly name?: unknown;
  readonly package_name?: unknown;
  readonly fqn?: unknown;
  readonly tags?: unknown;
  readonly original_file_path?: unknown;
  readonly schema?: unknown;
  readonly alias?: unknown;
  readonly identifier?: unknown;
  readonly config?: { readonly materialized?: unknown; readonly enabled?: unknown } | null;
  readonly depends_on?: { readonly nodes?: unknown } | null;
}

/** The graph nodes of a manifest, in unique-id order. */
export function readManifest(file: string, shownAs: string): readonly ManifestNode[] {
  let info;
  try {
    info = statSync(file);
  } catch {
    throw invalid(shownAs, "the file does not exist");
  }
  const cached = cache.get(file);
  if (cached && cached.mtimeMs === info.mtimeMs && cached.size === info.size) return cached.nodes;
  let doc: { nodes?: Record<string, RawNode>; sources?: Record<string, RawNode> };
  try {
    doc = JSON.parse(readFileSync(file, "utf8")) as typeof doc;
  } catch (e) {
    throw invalid(shownAs, `it is not JSON (${(e as Error).message})`);
  }
  if (typeof doc !== "object" || doc === null || typeof doc.nodes !== "object" || doc.nodes === null) throw invalid(shownAs, "it has no `nodes`");
  const nodes: ManifestNode[] = [];
  for (const raw of [...Object.values(doc.nodes), ...Object.values(doc.sources ?? {})]) {
    const type = String(raw.resource_type ?? "");
    if (!GRAPH_TYPES.has(type) || raw.config?.enabled === false) continue;
    const strings = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : []);
    const text = (v: unknown) => (typeof v === "string" && v !== "" ? v : undefined);
    const table = type === "source" ? (text(raw.identifier) ?? text(raw.name)) : (text(raw.alias) ?? text(raw.name));
    const schema = text(raw.schema);
    nodes.push({
      uniqueId: String(raw.unique_id),
      resourceType: type,
      name: String(raw.name),
      packageName: String(raw.package_name),
      fqn: strings(raw.fqn),
      tags: strings(raw.tags),
      path: String(raw.original_file_path ?? "").split(path.sep).join("/"),
      materialized: typeof raw.config?.materialized === "string" ? raw.config.materialized : "",
      parents: strings(raw.depends_on?.nodes),
      relation: table === undefined ? undefined : schema === undefined ? table : `${schema}.${table}`,
    });
  }
  nodes.sort((a, b) => (a.uniqueId < b.uniqueId ? -1 : a.uniqueId > b.uniqueId ? 1 : 0));
  cache.set(file, { mtimeMs: info.mtimeMs, size: info.size, nodes });
  return nodes;
}

function invalid(file: string, why: string): DbtError {
  return new DbtError(
    "XO_DBT_MANIFEST_INVALID",
    `render: per_model reads the compiled manifest ${file}, and ${why}`,
    "run `dbt parse` in the dbt project (it writes target/manifest.json) and generate the DAGs again, or set `manifest` to your manifest",
  );
}
