/**
 * Failures a user can cause or fix. Each carries a stable code. The plugin declares
 * the catalog below as its `errors`, so the core reports these codes as they are and
 * `xo-foundry plugins` can explain them.
 */
import { PluginError } from "@xo-foundry/core";

/**
 * Every code with what it means and how to fix it. The codes are the keys, so a code
 * cannot exist without its description.
 */
export const DUCKDB_ERRORS = {
  XO_DUCKDB_LOCKED:
    "Another process held the database file for longer than `lock_timeout_ms`. DuckDB allows one writing process per file: close the DuckDB shell, notebook or dbt run that holds it, or raise `lock_timeout_ms` in the sink block.",
  XO_DUCKDB_OPEN_FAILED:
    "The database file could not be opened: it is not a DuckDB file, was written by a newer DuckDB, or its directory is not writable. Fix `database` in the sink block.",
  XO_DUCKDB_MERGE_KEYS_MISSING:
    "A stream's target has `mode: merge` without `keys`. Add the columns that identify a row (`keys: [id]`), or use mode append or replace.",
  XO_DUCKDB_KEY_NOT_FOUND:
    "A merge key is not a column of the landed files. The message lists the files' columns; fix `keys` in the stream's target block.",
  XO_DUCKDB_TABLE_MISSING:
    "The target table does not exist and the target has `create: false`. Create the table first, or remove `create: false`.",
  XO_DUCKDB_OUT_OF_MEMORY:
    "DuckDB needed more memory than the sink's `memory_limit` allows and could not spill the rest to `temp_directory`. Raise `memory_limit` in the sink block (DuckDB's JSON reader alone takes 32 MB per thread), or lower `threads`.",
  XO_DUCKDB_BAD_DATA:
    "DuckDB could not read the landed files or fit their values into the table: a file is not valid JSON, CSV or Parquet, or a value does not convert to its column's type. The load changed nothing. The message quotes DuckDB's error, which names the file or value; re-run the extract, or fix the table's column type.",
  XO_DUCKDB_INVALID_OPTIONS:
    "The sink or target options that reached the plugin are invalid, or a step passed the warehouse's exportQuery a `maxFileBytes` that is not a positive size. Fix the options named in the message.",
  XO_DUCKDB_QUERY_FAILED:
    "DuckDB refused or failed to run a step's SQL (a syntax error, an unknown table or column, a missing `$name` parameter, a value that does not convert). The message quotes DuckDB's own error; fix the SQL or the step's parameters.",
  XO_DUCKDB_TABLE_NAME_INVALID:
    "A table name given to the warehouse is not `table` or `schema.table`. Quote parts that contain dots or quotes the SQL way: `\"my.schema\".\"my table\"`.",
} as const satisfies Readonly<Record<`XO_DUCKDB_${string}`, string>>;

export type DuckDbErrorCode = keyof typeof DUCKDB_ERRORS;

export class DuckDbSinkError extends PluginError<DuckDbErrorCode> {
  override readonly name = "DuckDbSinkError";
}
