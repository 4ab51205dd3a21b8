/**
 * Failures a user can cause or fix. Each carries a stable code so the core catalog
 * can adopt it later; until then the message itself says what to do.
 */

export type DuckDbErrorCode =
  | "XO_DUCKDB_LOCKED"
  | "XO_DUCKDB_OPEN_FAILED"
  | "XO_DUCKDB_MERGE_KEYS_MISSING"
  | "XO_DUCKDB_KEY_NOT_FOUND"
  | "XO_DUCKDB_TABLE_MISSING"
  | "XO_DUCKDB_INVALID_OPTIONS";

export class DuckDbSinkError extends Error {
  readonly code: DuckDbErrorCode;
  readonly hint: string;

  constructor(code: DuckDbErrorCode, message: string, hint: string, options?: { cause?: unknown }) {
    super(`${message}\n  hint: ${hint}`, options);
    this.name = "DuckDbSinkError";
    this.code = code;
    this.hint = hint;
  }
}
