/**
 * `xo-foundry dbt sources`: the dbt sources of a project's pipelines. The tables the
 * pipelines load become dbt sources in one file xo-foundry owns, unless the dbt project's
 * own YAML declares them already; the report names the tables dbt does not declare and the
 * dbt sources no pipeline loads.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { parse, stringify } from "yaml";
import { findDbtProject } from "./project.js";

/** One table a pipeline loads, as its sink names it. */
export interface LoadedTable {
  readonly pipeline: string;
  /** The pipeline file, relative to the project. */
  readonly file: string;
  readonly stream: string;
  readonly sink: string;
  readonly plugin: string;
  readonly database?: string | undefined;
  readonly schema: string;
  readonly table: string;
}

/** A table of a source the dbt project declares itself. */
export interface DeclaredTable {
  readonly source: string;
  /** The table's name in the source (what `source()` names); `table` is its identifier in the warehouse. */
  readonly name: string;
  readonly database?: string | undefined;
  readonly schema: string;
  readonly table: string;
  /** The YAML file, relative to the dbt project. */
  readonly file: string;
}

export interface SourcesPlan {
  readonly dbtProject: string;
  /** Where xo-foundry's sources file is (absolute). */
  readonly file: string;
  /** Its text, or undefined when every loaded table is declared by the project already. */
  readonly text: string | undefined;
  /** Loaded tables the project's own YAML declares, with the source that does. */
  readonly declared: readonly { readonly table: LoadedTable; readonly by: DeclaredTable }[];
  /** Loaded tables only the generated file declares. */
  readonly generated: readonly LoadedTable[];
  /** Tables of the project's own sources that no pipeline loads. */
  readonly unloaded: readonly DeclaredTable[];
}

export const SOURCES_FILE = "_xo_foundry_sources.yml";
export const SOURCES_HEADER = "# Written by `xo-foundry dbt sources` from this project's pipelines: edit the pipelines, not this file.";

export function planSources(projectDir: string, dbtProjectDir: string | undefined, tables: readonly LoadedTable[]): SourcesPlan {
  const project = findDbtProject(projectDir, dbtProjectDir);
  const modelPaths = readModelPaths(project.dir);
  const file = path.join(project.dir, modelPaths[0] ?? "models", SOURCES_FILE);
  const own = declaredTables(project.dir, modelPaths, file);
  const key = (t: { database?: string | undefined; schema: string; table: string }) => [t.schema, t.table].map((p) => p.toLowerCase()).join(".");
  const byKey = new Map(own.map((t) => [key(t), t]));
  const loadedKeys = new Set(tables.map(key));
  const declared = tables.filter((t) => byKey.has(key(t))).map((table) => ({ table, by: byKey.get(key(table))! }));
  const generated = tables.filter((t) => !byKey.has(key(t)));
  const unloaded = own.filter((t) => !loadedKeys.has(key(t)));
  return { dbtProject: project.dir, file, text: generated.length ? sourcesYaml(generated) : undefined, declared, generated, unloaded };
}

/** The sources file: one source per pipeline and schema, tables sorted, a header naming its writer. */
export function sourcesYaml(tables: readonly LoadedTable[]): string {
  const groups = new Map<string, LoadedTable[]>();
  for (const t of [...tables].sort((a, b) => compare(`${a.pipeline}\0${a.database ?? ""}\0${a.schema}\0${a.table}`, `${b.pipeline}\0${b.database ?? ""}\0${b.schema}\0${b.table}`))) {
    const id = `${t.pipeline}\0${t.database ?? ""}\0${t.schema}`;
    groups.set(id, [...(groups.get(id) ?? []), t]);
  }
  const perPipeline = new Map<string, number>();
  for (const [first] of groups.values()) perPipeline.set(first!.pipeline, (perPipeline.get(first!.pipeline) ?? 0) + 1);
  const sources = [...groups.values()].map((group) => {
    const first = group[0]!;
    const name = perPipeline.get(first.pipeline)! > 1 ? `${first.pipeline}_${first.schema.toLowerCase()}` : first.pipeline;
    return {
      name,
      description: `Tables the xo-foundry pipeline ${first.pipeline} loads (${first.file}).`,
      ...(first.database !== undefined ? { database: first.database } : {}),
      schema: first.schema,
      tables: group.map((t) => ({
        name: t.table,
        description: `Stream ${t.stream}, loaded by sink ${t.sink} (${t.plugin}).`,
        meta: { xo_foundry: { pipeline: t.pipeline, stream: t.stream, sink: t.sink } },
      })),
    };
  });
  return `${SOURCES_HEADER}\n# Check it in CI with \`xo-foundry dbt sources --check\`.\n${stringify({ version: 2, sources }, { lineWidth: 0 })}`;
}

/** `model-paths` of dbt_project.yml (dbt's default: `models`). */
export function readModelPaths(dir: string): string[] {
  const doc = parse(readFileSync(path.join(dir, "dbt_project.yml"), "utf8")) as Record<string, unknown> | null;
  const paths = doc?.["model-paths"] ?? doc?.["source-paths"];
  return Array.isArray(paths) && paths.every((p) => typeof p === "string") ? (paths as string[]) : ["models"];
}

/** Every source table of the project's YAML under its model paths, xo-foundry's own file left out. */
export function declaredTables(dir: string, modelPaths: readonly string[], ours: string): DeclaredTable[] {
  const out: DeclaredTable[] = [];
  const walk = (folder: string) => {
    if (!existsSync(folder)) return;
    for (const entry of readdirSync(folder, { withFileTypes: true }).sort((a, b) => compare(a.name, b.name))) {
      const full = path.join(folder, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (/\.ya?ml$/i.test(entry.name) && full !== ours) out.push(...sourcesOf(full, path.relative(dir, full).split(path.sep).join("/")));
    }
  };
  for (const p of modelPaths) walk(path.join(dir, p));
  return out;
}

function sourcesOf(file: string, shown: string): DeclaredTable[] {
  let doc: unknown;
  try {
    doc = parse(readFileSync(file, "utf8"));
  } catch {
    return []; // dbt reports YAML it cannot read; this report is about sources
  }
  const sources = (doc as { sources?: unknown } | null)?.sources;
  if (!Array.isArray(sources)) return [];
  return sources.flatMap((s: Record<string, unknown>) => {
    if (typeof s?.name !== "string") return [];
    const schema = typeof s.schema === "string" ? s.schema : s.name;
    const database = typeof s.database === "string" ? s.database : undefined;
    const tables = Array.isArray(s.tables) ? (s.tables as Record<string, unknown>[]) : [];
    return tables
      .filter((t) => typeof t?.name === "string")
      .map((t) => ({ source: s.name as string, name: t.name as string, database, schema, table: typeof t.identifier === "string" ? t.identifier : (t.name as string), file: shown }));
  });
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
