/**
 * `pre_load`: a stream's landed files as one view in an in-memory DuckDB, so checks run as
 * SQL over the files where they lie. DuckDB's readers stream the files for each query (and
 * spill to a temporary folder when a query needs more memory), so no file is read into
 * this process and memory does not grow with the data.
 *
 * The files are the stage partition the stream's extract published in this run, found
 * through its summary; failing that, the stage partition of the date, which is what the
 * load reads. All files, of any format, are one view, their columns joined by name.
 */
import { mkdtemp, rm, stat, symlink, copyFile, mkdir } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import { landingPaths, readStepPartition, type FileFormat, type JsonObject, type Manifest, type StepContext } from "@xo-foundry/core";
import { landedDialect } from "./dialect.js";
import { quoteLiteral } from "@xo-foundry/plugin-duckdb";
import { jsonValue } from "@xo-foundry/plugin-duckdb/json";
import { QualityError } from "./errors.js";
import type { CheckTarget, Column, Params } from "./target.js";

export interface LandedFiles {
  readonly target: CheckTarget;
  /** The stage partition checked. */
  readonly partition: string;
}

export async function landedTarget(ctx: StepContext, stream: string): Promise<LandedFiles> {
  const manifest = await landedPartition(ctx, stream);
  const scratch = await mkdtemp(path.join(os.tmpdir(), "xo-quality-"));
  let instance: DuckDBInstance | undefined;
  let conn: DuckDBConnection | undefined;
  const interrupt = () => conn?.interrupt();
  const close = async () => {
    ctx.signal.removeEventListener("abort", interrupt);
    conn?.closeSync();
    instance?.closeSync();
    await rm(scratch, { recursive: true, force: true });
  };
  try {
    const files = await localFiles(ctx, manifest, scratch);
    instance = await DuckDBInstance.create(":memory:", { temp_directory: path.join(scratch, "spill") });
    conn = await instance.connect();
    ctx.signal.addEventListener("abort", interrupt, { once: true });
    ctx.signal.throwIfAborted();
    // Text with an offset is the instant it names; text without one, and dates, read as UTC.
    await conn.run("SET TimeZone = 'UTC'");
    const view = landedDialect.ident(stream);
    let columns: Column[] = [];
    try {
      const scan = files.length > 0 ? await scanOf(conn, files) : undefined;
      await conn.run(`CREATE TEMP VIEW ${view} AS ${scan ?? "SELECT 1 AS xo_nothing WHERE false"}`);
      if (scan) columns = await describe(conn, `SELECT * FROM ${view}`);
    } catch (error) {
      if (ctx.signal.aborted) throw ctx.signal.reason;
      throw new QualityError(
        "XO_CHECK_FILES_UNREADABLE",
        `DuckDB could not read the landed files of stream ${stream} (${manifest.partition}): ${firstLine(error)}`,
        "re-run the extract of the date if a file is damaged; check that each file is what its format says (ndjson, csv, json, parquet)",
        { cause: error },
      );
    }
    const connection = conn;
    const target: CheckTarget = {
      dialect: landedDialect,
      label: `stream ${stream}`,
      relation: view,
      columns,
      empty: files.length === 0,
      loaded: false,
      async query(sql: string, params: Params = {}): Promise<JsonObject[]> {
        ctx.signal.throwIfAborted();
        try {
          const reader = await connection.runAndReadAll(sql, { ...params });
          return reader.convertRowObjects(jsonValue) as JsonObject[];
        } catch (error) {
          // An interrupted query fails with DuckDB's "Interrupted!"; the caller wants to know why.
          if (ctx.signal.aborted) throw ctx.signal.reason;
          throw new Error(firstLine(error), { cause: error });
        }
      },
      close,
    };
    return { target, partition: manifest.partition };
  } catch (error) {
    await close();
    throw error;
  }
}

/** The complete partition of the stream: the one its extract published in this run, else the date's. */
async function landedPartition(ctx: StepContext, stream: string): Promise<Manifest> {
  const store = ctx.landing.store;
  const later = Object.keys(ctx.upstream)
    .filter((id) => !ctx.after.includes(id))
    .sort();
  for (const id of [...ctx.after, ...later]) {
    const summary = ctx.upstream[id];
    if (summary?.step !== "extract" || summary.state !== "success") continue;
    const uri = typeof summary.summary.partition === "string" ? summary.summary.partition : summary.writes[0]?.uri;
    if (uri === undefined) continue;
    const manifest = await readStepPartition(store, uri);
    if (manifest?.stream === stream) return manifest;
  }
  const config = ctx.pipeline.pipeline;
  const paths = landingPaths({ root: ctx.landing.root, pipeline: config.name, stream, strategy: config.load_strategy, window: ctx.window, runId: ctx.runId });
  const manifest = await readStepPartition(store, paths.stage);
  if (manifest) return manifest;
  throw new QualityError(
    "XO_CHECK_NO_FILES",
    `no landed files of stream ${stream} to check: no extract of it ran before this task in this run, and ${paths.stage} holds no complete partition`,
    `run the checks after extract_${stream} (the graph does this for \`checks:\`), or re-run the extract of ${ctx.window.logicalDate} first`,
  );
}

