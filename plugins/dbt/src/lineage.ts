/**
 * What a dbt step reads and writes, for `xo-foundry lineage` and the DAG's assets: the
 * models it builds, each from its parents (sources, seeds, other models). From the compiled
 * manifest when there is one (target/manifest.json, or `manifest`), which knows every
 * relation's schema and alias; else from the project's files: `ref()` and `source()` in
 * the models' SQL, sources from its YAML, and models in the target schema (custom schemas
 * and aliases set in config are not seen then). Tables are named by the step's sink
 * (`sinkTable`), so they meet the tables that pipelines load.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { sinkTable, type DatasetName, type StepExpandInput, type StepLineage } from "@xo-foundry/core";
import { asList, type CoreCommand, type CoreOptions } from "./options.js";
import { findDbtProject, type DbtProject } from "./project.js";
import { readManifest } from "./manifest.js";
import { selectModels, type ManifestNode } from "./select.js";
import { declaredTables, readModelPaths } from "./sources.js";

/** A graph node with where it is in the warehouse: `schema.relation`, or the relation alone when the schema is the sink's. */
interface Located extends ManifestNode {
  readonly relation: string | undefined;
}

export function dbtLineage(command: CoreCommand, input: StepExpandInput<CoreOptions>): StepLineage | undefined {
  if (command === "seed" || command === "snapshot") return undefined;
  const { options, projectDir } = input;
  const project = findDbtProject(projectDir, options.project_dir);
  const manifest = options.manifest !== undefined ? path.resolve(projectDir, options.manifest) : path.join(project.dir, "target", "manifest.json");
  const nodes = existsSync(manifest) ? fromManifest(manifest) : fromFiles(project, targetSchema(input));
  const byId = new Map(nodes.map((n) => [n.uniqueId, n]));
  const selected = selectModels(nodes, asList(options.select), asList(options.exclude));
  const name = (n: Located): DatasetName | undefined => (n.relation === undefined ? undefined : sinkTable(options.sink, n.relation));
  const models = selected.map((id) => byId.get(id)!);
  if (command === "test") return { reads: models.flatMap((m) => name(m) ?? []), writes: [] };

  const chosen = new Set(selected);
  const edges: { from: DatasetName; to: DatasetName }[] = [];
  const reads = new Map<string, DatasetName>();
  for (const model of models) {
    const to = name(model);
    if (!to) continue;
    for (const parent of model.parents) {
      const node = byId.get(parent);
      const from = node && name(node);
      if (!from) continue;
      edges.push({ from, to });
      if (!chosen.has(parent)) reads.set(`${from.namespace}/${from.name}`, from);
    }
  }
  const key = (d: DatasetName) => `${d.namespace}/${d.name}`;
  const order = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return {
    reads: [...reads.values()].sort((a, b) => order(key(a), key(b))),
    writes: models.flatMap((m) => name(m) ?? []).sort((a, b) => order(key(a), key(b))),
    edges: edges.sort((a, b) => order(key(a.from), key(b.from)) || order(key(a.to), key(b.to))),
  };
}

/** The schema dbt builds models in with the generated profile: the step's `schema`, else its sink's. */
function targetSchema(input: StepExpandInput<CoreOptions>): string | undefined {
  if (input.options.schema !== undefined) return input.options.schema;
  const sinks = input.pipeline.sinks;
  const names = Object.keys(sinks);
  const block = sinks[input.options.sink ?? (names.length === 1 ? names[0]! : "")];
  const schema = (block as Record<string, unknown> | undefined)?.schema;
  return typeof schema === "string" ? schema : block?.plugin === "duckdb" ? "main" : undefined;
}

/** The manifest's graph, as `render: per_model` reads it (and caches it); a manifest that cannot be read gives no lineage. */
function fromManifest(file: string): Located[] {
  try {
    return readManifest(file, file).map((n) => ({ ...n, relation: n.relation }));
  } catch {
    return [];
  }
}

const REF = /\bref\s*\(\s*(['"])([^'"]+)\1\s*(?:,\s*(['"])([^'"]+)\3\s*)?(?:,\s*v(?:ersion)?\s*=\s*[^)]*)?\)/g;
const SOURCE = /\bsource\s*\(\s*(['"])([^'"]+)\1\s*,\s*(['"])([^'"]+)\3\s*\)/g;

/** The graph read from the project's files: models from their SQL, seeds from their CSV files, sources from the YAML. */
function fromFiles(project: DbtProject, schema: string | undefined): Located[] {
  const doc = (parse(readFileSync(path.join(project.dir, "dbt_project.yml"), "utf8")) ?? {}) as Record<string, unknown>;
  const seedPaths = Array.isArray(doc["seed-paths"]) ? (doc["seed-paths"] as string[]) : ["seeds"];
  const inSchema = (table: string) => (schema === undefined ? table : `${schema}.${table}`);
  const nodes: Located[] = [];
  const base = (type: string, name: string, file: string, fqn: string[]) => ({
    uniqueId: `${type}.${project.name}.${name}`,
    resourceType: type,
    name,
    packageName: project.name,
    fqn: [project.name, ...fqn],
    tags: [],
    path: file,
    materialized: "",
  });
  for (const root of readModelPaths(project.dir)) {
    for (const file of files(path.join(project.dir, root), ".sql")) {
      const relative = path.relative(path.join(project.dir, root), file).split(path.sep);
      const name = path.basename(file, ".sql");
      const sql = readFileSync(file, "utf8").replace(/\{#[\s\S]*?#\}/g, "");
      const parents = [
        ...[...sql.matchAll(REF)].map((m) => `ref:${m[4] ?? m[2]}`),
        ...[...sql.matchAll(SOURCE)].map((m) => `source.${project.name}.${m[2]}.${m[4]}`),
      ];
      nodes.push({ ...base("model", name, [root, ...relative].join("/"), [...relative.slice(0, -1), name]), parents, relation: inSchema(name) });
    }
  }
  for (const root of seedPaths) {
    for (const file of files(path.join(project.dir, root), ".csv")) {
      const name = path.basename(file, ".csv");
      nodes.push({ ...base("seed", name, path.relative(project.dir, file).split(path.sep).join("/"), [name]), parents: [], relation: inSchema(name) });
    }
  }
  for (const t of declaredTables(project.dir, readModelPaths(project.dir), "")) {
    const node = { ...base("source", `${t.source}.${t.name}`, t.file, [t.source, t.name]), uniqueId: `source.${project.name}.${t.source}.${t.name}` };
    nodes.push({ ...node, parents: [], relation: `${t.database !== undefined ? `${t.database}.` : ""}${t.schema}.${t.table}` });
  }
  // `ref('x')` is the model (or seed) named x.
  const byName = new Map(nodes.filter((n) => n.resourceType !== "source").map((n) => [n.name, n.uniqueId]));
  return nodes
    .map((n) => ({ ...n, parents: n.parents.flatMap((p) => (p.startsWith("ref:") ? (byName.get(p.slice(4)) ?? []) : [p])) }))
    .sort((a, b) => (a.uniqueId < b.uniqueId ? -1 : a.uniqueId > b.uniqueId ? 1 : 0));
}

/** Files with the extension under `dir`, in name order, hidden folders left out. */
function files(dir: string, ext: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (entry.name.startsWith(".")) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...files(full, ext));
    else if (entry.name.endsWith(ext)) out.push(full);
  }
  return out;
}
