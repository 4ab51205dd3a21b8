/**
 * Column types as the families a `schema` check compares (core's COLUMN_TYPES), from the
 * type names DuckDB (`DESCRIBE`, information_schema) and Snowflake (INFORMATION_SCHEMA, as
 * its sink's `describe` spells them: `NUMBER(38,0)`, `VARCHAR(16777216)`) report.
 */
import type { ColumnType } from "@xo-foundry/core";

/** A family, or `other` for types no family covers (TIME, INTERVAL, BLOB, BINARY, GEOGRAPHY). */
export type ColumnFamily = Exclude<ColumnType, "any"> | "other";

const STRING = /^(VARCHAR|TEXT|STRING|CHAR|CHARACTER|NVARCHAR|NCHAR|BPCHAR|UUID|ENUM)\b/;
const INTEGER = /^(TINYINT|SMALLINT|INTEGER|INT|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|INT1|INT2|INT4|INT8|LONG|SHORT|SIGNED|BYTEINT|BIGNUM|VARINT)$/;
const FLOATING = /^(FLOAT|FLOAT4|FLOAT8|DOUBLE|DOUBLE PRECISION|REAL)$/;
const TIMESTAMP = /^(TIMESTAMP|DATETIME)(\b|_)|^TIMESTAMPTZ$/;
const NESTED = /^(JSON|VARIANT|OBJECT|ARRAY|STRUCT|MAP|UNION|LIST)\b|\[\d*\]$/;

export function familyOf(type: string): ColumnFamily {
  const t = type.trim().toUpperCase();
  if (NESTED.test(t)) return "json";
  if (STRING.test(t)) return "string";
  if (INTEGER.test(t)) return "integer";
  if (FLOATING.test(t)) return "number";
  // DECIMAL(p, s) and NUMBER(p, s): whole numbers when the scale is 0. A bare NUMBER is
  // Snowflake's NUMBER(38,0); a bare DECIMAL is DuckDB's DECIMAL(18,3).
  const decimal = /^(DECIMAL|NUMERIC|NUMBER)\s*(\(\s*\d+\s*(?:,\s*(\d+)\s*)?\))?$/.exec(t);
  if (decimal) {
    if (decimal[2] !== undefined) return Number(decimal[3] ?? 0) === 0 ? "integer" : "number";
    return decimal[1] === "NUMBER" ? "integer" : "number";
  }
  if (t === "BOOLEAN" || t === "BOOL" || t === "LOGICAL") return "boolean";
  if (t === "DATE") return "date";
  if (TIMESTAMP.test(t)) return "timestamp";
  return "other";
}

/** Whether a column of `found` family satisfies an expected type: `any` takes all, `number` takes whole numbers too. */
export function satisfies(expected: ColumnType, found: ColumnFamily): boolean {
  if (expected === "any") return true;
  if (expected === "number") return found === "number" || found === "integer";
  return expected === found;
}
