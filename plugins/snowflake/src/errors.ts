/**
 * Snowflake failures a user can cause or fix, with stable codes. The plugin declares this
 * catalog as its `errors`, so the core reports the codes as they are and `xo-foundry plugins`
 * explains them. Messages pass core's redactor (PluginError), so a password or key that the
 * driver or the service echoes never reaches a log.
 */
import { PluginError } from "@xo-foundry/core";

/** Every code with what it means and the fix; the codes are the keys, so none exists without its text. */
export const SNOWFLAKE_ERRORS = {
  XO_SNOWFLAKE_INVALID_OPTIONS:
    "The sink block (or a value a step passed to the warehouse, such as maxFileBytes) is not valid, or names no database. The message lists each problem; fix the keys it names.",
  XO_SNOWFLAKE_MERGE_KEYS_MISSING: "A stream loads with mode merge but its target has no `keys`. Add the columns that identify a row (`keys: [id]`), or use mode append or replace.",
  XO_SNOWFLAKE_DATE_COLUMN_MISSING:
    "A stream loads with mode replace_range but its target has no `date_column`. Add the date or timestamp column whose dates in the run's window are replaced, or use another mode.",
  XO_SNOWFLAKE_CONNECTION_INVALID:
    "The connection cannot be used as written: no connection, account, login, or no password or private key, or a private key that cannot be read. The message names the field.",
  XO_SNOWFLAKE_CONNECT_FAILED: "Snowflake refused the login or could not be reached. Check the account, user and credentials of the connection, and that the network reaches Snowflake.",
  XO_SNOWFLAKE_STATEMENT_FAILED:
    "Snowflake rejected a statement (or its result could not be read). The message quotes Snowflake's error code and text and the statement; fix the SQL, the objects it names or the role's privileges.",
  XO_SNOWFLAKE_FILES_INVALID: "The landed files cannot be loaded as they are: mixed formats in one load, two files with one name, or a file outside the external stage's url_prefix.",
  XO_SNOWFLAKE_PARAMS_INVALID:
    "A step's SQL and its parameters do not match: a `$name` without a value, a value no `$name` uses, or a `?` placeholder. Write every parameter as `$name` and pass exactly those names.",
  XO_SNOWFLAKE_SQL_INVALID:
    "A step passed SQL the warehouse call does not take: more than one statement to query() or exportQuery(), a statement that returns no rows to exportQuery(), or BEGIN/COMMIT/ROLLBACK to execute(), which runs its own transaction.",
  XO_SNOWFLAKE_TABLE_NAME_INVALID: "describe() got a name that is not `table`, `schema.table` or `database.schema.table`. Quote a part that holds dots or quotes with double quotes.",
  XO_SNOWFLAKE_EXPORT_FORMAT_UNSUPPORTED:
    "The Snowflake warehouse writes exports as ndjson or csv only. Ask for one of those, or unload Parquet with Snowflake's own COPY INTO @stage (or an external location) from an execute() / sql.run step.",
  XO_SNOWFLAKE_EXPORT_FAILED: "An export's files could not be written to the local directory. Check that the directory is writable and that the disk has room; the message names the path.",
} as const satisfies Readonly<Record<`XO_SNOWFLAKE_${string}`, string>>;

export type SnowflakeErrorCode = keyof typeof SNOWFLAKE_ERRORS;

/** Messages may quote driver text, which may quote connection settings: PluginError masks every registered secret. */
export class SnowflakeSinkError extends PluginError<SnowflakeErrorCode> {
  override readonly name = "SnowflakeSinkError";
}
