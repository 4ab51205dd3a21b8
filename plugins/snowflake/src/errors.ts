/**
 * Failures a user can cause or fix. Each carries a stable code so the core catalog
 * can adopt it later; until then the message itself says what to do.
 */
import { PluginError } from "@xo-foundry/core";

export type SnowflakeErrorCode =
  | "XO_SNOWFLAKE_INVALID_OPTIONS"
  | "XO_SNOWFLAKE_MERGE_KEYS_MISSING"
  | "XO_SNOWFLAKE_DATE_COLUMN_MISSING"
  | "XO_SNOWFLAKE_CONNECTION_INVALID"
  | "XO_SNOWFLAKE_CONNECT_FAILED"
  | "XO_SNOWFLAKE_STATEMENT_FAILED"
  | "XO_SNOWFLAKE_FILES_INVALID";

/** Messages may quote driver text, which may quote connection settings: PluginError masks every registered secret. */
export class SnowflakeSinkError extends PluginError<SnowflakeErrorCode> {
  override readonly name = "SnowflakeSinkError";
}
