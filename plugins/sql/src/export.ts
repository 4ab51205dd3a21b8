/**
 * `sql.export`: a query's rows (or a table's) as files in the landing zone, for a delivery
 * step after it (`sftp.upload`, `s3.upload`, `api.send`) to send. The sink's warehouse
 * writes the files (`exportQuery`); the step publishes them as its stage partition and
 * names it in its summary, where the delivery finds it.
 *
 * An incremental export (`watermark: { column }`) sends each row once, and again only when
 * its delivery failed:
 *
 * - Its state, `export__<task>`, is `{ column, watermark, dates: { <ds>: { from, to } } }`
 *   (watermark.ts): the upper bound of the last new date delivered, and the range each of
 *   the last 31 dates exported.
 * - A date seen before exports its recorded range again, so a re-run sends the same rows in
 *   the same files, and the deliveries recognise them (same names, checksums, idempotency
 *   keys) instead of sending a second copy.
 * - A new date exports the range (from, to]: `from` is the saved watermark (else
 *   `initial`, else no lower bound), `to` the largest value of the column above `from`,
 *   read once before the export, so rows that arrive meanwhile wait for the next run. The
 *   rows come ordered by the column (and on DuckDB then by every column, so that ties come
 *   out in the same order, in the same files, every time).
 * - The step never saves its state: it stages it (StepResult.state), and the runtime saves
 *   it once every task directly after the export succeeded. A failed or killed delivery
 *   leaves the watermark where it was, and the next run exports those rows again.
 * - No new row: an empty partition (no files, so deliveries send nothing) and no state change.
 * - A row that arrives later with a value at or below the saved watermark is never exported:
 *   the column must only grow (an `updated_at` the database sets, a sequence).
 *
 * Watermark values travel as JSON: numbers, or strings the warehouse casts back exactly
 * (DuckDB gives timestamps with every microsecond, and casts the string back when it is
 * compared with the column).
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { z } from "zod";
import {
  nameWithoutControlCharacters,
  publishStepFiles,
  stepStateKey,
  type DatasetRef,
  type Manifest,
  type StepContext,
  type StepResult,
  type StepType,
  type Warehouse,
} from "@xo-foundry/core";
import { SqlError } from "./errors.js";
import { sqlExportLineage } from "./lineage.js";
import { queryParameters } from "./parameters.js";
import { nextExportState, readExportState, watermarkValue, type ExportRange, type WatermarkValue } from "./watermark.js";

export const EXPORT_FORMATS = ["csv", "ndjson", "parquet"] as const;
const BYTES_PER_MB = 1_000_000;

export const sqlExportOptions = z
  .object({
    query: z
      .string()
      .min(1)
      .optional()
      .describe(
        "The SELECT whose rows are exported, in the warehouse's dialect. It may use `$window_start` and `$window_end` (the run's data window, ISO 8601 in UTC) and `$ds` (the logical date, YYYY-MM-DD). Give `query` or `table`.",
      ),
    table: z
      .string()
      .regex(/^[A-Za-z_][\w$]*(\.[A-Za-z_][\w$]*){0,2}$/, { message: "a table name such as `orders` or `raw.orders`; use `query` for other names" })
      .optional()
      .describe("A table (or view) exported whole, `table` or `schema.table`, resolved as the warehouse resolves bare names. Give `query` or `table`."),
    sink: z
      .string()
      .regex(/^[a-z][a-z0-9_]{0,62}$/)
      .optional()
      .describe("The sink whose warehouse runs the query; the pipeline's only sink when unset."),
    format: z.enum(EXPORT_FORMATS).default("csv").describe("The files' format: csv (with a header line), ndjson (one JSON object per line) or parquet."),
    max_file_mb: z
      .number()
      .positive()
      .optional()
      .describe(
        "Start a new file once one holds about this many megabytes (1 MB = 1,000,000 bytes): part-00000, part-00001, ... in the rows' order. CSV and NDJSON are cut between rows; Parquet in equal row windows. One file when unset.",
      ),
    watermark: z
      .strictObject({
        column: nameWithoutControlCharacters("a column name").describe("A column of the query's result that only grows (an updated_at the database sets, a sequence)."),
        initial: z
          .union([z.string().min(1), z.number()])
          .optional()
          .describe("Export rows above this value on the first run (e.g. `2026-01-01T00:00:00`); every row when unset."),
      })
      .optional()
      .describe(
        "Export only rows whose `column` is above the last delivered value. The new value is saved once every task directly after the export succeeded; a re-run of a date exports that date's rows again.",
      ),
  })
  .refine((o) => (o.query === undefined) !== (o.table === undefined), { message: "give `query` or `table`, exactly one of them" });

export type SqlExportOptions = z.infer<typeof sqlExportOptions>;

export const sqlExport: StepType<SqlExportOptions> = {
  id: "sql.export",
  description: "Export a query's rows (or a table) from a sink's warehouse to CSV, NDJSON or Parquet files for a delivery step; optionally only the rows above a watermark.",
  options: sqlExportOptions,
  canSkip: false,
  lineage: sqlExportLineage,
  async run(ctx) {
    ctx.signal.throwIfAborted();
    const warehouse = ctx.services.warehouse(ctx.options.sink);
    const query = ctx.options.query === undefined ? `select * from ${ctx.options.table}` : ctx.options.query.replace(/[\s;]+$/, "");
    const params = windowParams(ctx, query);
    const reads = [{ uri: sourceUri(ctx) }];
    if (ctx.options.watermark === undefined) {
      const manifest = await exportFiles(ctx, warehouse, query, params);
      return result(manifest, reads);
    }
    return exportIncrement(ctx, warehouse, { query, params, column: ctx.options.watermark.column }, reads);
  },
};

type Params = Readonly<Record<string, string | number>>;

interface Source {
  readonly query: string;
  readonly params: Params;
  readonly column: string;
}

async function exportIncrement(ctx: StepContext<SqlExportOptions>, warehouse: Warehouse, source: Source, reads: readonly DatasetRef[]): Promise<StepResult> {
  const { column } = source;
  const key = stepStateKey("export", ctx.taskId);
  const saved = readExportState((await ctx.state.get(key))?.value, column, { key, task: ctx.taskId });
  const ds = ctx.window.logicalDate;
  const recorded = saved?.dates[ds];
  const from = recorded ? recorded.from : (saved?.watermark ?? ctx.options.watermark?.initial ?? null);
  const to = recorded ? recorded.to : await checkingColumn(ctx, warehouse, source, () => highestAbove(ctx, warehouse, source, from));
  if (to === undefined) {
    ctx.log.info(`no rows above the watermark ${JSON.stringify(from)} of ${column}: nothing to export`);
    return result(await publishStepFiles(ctx, []), reads, { column, from, to: null });
  }
  const range: ExportRange = { from, to };
  const manifest = await checkingColumn(ctx, warehouse, source, () => exportFiles(ctx, warehouse, inRange(source, range, warehouse.dialect), { ...source.params, ...rangeParams(range) }));
  return { ...result(manifest, reads, { column, from, to }), state: { [key]: nextExportState(saved, column, ds, range) } };
}

/** The largest value of the column above `from` (all of them when null); undefined when there is none. */
async function highestAbove(ctx: StepContext, warehouse: Warehouse, source: Source, from: WatermarkValue | null): Promise<WatermarkValue | undefined> {
  const col = `q.${quoteIdent(source.column)}`;
  const above = from === null ? "" : ` where ${col} > $watermark_from`;
  const rows = await warehouse.query(`select max(${col}) as watermark_to from (\n${source.query}\n) q${above}`, from === null ? source.params : { ...source.params, watermark_from: from });
  return watermarkValue(rows[0]?.watermark_to, source.column, ctx.taskId);
}

