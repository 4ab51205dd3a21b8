/**
 * `exportQuery`: a query's result as `part-00000.<ext>`, `part-00001.<ext>`, ... in the
 * query's row order, each part at most about `maxFileBytes`, with its row count.
 *
 * DuckDB writes the whole result to one file first, with `COPY`, which keeps the query's
 * order (`preserve_insertion_order`) and is byte-for-byte the same for the same rows. A
 * file over the limit is then cut: CSV and NDJSON at record boundaries (split.ts: every
 * part but a single oversized record stays under the limit, and the parts are the file's
 * bytes), Parquet into as many equal row windows as the size needs, each copied out of
 * the first file with `LIMIT/OFFSET` (Parquet cannot be cut by bytes; a part is about
 * size / parts, a little more when smaller files compress worse). Cutting Parquet
 * re-reads the file once: 3 million rows took 3.6 s to write and 1.4 s to cut in six.
 *
 * Not `COPY ... (FILE_SIZE_BYTES ...)`: measured on DuckDB 1.5.6 with 4 threads and 300 000
 * ordered rows, its CSV and JSON parts hold interleaved slices of the result (the first CSV
 * part held 40 960 rows from all over the order, not its first rows), and its Parquet parts
 * change at row groups only (2 to 3 times the asked-for 500 kB) and end with an empty file.
 *
 * Everything is written in a hidden folder inside `dir` (same file system), and the parts
 * are renamed into place once all of them are complete: no half file ever carries a final
 * name. Parts of an earlier export to `dir` beyond the new count are removed, so `dir`
 * holds exactly this export. A query that returns no row writes no file at all.
 */