interface LocalFile {
  readonly path: string;
  readonly format: FileFormat;
}

// DuckDB reads `*`, `?`, `[...]` and `{...}` in a path as a glob.
const GLOB_CHAR = /[*?[\]{}]/;

/** Local paths of the partition's files with content, through a plain-named link where the path would read as a glob. */
async function localFiles(ctx: StepContext, manifest: Manifest, scratch: string): Promise<LocalFile[]> {
  const files: LocalFile[] = [];
  for (const [index, file] of manifest.files.entries()) {
    ctx.signal.throwIfAborted();
    let local = path.resolve(ctx.projectDir, await ctx.landing.store.localPath(file.uri));
    // A zero-byte file has no rows and no header; DuckDB would invent a column for it.
    if ((await stat(local)).size === 0) continue;
    if (GLOB_CHAR.test(local)) {
      await mkdir(path.join(scratch, "files"), { recursive: true });
      // Keep the suffix: DuckDB picks the compression (.gz, .zst) from it.
      const alias = path.join(scratch, "files", `${index}-${path.basename(local).replace(new RegExp(GLOB_CHAR.source, "g"), "_")}`);
      await symlink(local, alias).catch(() => copyFile(local, alias));
      local = alias;
    }
    files.push({ path: local, format: file.format });
  }
  return files;
}

const JSON_FORMAT: Partial<Record<FileFormat, string>> = { ndjson: "newline_delimited", json: "auto" };

/**
 * The reader of one format. Hive partitioning is off: the landing layout's `date=...` folders
 * would otherwise become a column the source never sent. JSON files get their columns given,
 * so the queries of the checks do not sample them again.
 */
function reader(format: FileFormat, paths: readonly string[], columns?: readonly Column[]): string {
  const list = `[${paths.map(quoteLiteral).join(", ")}]`;
  switch (format) {
    case "ndjson":
    case "json": {
      const shape = columns ? `columns = {${columns.map((c) => `${quoteLiteral(c.name)}: ${quoteLiteral(c.type)}`).join(", ")}}` : "union_by_name = true";
      return `read_json(${list}, format = '${JSON_FORMAT[format]}', hive_partitioning = false, ${shape})`;
    }
    case "csv":
      return `read_csv(${list}, header = true, auto_detect = true, union_by_name = true, hive_partitioning = false)`;
    case "parquet":
      return `read_parquet(${list}, union_by_name = true, hive_partitioning = false)`;
  }
}

/** One SELECT per format, joined by column name. */
async function scanOf(conn: DuckDBConnection, files: readonly LocalFile[]): Promise<string> {
  const byFormat = new Map<FileFormat, string[]>();
  for (const file of files) byFormat.set(file.format, [...(byFormat.get(file.format) ?? []), file.path]);
  const selects: string[] = [];
  for (const [format, paths] of byFormat) {
    selects.push(`SELECT * FROM ${JSON_FORMAT[format] ? reader(format, paths, await jsonColumns(conn, format, paths)) : reader(format, paths)}`);
  }
  return selects.join(" UNION ALL BY NAME ");
}

/**
 * The columns of JSON files, sampled one file at a time (one scan of them all would hold a
 * read buffer per file); files of differing shapes are unified by name, one of each shape.
 */
async function jsonColumns(conn: DuckDBConnection, format: FileFormat, paths: readonly string[]): Promise<Column[]> {
  const shapes = new Map<string, { path: string; columns: Column[] }>();
  for (const file of paths) {
    const columns = await describe(conn, `SELECT * FROM ${reader(format, [file])}`);
    shapes.set(JSON.stringify(columns), { path: file, columns });
  }
  const distinct = [...shapes.values()];
  if (distinct.length === 1) return distinct[0]!.columns;
  return describe(conn, distinct.map((s) => `SELECT * FROM ${reader(format, [s.path], s.columns)}`).join(" UNION ALL BY NAME "));
}

async function describe(conn: DuckDBConnection, sql: string): Promise<Column[]> {
  const reader = await conn.runAndReadAll(`DESCRIBE ${sql}`);
  return reader.getRowObjectsJS().map((row) => ({ name: String(row.column_name), type: String(row.column_type) }));
}

/** DuckDB's message, first line only, as it starts: with its error class (`Binder Error: ...`). */
function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split("\n")[0]!.replace(/^Failed to extract statements: /, "");
}
