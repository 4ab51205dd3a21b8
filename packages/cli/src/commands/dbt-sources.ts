/**
 * `xo-foundry dbt sources [project]`: the tables the project's pipelines load, as dbt
 * sources. The dbt-specific work (finding the dbt project, reading its sources, writing the
 * file) is @xo-foundry/plugin-dbt's, loaded from the project's own dependencies; this
 * command collects the tables through each sink's `targetKey` and reports.
 */
import { existsSync } from "node:fs";
import { readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { pipelineStreams, pluginOptions, RESERVED_SINK_KEYS, type Diagnostic, type Project, type ResolvedPipeline } from "@xo-foundry/core";
import { pipelineFiles } from "../files.js";
import { output, symbols } from "../output.js";
import { Projects } from "../projects.js";

export interface DbtSourcesOptions {
  readonly dbtProject?: string;
  readonly check?: boolean;
  readonly json?: boolean;
}

interface LoadedTable {
  readonly pipeline: string;
  readonly file: string;
  readonly stream: string;
  readonly sink: string;
  readonly plugin: string;
  readonly database?: string;
  readonly schema: string;
  readonly table: string;
}

interface SourcesPlan {
  readonly dbtProject: string;
  readonly file: string;
  readonly text: string | undefined;
  readonly declared: readonly { readonly table: LoadedTable; readonly by: { source: string; file: string } }[];
  readonly generated: readonly LoadedTable[];
  readonly unloaded: readonly { source: string; schema: string; table: string; file: string }[];
}

interface DbtPlugin {
  planSources(projectDir: string, dbtProjectDir: string | undefined, tables: readonly LoadedTable[]): SourcesPlan;
  readonly SOURCES_HEADER: string;
}

export async function dbtSourcesCommand(dir: string | undefined, options: DbtSourcesOptions): Promise<number> {
  const out = output(Boolean(options.json));
  const { files } = await pipelineFiles([dir ?? "."]);
  const projects = new Projects();
  const pipelines: { pipeline: ResolvedPipeline; project: Project }[] = [];
  const problems: Diagnostic[] = [];
  for (const file of files) {
    const { pipeline, project, diagnostics } = await projects.load(file);
    problems.push(...diagnostics.filter((d) => d.severity === "error"));
    if (pipeline) pipelines.push({ pipeline, project });
  }
  if (problems.length > 0 || pipelines.length === 0) {
    out.diagnostics(problems);
    out.line(problems.length ? `${symbols.fail} fix the pipelines first (\`xo-foundry validate-config\`)` : `${symbols.skip} no pipeline files found in ${dir ?? "."}`);
    out.document({ ok: false, problems });
    return 1;
  }
  const projectDir = pipelines[0]!.project.dir;
  const skipped: string[] = [];
  // dbt runs on one warehouse: the one the pipelines' dbt steps use. Tables loaded elsewhere are not its sources.
  const warehouses = new Set(pipelines.flatMap(({ pipeline, project }) => dbtWarehouses(pipeline, project)));
  const tables = pipelines
    .flatMap(({ pipeline, project }) => loadedTables(pipeline, project, skipped))
    .filter((t) => {
      if (warehouses.size === 0 || warehouses.has(t.warehouse)) return true;
      skipped.push(`${t.schema}.${t.table} (${t.pipeline}) is loaded into another warehouse than the dbt steps use`);
      return false;
    })
    .map(({ warehouse: _warehouse, ...t }) => t);
  if (warehouses.size === 0) skipped.push("no pipeline has a dbt step, so every pipeline's tables are listed; add the dbt step to say which warehouse dbt uses");

  const plugin = await loadDbtPlugin(projectDir);
  if (!plugin) {
    out.line(`${symbols.fail} @xo-foundry/plugin-dbt is not installed in ${projectDir}: \`npm install @xo-foundry/plugin-dbt\``);
    out.document({ ok: false, error: "plugin-dbt not installed" });
    return 1;
  }
  let plan: SourcesPlan;
  try {
    plan = plugin.planSources(projectDir, options.dbtProject, tables);
  } catch (e) {
    out.line(`${symbols.fail} ${(e as Error).message}`);
    out.document({ ok: false, error: (e as Error).message });
    return 1;
  }
  const shown = path.relative(process.cwd(), plan.file) || plan.file;
  const current = existsSync(plan.file) ? await readFile(plan.file, "utf8") : undefined;
  const ours = current === undefined || current.startsWith(plugin.SOURCES_HEADER);

  for (const { table, by } of plan.declared) out.line(`${symbols.ok} ${table.schema}.${table.table} (${table.pipeline}) is dbt source ${by.source} in ${by.file}`);
  for (const table of plan.generated) out.line(`${symbols.ok} ${table.schema}.${table.table} (${table.pipeline}) is dbt source ${table.pipeline} in ${shown}`);
  for (const t of plan.unloaded) out.line(`${symbols.stale} dbt source ${t.source} table ${t.schema}.${t.table} (${t.file}) is loaded by no pipeline of this project`);
  for (const s of skipped) out.line(`${symbols.skip} ${s}`);

  let ok = true;
  let change: "unchanged" | "written" | "removed" | "stale" | "refused" = "unchanged";
  if (!ours) {
    ok = false;
    change = "refused";
    out.line(`${symbols.fail} ${shown} exists and was not written by xo-foundry; move it away, or set --dbt-project to another dbt project`);
  } else if (current !== plan.text) {
    if (options.check) {
      ok = false;
      change = "stale";
      out.line(`${symbols.fail} ${shown} is ${current === undefined ? "missing" : plan.text === undefined ? "no longer needed" : "stale"}: run \`xo-foundry dbt sources\` and commit the result`);
    } else if (plan.text === undefined) {
      await rm(plan.file);
      change = "removed";
      out.line(`${symbols.ok} removed ${shown}: the dbt project declares every table itself`);
    } else {
      await writeFile(plan.file, plan.text);
      change = "written";
      out.line(`${symbols.ok} wrote ${shown}`);
    }
  } else out.line(`${symbols.ok} ${plan.text === undefined ? "no sources file needed" : `${shown} up to date`}`);

  out.document({ ok, dbtProject: plan.dbtProject, file: plan.file, change, declared: plan.declared, generated: plan.generated, unloaded: plan.unloaded, skipped });
  return ok ? 0 : 1;
}

/** A sink block's warehouse, as one string: its plugin and the place its `location` names. */
function warehouseOf(pipeline: ResolvedPipeline, project: Project, sink: string): string {
  const block = pipeline.config.sinks[sink]!;
  const def = project.registry.sink(block.plugin);
  const place = def?.location?.({ options: def.options.parse(pluginOptions(block, RESERVED_SINK_KEYS)), connection: block.connection, projectDir: pipeline.projectDir });
  return JSON.stringify([block.plugin, place ?? `${pipeline.relativeFile}#${sink}`]);
}

/** The warehouses the pipeline's dbt steps run on: the sink each names, else the only one. */
function dbtWarehouses(pipeline: ResolvedPipeline, project: Project): string[] {
  const sinks = Object.keys(pipeline.config.sinks);
  return pipeline.config.steps
    .filter((s) => s.uses.startsWith("dbt."))
    .map((s) => (typeof s.with.sink === "string" ? s.with.sink : sinks.length === 1 ? sinks[0] : undefined))
    .filter((name): name is string => name !== undefined && pipeline.config.sinks[name] !== undefined)
    .map((name) => warehouseOf(pipeline, project, name));
}

/** Every stream's table, from its sink's `targetKey` (`schema.table` or `database.schema.table`). */
function loadedTables(pipeline: ResolvedPipeline, project: Project, skipped: string[]): (LoadedTable & { warehouse: string })[] {
  const config = pipeline.config;
  return pipelineStreams(config).flatMap(({ sink, stream }) => {
    const block = config.sinks[sink]!;
    const def = project.registry.sink(block.plugin);
    const key = def?.targetKey?.({ stream: stream.name, target: def.target.parse(stream.target ?? {}), options: def.options.parse(pluginOptions(block, RESERVED_SINK_KEYS)) });
    const parts = key === undefined ? [] : splitName(key);
    if (parts.length < 2) {
      skipped.push(`${config.pipeline.name} stream ${stream.name}: sink ${sink} (${block.plugin}) does not name its schema; set \`schema\` in the sink block`);
      return [];
    }
    const [table, schema, database] = parts.reverse() as [string, string, string | undefined];
    return [{ pipeline: config.pipeline.name, file: pipeline.relativeFile, stream: stream.name, sink, plugin: block.plugin, ...(database !== undefined ? { database } : {}), schema, table, warehouse: warehouseOf(pipeline, project, sink) }];
  });
}

/** `a."b.c".d` -> [a, b.c, d]. */
function splitName(key: string): string[] {
  return [...key.matchAll(/"((?:[^"]|"")*)"|([^."]+)/g)].map((m) => (m[1] !== undefined ? m[1].replaceAll('""', '"') : m[2]!));
}

async function loadDbtPlugin(projectDir: string): Promise<DbtPlugin | undefined> {
  try {
    const entry = createRequire(path.join(projectDir, "package.json")).resolve("@xo-foundry/plugin-dbt");
    return (await import(pathToFileURL(entry).href)) as DbtPlugin;
  } catch {
    return undefined;
  }
}