/** The query's rows in (from, to], in the column's order; ties ordered by every column where the dialect allows. */
function inRange(source: Source, range: ExportRange, dialect: string): string {
  const col = `q.${quoteIdent(source.column)}`;
  const above = range.from === null ? "" : `${col} > $watermark_from and `;
  const ties = dialect === "duckdb" ? ", columns(*)" : "";
  return `select * from (\n${source.query}\n) q where ${above}${col} <= $watermark_to order by ${col}${ties}`;
}

function rangeParams(range: ExportRange): Params {
  return range.from === null ? { watermark_to: range.to } : { watermark_from: range.from, watermark_to: range.to };
}

/**
 * Runs `fn`; when it fails and the watermark column is not among the query's columns,
 * says so with the columns there are (the warehouse's own message may not name them).
 */
async function checkingColumn<T>(ctx: StepContext, warehouse: Warehouse, source: Source, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (ctx.signal.aborted || error instanceof SqlError) throw error;
    const first = await warehouse.query(`select * from (\n${source.query}\n) q limit 1`, source.params).then(
      (rows) => rows[0],
      () => undefined,
    );
    const columns = first === undefined ? undefined : Object.keys(first);
    if (columns && !columns.some((c) => c.toLowerCase() === source.column.toLowerCase())) {
      throw new SqlError(
        "XO_SQL_EXPORT_COLUMN_MISSING",
        `the watermark column ${JSON.stringify(source.column)} of task ${ctx.taskId} is not in its query's result, whose columns are ${columns.map((c) => JSON.stringify(c)).join(", ")}`,
        "select the column in the query, or set watermark.column to one of those",
        { cause: error },
      );
    }
    throw error;
  }
}

