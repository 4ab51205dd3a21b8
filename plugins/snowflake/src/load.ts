/**
 * One load: plan the statements, run them on one session, and release the staging
 * objects whatever happens. All decisions live in plan.ts; this file only executes.
 */
import path from "node:path";
import type { LoadContext, LoadResult, Logger, ManifestFile } from "@xo-foundry/core";
import { driverOptions, openSession, resolveLocation, type Session } from "./client.js";
import { SnowflakeSinkError } from "./errors.js";
import { parseOptions, resolveTarget, sinkOptions, type SinkOptions } from "./options.js";
import { CLEANUP_STEPS, ROLLBACK, type Step, planApply, planCleanup, planColumns, planStaging, type PlanFile, type PlanInput, type Statement } from "./plan.js";

/** Everything planLoad needs, from a task's context. Exported for tests and dry runs. */
export async function planInput(ctx: LoadContext): Promise<PlanInput> {
  const options = parseOptions(sinkOptions, ctx.options, "sink options");
  const target = resolveTarget(ctx.target, ctx.stream.name, ctx.strategy);
  const { database, schema } = resolveLocation(options, ctx.connection);
  const files = ctx.manifest.files;
  const formats = new Set(files.map((f) => formatFamily(f)));
  if (formats.size > 1) {
    throw new SnowflakeSinkError("XO_SNOWFLAKE_FILES_INVALID", `one load mixes file formats (${[...formats].join(", ")})`, "land one format per stream");
  }
  return {
    database,
    schema,
    target,
    format: files[0]?.format ?? "ndjson",
    fileFormat: options.file_format,
    stage: options.stage,
    onError: options.on_error,
    files: await stageFiles(ctx, options),
    runId: ctx.runId,
    logicalDate: ctx.manifest.logicalDate,
    window: { start: ctx.window.start.slice(0, 10), end: ctx.window.end.slice(0, 10) },
    queryTag: { ...options.query_tag, pipeline: ctx.pipeline.pipeline.name, task: `load_${ctx.stream.name}`, run_id: ctx.runId, stream: ctx.stream.name },
  };
}

function formatFamily(file: ManifestFile): string {
  return file.format === "ndjson" ? "json" : file.format;
}

async function stageFiles(ctx: LoadContext, options: SinkOptions): Promise<PlanFile[]> {
  const stage = options.stage;
  if (stage.type === "external") {
    const prefix = stage.url_prefix.endsWith("/") ? stage.url_prefix : `${stage.url_prefix}/`;
    return ctx.manifest.files.map((f) => {
      if (!f.uri.startsWith(prefix)) {
        throw new SnowflakeSinkError(
          "XO_SNOWFLAKE_FILES_INVALID",
          `landed file ${f.uri} is not under the external stage's url_prefix ${stage.url_prefix}`,
          "set `stage.url_prefix` to the URL the stage points at (a prefix of the landing URI), or use `stage: { type: internal }`",
        );
      }
      return { stageName: f.uri.slice(prefix.length) };
    });
  }
  const files: PlanFile[] = [];
  const seen = new Set<string>();
  for (const f of ctx.manifest.files) {
    const localPath = await ctx.localPath(f);
    const stageName = path.basename(localPath);
    // PUT keeps only the base name on the stage; two files with one name would overwrite each other.
    if (seen.has(stageName)) {
      throw new SnowflakeSinkError("XO_SNOWFLAKE_FILES_INVALID", `two landed files are both named ${stageName}`, "give the extracted files distinct names");
    }
    seen.add(stageName);
    files.push({ stageName, localPath });
  }
  return files;
}

export async function load(ctx: LoadContext): Promise<LoadResult> {
  const options = parseOptions(sinkOptions, ctx.options, "sink options");
  if (ctx.manifest.files.length === 0) {
    // An empty extract is far more often an outage than a real deletion: leave the table alone.
    ctx.log.warn("no files to load; the target table is left unchanged", { stream: ctx.stream.name });
    const target = resolveTarget(ctx.target, ctx.stream.name, ctx.strategy);
    const { database, schema } = resolveLocation(options, ctx.connection);
    return { table: `${database}.${schema}.${target.table}`.toUpperCase(), rowsLoaded: 0 };
  }
  const input = await planInput(ctx);
  const session = await openSession(await driverOptions(options, ctx.connection));
  try {
    const rowsLoaded = await execute(session, input, ctx.log);
    const table = `${input.database}.${input.schema}.${input.target.table}`.toUpperCase();
    ctx.log.info(`loaded ${rowsLoaded} rows into ${table} (${input.target.mode})`, { rowsLoaded });
    return { table, rowsLoaded };
  } finally {
    await session.close();
  }
}

/** Runs a load's statements on a session; returns the rows COPY loaded. */
export async function execute(session: Session, input: PlanInput, log?: Logger): Promise<number> {
  let inTransaction = false;
  let rowsLoaded = 0;
  const run = async (statement: Statement) => {
    const rows = await session.run(statement);
    if (statement.step === "begin") inTransaction = true;
    if (statement.step === "commit") inTransaction = false;
    if (statement.step === "copy") rowsLoaded += sumRowsLoaded(rows);
    return rows;
  };
  try {
    for (const statement of planStaging(input)) await run(statement);
    const columns = (await run(planColumns(input))).map((r) => String(r.COLUMN_NAME ?? r.column_name));
    let apply = planApply(input, columns);
    if (rowsLoaded === 0) {
      // Files with no rows: create the table if asked, but never empty or shrink it (see README, Empty loads).
      log?.warn("the files hold no rows; the target table is left unchanged", { table: input.target.table, mode: input.target.mode });
      apply = apply.filter((s) => KEPT_WHEN_EMPTY.has(s.step));
    }
    for (const statement of apply) await run(statement);
    return rowsLoaded;
  } catch (error) {
    // Undo a half-done transaction, then drop the staging objects; the original error is what the user needs.
    if (inTransaction) await session.run(ROLLBACK).catch(() => undefined);
    for (const statement of planCleanup(input).filter((s) => CLEANUP_STEPS.has(s.step))) {
      await session.run(statement).catch(() => undefined);
    }
    throw error;
  }
}

const KEPT_WHEN_EMPTY: ReadonlySet<Step> = new Set(["create_target", "target_metadata", ...CLEANUP_STEPS]);

/** COPY INTO returns one row per file with a rows_loaded column (none when no file was new). */
function sumRowsLoaded(rows: readonly Record<string, unknown>[]): number {
  let total = 0;
  for (const row of rows) {
    const value = row.rows_loaded ?? row.ROWS_LOADED;
    if (value !== undefined && value !== null) total += Number(value);
  }
  return total;
}
