/**
 * The rows a load brings, as one query over the landed files: DuckDB's bulk readers
 * plus the metadata columns. The modes insert from this query directly, so the rows
 * go from the files into the target in one pass, with no copy in between and with
 * memory that does not grow with the number of rows.
 *
 * Column types are inferred once, by sampling (`DESCRIBE`) each file, two files at a
 * time, and handed to the JSON reader as explicit `columns`, so the scan that loads
 * neither samples again nor keeps the per-file schemas in memory.
 */
import { listValue, type DuckDBConnection, type DuckDBValue } from "@duckdb/node-api";
import type { FileFormat, Logger } from "@xo-foundry/core";
import type { Connections } from "./database.js";
import { DuckDbSinkError } from "./errors.js";
import type { LocalFile } from "./files.js";
import { quoteIdent, quoteLiteral, sameName } from "./sql.js";

export const METADATA_COLUMNS = ["_xo_partition", "_xo_logical_date", "_xo_run_id", "_xo_loaded_at"] as const;

export interface Column {
  readonly name: string;
  readonly type: string;
}

export interface Metadata {
  readonly partition: string;
  /** `YYYY-MM-DD` */
  readonly logicalDate: string;
  readonly runId: string;
  readonly loadedAt: Date;
}

type Params = Record<string, DuckDBValue>;

export interface Incoming {
  /** A SELECT of every incoming row with the metadata columns; bind `params` when running it. */
  readonly sql: string;
  readonly params: Params;
  /** Its columns, data then metadata, typed as the target will get them. */
  readonly columns: readonly Column[];
  /** False when no file holds anything to read: the query returns no rows. */
  readonly hasFiles: boolean;
}

const METADATA_TYPES: readonly Column[] = [
  { name: "_xo_partition", type: "VARCHAR" },
  { name: "_xo_logical_date", type: "DATE" },
  { name: "_xo_run_id", type: "VARCHAR" },
  { name: "_xo_loaded_at", type: "TIMESTAMP" },
];

const JSON_FORMAT: Partial<Record<FileFormat, string>> = { ndjson: "newline_delimited", json: "auto" };

/**
 * The reader of one format; `columns` (JSON only) skips the reader's own sampling.
 * Hive partitioning is off: the landing layout's `snapshot_date=...` folders would
 * otherwise turn into a column the source never sent.
 */
function reader(format: FileFormat, files: string, columns?: readonly Column[]): string {
  switch (format) {
    case "ndjson":
    case "json": {
      // Given columns, each file's keys map to them by name and missing keys read as NULL,
      // which is what union_by_name does, without its per-file schema pass.
      const shape = columns ? `columns = {${columns.map((c) => `${quoteLiteral(c.name)}: ${quoteLiteral(c.type)}`).join(", ")}}` : "union_by_name = true";
      return `read_json(${files}, format = '${JSON_FORMAT[format]}', hive_partitioning = false, ${shape})`;
    }
    case "csv":
      return `read_csv(${files}, header = true, auto_detect = true, union_by_name = true, hive_partitioning = false)`;
    case "parquet":
      return `read_parquet(${files}, union_by_name = true, hive_partitioning = false)`;
  }
}

export async function describe(conn: DuckDBConnection, sql: string, params?: Params): Promise<Column[]> {
  const reader = await conn.runAndReadAll(`DESCRIBE ${sql}`, params);
  return reader.getRowObjectsJS().map((row) => ({ name: String(row.column_name), type: String(row.column_type) }));
}

export async function countRows(conn: DuckDBConnection, relation: string): Promise<number> {
  const reader = await conn.runAndReadAll(`SELECT count(*) AS n FROM ${relation}`);
  return Number(reader.getRowObjectsJS()[0]?.n ?? 0);
}

/** Runs a statement that reports how many rows it wrote (INSERT, CREATE TABLE AS, DELETE) and returns that count. */
export async function rowsWritten(conn: DuckDBConnection, sql: string, params?: Params): Promise<number> {
  const reader = await conn.runAndReadAll(sql, params);
  return Number(reader.getRowObjectsJS()[0]?.Count ?? 0);
}

const isMetadata = (name: string) => METADATA_COLUMNS.some((m) => sameName(m, name));

/** One typed SELECT per format, in the order the formats first appear, joined by column name. */
async function fileScan(conn: DuckDBConnection, more: Connections, files: readonly LocalFile[]): Promise<{ sql: string; params: Params; columns: Column[] } | undefined> {
  const byFormat = new Map<FileFormat, string[]>();
  for (const file of files) byFormat.set(file.format, [...(byFormat.get(file.format) ?? []), file.path]);
  if (byFormat.size === 0) return undefined;
  const params: Params = {};
  const selects: string[] = [];
  let columns: Column[] = [];
  for (const [format, paths] of byFormat) {
    const name = `files_${format}`;
    params[name] = listValue(paths);
    if (JSON_FORMAT[format]) {
      columns = await jsonColumns(conn, more, format, paths);
      selects.push(`SELECT * FROM ${reader(format, `$${name}`, columns)}`);
    } else {
      columns = await describe(conn, `SELECT * FROM ${reader(format, `$${name}`)}`, { [name]: params[name] });
      selects.push(`SELECT * FROM ${reader(format, `$${name}`)}`);
    }
  }
  const sql = selects.join(" UNION ALL BY NAME ");
  // Several formats: the union decides the common types.
  if (selects.length > 1) columns = await describe(conn, sql, params);
  return { sql, params, columns };
}

