/**
 * Reads every landed file into one temporary staging table with DuckDB's bulk
 * readers, adds the metadata columns, and (for merge) keeps one row per key.
 * The modes then only move rows from the staging table into the target.
 */
import { listValue, type DuckDBConnection, type DuckDBValue } from "@duckdb/node-api";
import type { FileFormat, Logger } from "@xo-foundry/core";
import { DuckDbSinkError } from "./errors.js";
import type { LocalFile } from "./files.js";
import { quoteIdent, sameName } from "./sql.js";

export const STAGE = quoteIdent("_xo_stage");

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

export interface Staged {
  readonly columns: readonly Column[];
  readonly rows: number;
}

type Params = Record<string, DuckDBValue>;

const READERS: { readonly [F in FileFormat]: (files: string) => string } = {
  ndjson: (files) => `read_ndjson(${files}, union_by_name = true)`,
  json: (files) => `read_json_auto(${files}, union_by_name = true)`,
  csv: (files) => `read_csv(${files}, header = true, auto_detect = true, union_by_name = true)`,
  parquet: (files) => `read_parquet(${files}, union_by_name = true)`,
};

/** One SELECT per format, in the order the formats first appear, joined by column name. */
function sourceQuery(files: readonly LocalFile[]): { sql: string; params: Params } | undefined {
  const byFormat = new Map<FileFormat, string[]>();
  for (const file of files) byFormat.set(file.format, [...(byFormat.get(file.format) ?? []), file.path]);
  if (byFormat.size === 0) return undefined;
  const params: Params = {};
  const selects = [...byFormat].map(([format, paths]) => {
    params[`files_${format}`] = listValue(paths);
    return `SELECT * FROM ${READERS[format](`$files_${format}`)}`;
  });
  return { sql: selects.join(" UNION ALL BY NAME "), params };
}

export async function describe(conn: DuckDBConnection, sql: string, params?: Params): Promise<Column[]> {
  const reader = await conn.runAndReadAll(`DESCRIBE ${sql}`, params);
  return reader.getRowObjectsJS().map((row) => ({ name: String(row.column_name), type: String(row.column_type) }));
}

export async function countRows(conn: DuckDBConnection, relation: string): Promise<number> {
  const reader = await conn.runAndReadAll(`SELECT count(*) AS n FROM ${relation}`);
  return Number(reader.getRowObjectsJS()[0]?.n ?? 0);
}

const isMetadata = (name: string) => METADATA_COLUMNS.some((m) => sameName(m, name));

export interface StageOptions {
  /** Merge keys; when given, incoming rows are reduced to the last row per key. */
  readonly keys: readonly string[];
  readonly log: Logger;
}

export async function stageFiles(conn: DuckDBConnection, files: readonly LocalFile[], meta: Metadata, options: StageOptions): Promise<Staged> {
  const source = sourceQuery(files);
  const incoming = source ? await describe(conn, source.sql, source.params) : [];

  // Files exported from another xo-foundry table carry our metadata columns; this
  // load's values win so that append and merge keep meaning what they say.
  const replaced = incoming.filter((c) => isMetadata(c.name));
  if (replaced.length > 0) {
    options.log.warn("incoming metadata columns are overwritten by this load", { columns: replaced.map((c) => c.name) });
  }
  const dataColumns = incoming.filter((c) => !isMetadata(c.name));
  if (source) checkKeys(options.keys, dataColumns);

  const select = [
    ...dataColumns.map((c) => `src.${quoteIdent(c.name)}`),
    `CAST($partition AS VARCHAR) AS ${quoteIdent("_xo_partition")}`,
    `CAST($logical_date AS DATE) AS ${quoteIdent("_xo_logical_date")}`,
    `CAST($run_id AS VARCHAR) AS ${quoteIdent("_xo_run_id")}`,
    `CAST($loaded_at AS TIMESTAMP) AS ${quoteIdent("_xo_loaded_at")}`,
  ];
  const from = source ? `(${source.sql}) AS src` : "(SELECT 1) AS src WHERE false";
  await conn.run(`CREATE OR REPLACE TEMP TABLE ${STAGE} AS SELECT ${select.join(", ")} FROM ${from}`, {
    ...source?.params,
    partition: meta.partition,
    logical_date: meta.logicalDate,
    run_id: meta.runId,
    // Naive UTC: DuckDB's TIMESTAMP has no zone, and UTC is the only unambiguous choice.
    loaded_at: meta.loadedAt.toISOString().replace("T", " ").replace("Z", ""),
  });

  if (source && options.keys.length > 0) {
    // The staging table keeps the read order (files in manifest order, rows in file
    // order), so the highest rowid of a key is its last occurrence.
    const keys = options.keys.map(quoteIdent).join(", ");
    await conn.run(`DELETE FROM ${STAGE} WHERE rowid NOT IN (SELECT max(rowid) FROM ${STAGE} GROUP BY ${keys})`);
  }

  return { columns: await describe(conn, STAGE), rows: await countRows(conn, STAGE) };
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
