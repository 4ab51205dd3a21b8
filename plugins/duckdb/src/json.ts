/**
 * DuckDB values as JSON, for rows that travel through step summaries and XCom.
 *
 * Built on the node-api's own `JsonDuckDBValueConverter` (what `getRowObjectsJson()`
 * uses), which already turns every type into JSON, with four changes where its
 * choice is awkward for the people who read the rows:
 *
 * - BIGINT, HUGEINT and the unsigned kinds: a number when it is a safe integer, else a
 *   string with every digit. (The node-api always gives a string, so `count(*)` would
 *   read "3"; `getRowObjectsJS()` gives a bigint, which JSON cannot hold.)
 * - DECIMAL: a number when it has at most 15 significant digits, which a double holds
 *   exactly, else a string with every digit (so money never silently rounds).
 * - TIMESTAMP (no time zone): ISO 8601 local time, `2024-01-02T03:04:05.123456`, with
 *   DuckDB's microseconds; no offset, since the type has none. (`getRowObjectsJS()`
 *   gives a Date, which drops the microseconds and throws on `infinity`.)
 * - TIMESTAMPTZ: ISO 8601 in UTC, `2024-01-02T01:04:05Z`, whatever the session time zone.
 *
 * DATE (`2024-01-02`) and TIME (`03:04:05`) are already ISO 8601. Special values
 * (`infinity`, NaN) stay the strings DuckDB prints. Nested lists, structs and maps go
 * through the same rules.
 */
import {
  DuckDBDecimalValue,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  DuckDBTypeId,
  JsonDuckDBValueConverter,
  type DuckDBValueConverter,
  type Json,
} from "@duckdb/node-api";
import type { JsonValue } from "@xo-foundry/core";

const EXACT_DECIMAL_LIMIT = 10n ** 15n;

const BIG_INTEGERS: ReadonlySet<DuckDBTypeId> = new Set([
  DuckDBTypeId.BIGINT,
  DuckDBTypeId.UBIGINT,
  DuckDBTypeId.HUGEINT,
  DuckDBTypeId.UHUGEINT,
  DuckDBTypeId.BIGNUM,
]);

const NAIVE_TIMESTAMPS: ReadonlySet<DuckDBTypeId> = new Set([
  DuckDBTypeId.TIMESTAMP,
  DuckDBTypeId.TIMESTAMP_S,
  DuckDBTypeId.TIMESTAMP_MS,
  DuckDBTypeId.TIMESTAMP_NS,
]);

export const jsonValue: DuckDBValueConverter<JsonValue> = (value, type, converter) => {
  if (value === null) return null;
  if (BIG_INTEGERS.has(type.typeId) && typeof value === "bigint") {
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString();
  }
  if (type.typeId === DuckDBTypeId.DECIMAL && value instanceof DuckDBDecimalValue) {
    const digits = value.value < 0n ? -value.value : value.value;
    const text = value.toString();
    return digits < EXACT_DECIMAL_LIMIT ? Number(text) : text;
  }
  if (NAIVE_TIMESTAMPS.has(type.typeId)) return isoDateTime(String(value), "");
  if (type.typeId === DuckDBTypeId.TIMESTAMP_TZ && value instanceof DuckDBTimestampTZValue) {
    // Printed as the naive timestamp of the same instant, i.e. in UTC.
    return isoDateTime(new DuckDBTimestampValue(value.micros).toString(), "Z");
  }
  // Nested values come back through `converter`, i.e. through this function.
  return JsonDuckDBValueConverter(value, type, converter as DuckDBValueConverter<Json>) as JsonValue;
};

/** `2024-01-02 03:04:05.5` -> `2024-01-02T03:04:05.5` + zone; `infinity` and BC dates stay as DuckDB prints them. */
function isoDateTime(text: string, zone: string): string {
  return /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?$/.test(text) ? `${text.replace(" ", "T")}${zone}` : text;
}
