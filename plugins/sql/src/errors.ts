/**
 * Failures of the SQL steps a user can cause or fix, with stable codes. The plugin declares
 * this catalog as its `errors`, so the core reports the codes as they are and
 * `xo-foundry plugins` explains them. The warehouse's own failures keep the sink plugin's
 * codes (e.g. `XO_DUCKDB_QUERY_FAILED`).
 */
import { PluginError } from "@xo-foundry/core";

/** Every code with what it means and the fix; the codes are the keys, so none exists without its text. */
export const SQL_ERRORS = {
  XO_SQL_SUMMARY_EMPTY: "The summary query of a `sql.run` step returned no row. Make it return exactly one, e.g. an aggregate such as `count(*)`.",
  XO_SQL_EXPORT_PARAMETER_UNKNOWN:
    "The query of a `sql.export` step uses a `$name` parameter the step does not bind. It binds `$window_start` and `$window_end` (the run's data window, ISO 8601 in UTC) and `$ds` (the logical date, YYYY-MM-DD); write any other value into the query itself.",
  XO_SQL_EXPORT_COLUMN_MISSING:
    "The `watermark.column` of a `sql.export` step is not a column of its query's result. The message lists the columns there are; select the column in the query, or fix `watermark.column`.",
  XO_SQL_EXPORT_WATERMARK_INVALID:
    "The watermark column of a `sql.export` step gave a value that cannot be saved as a watermark and compared again (a list, a struct, a boolean). Use a column that only grows: a timestamp, a date, a number or a sortable string.",
  XO_SQL_EXPORT_STATE_INVALID:
    "The saved state of a `sql.export` step is not what the step writes, or it was saved for another watermark column. It is the file `<landing>/state/<pipeline>/export__<task>.json`: fix its `value`, or delete the file to export from `watermark.initial` again.",
} as const satisfies Readonly<Record<`XO_SQL_${string}`, string>>;

export type SqlErrorCode = keyof typeof SQL_ERRORS;

export class SqlError extends PluginError<SqlErrorCode> {
  override readonly name = "SqlError";
}