import { mkdir, mkdtemp, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import type { DuckDBConnection } from "@duckdb/node-api";
import { exportPartName, removeExportParts } from "@xo-foundry/core";
import { DuckDbSinkError } from "./errors.js";
import { splitRecords } from "./split.js";
import { quoteLiteral } from "./sql.js";
import { bindParams, prepareOne, requireQuery, withoutTrailingSemicolons, type Params } from "./statements.js";

export type ExportFormat = "ndjson" | "csv" | "parquet";

/** DuckDB's own writers; `FORMAT json` writes one object per line. */
const FORMATS: { readonly [F in ExportFormat]: { readonly extension: string; readonly options: string } } = {
  ndjson: { extension: ".ndjson", options: "FORMAT json" },
  csv: { extension: ".csv", options: "FORMAT csv, HEADER true" },
  parquet: { extension: ".parquet", options: "FORMAT parquet" },
};

export interface ExportRequest {
  readonly sql: string;
  readonly params: Params;
  /** Absolute. */
  readonly folder: string;
  readonly format: ExportFormat;
  readonly maxFileBytes: number | undefined;
  readonly signal: AbortSignal;
}

export interface ExportedFile {
  readonly path: string;
  readonly rows: number;
}

/** Runs `fn` on a connection to the sink's database, in the sink's schema. */
export type WithDatabase = <T>(fn: (conn: DuckDBConnection) => Promise<T>) => Promise<T>;

export async function exportToFolder(request: ExportRequest, withDatabase: WithDatabase): Promise<ExportedFile[]> {
  const { folder, format, maxFileBytes } = request;
  checkMaxFileBytes(maxFileBytes);
  const { extension } = FORMATS[format];
  await mkdir(folder, { recursive: true });
  // Starts with a dot: a reader listing `dir` (or the landing zone) skips it.
  const work = await mkdtemp(path.join(folder, ".xo-export-"));
  try {
    const whole = path.join(work, `whole${extension}`);
    const tooBig = (bytes: number) => maxFileBytes !== undefined && bytes > maxFileBytes;
    // The database is released before CSV and NDJSON are cut: cutting needs only the file.
    const copied = await withDatabase(async (conn) => {
      const rows = await copyQuery(conn, request, whole);
      const bytes = (await stat(whole)).size;
      if (rows === 0 || format !== "parquet" || !tooBig(bytes)) return { rows, bytes, parts: [{ path: whole, rows }] };
      return { rows, bytes, parts: await cutParquet(conn, whole, rows, Math.ceil(bytes / maxFileBytes!), work) };
    });
    if (copied.rows === 0) {
      await removeExportParts(folder, extension, 0);
      return [];
    }
    const parts =
      format !== "parquet" && tooBig(copied.bytes)
        ? await splitRecords(whole, { csv: format === "csv", maxBytes: maxFileBytes!, partPath: (i) => path.join(work, exportPartName(i, extension)), signal: request.signal }).catch(
            (error: unknown) => {
              // The stream's own AbortError says less than the reason the task was cancelled.
              throw request.signal.aborted ? request.signal.reason : error;
            },
          )
        : copied.parts;
    request.signal.throwIfAborted();
    const rows = parts.reduce((n, p) => n + p.rows, 0);
    if (rows !== copied.rows) throw new Error(`exportQuery cut ${copied.rows} rows into parts holding ${rows}; this is a bug in @xo-foundry/plugin-duckdb`);

    const files = parts.map((part, i) => ({ from: part.path, path: path.join(folder, exportPartName(i, extension)), rows: part.rows }));
    for (const file of files) await rename(file.from, file.path);
    await removeExportParts(folder, extension, files.length);
    return files.map(({ path, rows }) => ({ path, rows }));
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** `COPY (query) TO file`, with the query's parameters; returns the rows DuckDB wrote. */
async function copyQuery(conn: DuckDBConnection, request: ExportRequest, file: string): Promise<number> {
  const query = await prepareOne(conn, request.sql, "exportQuery");
  requireQuery(query, request.sql, "exportQuery");
  bindParams(query, request.params);
  // Parts are cut in the order COPY wrote the rows; that is the query's order only while
  // insertion order is kept (DuckDB's default, which the loads turn off on their connections).
  await conn.run("SET preserve_insertion_order = true");
  // The query was parsed above as exactly one statement, so wrapping it cannot change what
  // runs. Newlines end a trailing line comment before the parenthesis.
  const copy = await conn.prepare(`COPY (\n${withoutTrailingSemicolons(request.sql)}\n) TO ${quoteLiteral(file)} (${FORMATS[request.format].options})`);
  bindParams(copy, request.params);
  const reader = await copy.runAndReadAll();
  return Number(reader.getRowObjectsJS()[0]?.Count ?? 0);
}

/** `count` row windows of the Parquet file `whole`, each copied to a part of its own. */
async function cutParquet(conn: DuckDBConnection, whole: string, rows: number, count: number, work: string): Promise<ExportedFile[]> {
  const perPart = Math.ceil(rows / Math.min(count, rows));
  const parts: ExportedFile[] = [];
  for (let offset = 0; offset < rows; offset += perPart) {
    const part = path.join(work, exportPartName(parts.length, FORMATS.parquet.extension));
    const reader = await conn.runAndReadAll(
      `COPY (SELECT * FROM read_parquet(${quoteLiteral(whole)}) LIMIT ${perPart} OFFSET ${offset}) TO ${quoteLiteral(part)} (${FORMATS.parquet.options})`,
    );
    parts.push({ path: part, rows: Number(reader.getRowObjectsJS()[0]?.Count ?? 0) });
  }
  return parts;
}


function checkMaxFileBytes(maxFileBytes: number | undefined): void {
  if (maxFileBytes === undefined || (Number.isFinite(maxFileBytes) && maxFileBytes > 0)) return;
  throw new DuckDbSinkError(
    "XO_DUCKDB_INVALID_OPTIONS",
    `exportQuery got maxFileBytes ${String(maxFileBytes)}, not a positive number of bytes`,
    "pass a size in bytes greater than 0, or leave maxFileBytes out for one file",
  );
}