/** Writes the rows into a temporary folder with the warehouse, and publishes them as the task's partition. */
async function exportFiles(ctx: StepContext<SqlExportOptions>, warehouse: Warehouse, sql: string, params: Params): Promise<Manifest> {
  const { format, max_file_mb } = ctx.options;
  const dir = await mkdtemp(path.join(os.tmpdir(), "xo-sql-export-"));
  try {
    const files = await warehouse.exportQuery(sql, dir, format, { params, ...(max_file_mb === undefined ? {} : { maxFileBytes: Math.max(1, Math.round(max_file_mb * BYTES_PER_MB)) }) });
    const manifest = await publishStepFiles(
      ctx,
      files.map((f) => ({ path: f.path, format, rows: f.rows })),
    );
    ctx.log.info(`exported ${manifest.rows} rows in ${manifest.files.length} ${format} file(s) to ${manifest.partition}`, { rows: manifest.rows, files: manifest.files.length });
    return manifest;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function result(manifest: Manifest, reads: readonly DatasetRef[], watermark?: { column: string; from: WatermarkValue | null; to: WatermarkValue | null }): StepResult {
  return {
    summary: {
      rows: manifest.rows,
      files: manifest.files.length,
      bytes: manifest.bytes,
      partition: manifest.partition,
      ...(watermark === undefined ? {} : { watermark }),
    },
    reads,
    writes: [{ uri: manifest.partition }],
  };
}

/**
 * The window parameters the query uses, in the spelling it uses. A query with another
 * `$name` is refused here: the warehouse would only say the value is missing.
 */
function windowParams(ctx: StepContext, query: string): Params {
  const values: Readonly<Record<string, string>> = {
    window_start: new Date(ctx.window.start).toISOString(),
    window_end: new Date(ctx.window.end).toISOString(),
    ds: ctx.window.logicalDate,
  };
  const used = queryParameters(query);
  const unknown = used.filter((name) => !Object.hasOwn(values, name.toLowerCase()));
  if (unknown.length > 0) {
    throw new SqlError(
      "XO_SQL_EXPORT_PARAMETER_UNKNOWN",
      `the query of task ${ctx.taskId} uses ${unknown.map((n) => `$${n}`).join(", ")}; sql.export binds only $window_start, $window_end and $ds`,
      "write the value into the query, or use $window_start, $window_end (ISO 8601, UTC) or $ds (YYYY-MM-DD)",
    );
  }
  return Object.fromEntries(used.map((name) => [name, values[name.toLowerCase()]!]));
}

/** The dataset the step reads, for lineage: `xo-sink://<sink>/query` or `xo-sink://<sink>/table/<table>`. */
function sourceUri(ctx: StepContext<SqlExportOptions>): string {
  const sinks = Object.keys(ctx.pipeline.sinks);
  const sink = ctx.options.sink ?? (sinks.length === 1 ? sinks[0]! : "default");
  const what = ctx.options.table === undefined ? "query" : `table/${encodeURIComponent(ctx.options.table)}`;
  return `xo-sink://${encodeURIComponent(sink)}/${what}`;
}

/** An identifier in double quotes, the standard SQL way (DuckDB, Snowflake, PostgreSQL). */
function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