/**
 * Files sampled at once. Each sample holds one JSON read buffer (32 MiB), so two fit
 * beside the load in the default memory_limit, and on two cores they halve the wait.
 */
const SAMPLERS = 2;

/**
 * The columns of JSON files, sampled file by file: sampling them all in one
 * `union_by_name` scan holds a read buffer per file, so memory grew with the number of
 * files. Files of one extract almost always agree; where they do not, DuckDB unifies one
 * file of each distinct shape by name (without reading them: their columns are given).
 */
async function jsonColumns(conn: DuckDBConnection, more: Connections, format: FileFormat, paths: readonly string[]): Promise<Column[]> {
  const sample = (c: DuckDBConnection, file: string) => describe(c, `SELECT * FROM ${reader(format, "$file")}`, { file });
  const found = await mapWithConnections(conn, more, paths, sample);
  const shapes = new Map<string, { path: string; columns: Column[] }>();
  paths.forEach((path, i) => shapes.set(JSON.stringify(found[i]), { path, columns: found[i]! }));
  const distinct = [...shapes.values()];
  if (distinct.length === 1) return distinct[0]!.columns;
  const params: Params = {};
  const union = distinct.map((shape, i) => {
    params[`shape_${i}`] = shape.path;
    return `SELECT * FROM ${reader(format, `$shape_${i}`, shape.columns)}`;
  });
  return describe(conn, union.join(" UNION ALL BY NAME "), params);
}

/** `fn` over `items`, in order, on up to SAMPLERS connections (never more than DuckDB's threads). */
async function mapWithConnections<T, R>(conn: DuckDBConnection, more: Connections, items: readonly T[], fn: (c: DuckDBConnection, item: T) => Promise<R>): Promise<R[]> {
  const threads = Number((await conn.runAndReadAll("SELECT current_setting('threads') AS n")).getRowObjectsJS()[0]?.n ?? 1);
  const width = Math.max(1, Math.min(SAMPLERS, threads, items.length));
  const connections = [conn];
  while (connections.length < width) connections.push(await more.open());
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    connections.map(async (c) => {
      for (let i = next++; i < items.length; i = next++) results[i] = await fn(c, items[i]!);
    }),
  );
  return results;
}

export interface IncomingOptions {
  /** Merge keys: checked against the files' columns. */
  readonly keys: readonly string[];
  readonly log: Logger;
  /** Where files are sampled side by side. */
  readonly more: Connections;
}

export async function incoming(conn: DuckDBConnection, files: readonly LocalFile[], meta: Metadata, options: IncomingOptions): Promise<Incoming> {
  const scan = await fileScan(conn, options.more, files);
  const found = scan?.columns ?? [];

  // Files exported from another xo-foundry table carry our metadata columns; this
  // load's values win so that append and merge keep meaning what they say.
  const replaced = found.filter((c) => isMetadata(c.name));
  if (replaced.length > 0) {
    options.log.warn("incoming metadata columns are overwritten by this load", { columns: replaced.map((c) => c.name) });
  }
  const data = found.filter((c) => !isMetadata(c.name));
  if (scan) checkKeys(options.keys, data);

  const select = [
    ...data.map((c) => `src.${quoteIdent(c.name)}`),
    `CAST($partition AS VARCHAR) AS ${quoteIdent("_xo_partition")}`,
    `CAST($logical_date AS DATE) AS ${quoteIdent("_xo_logical_date")}`,
    `CAST($run_id AS VARCHAR) AS ${quoteIdent("_xo_run_id")}`,
    `CAST($loaded_at AS TIMESTAMP) AS ${quoteIdent("_xo_loaded_at")}`,
  ];
  const from = scan ? `(${scan.sql}) AS src` : "(SELECT 1) AS src WHERE false";
  return {
    sql: `SELECT ${select.join(", ")} FROM ${from}`,
    params: {
      ...scan?.params,
      partition: meta.partition,
      logical_date: meta.logicalDate,
      run_id: meta.runId,
      // Naive UTC: DuckDB's TIMESTAMP has no zone, and UTC is the only unambiguous choice.
      loaded_at: meta.loadedAt.toISOString().replace("T", " ").replace("Z", ""),
    },
    columns: [...data, ...METADATA_TYPES],
    hasFiles: scan !== undefined,
  };
}

function checkKeys(keys: readonly string[], columns: readonly Column[]): void {
  const missing = keys.filter((k) => !columns.some((c) => sameName(c.name, k)));
  if (missing.length === 0) return;
  throw new DuckDbSinkError(
    "XO_DUCKDB_KEY_NOT_FOUND",
    `merge key ${missing.map((k) => JSON.stringify(k)).join(", ")} is not a column of the landed files`,
    `the files have the columns ${columns.map((c) => JSON.stringify(c.name)).join(", ") || "(none)"}; fix \`keys\` in the stream's target block`,
  );
}
