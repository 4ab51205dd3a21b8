/**
 * DuckDB values as JSON for check results, written as the warehouses write them, so a
 * sample reads the same before and after the load: counts as numbers (the node-api gives
 * BIGINT as text), DECIMAL as a number when a double holds it exactly, timestamps as ISO
 * 8601 (`2026-01-15T10:00:00`, and in UTC with `Z` when zoned), everything else as the
 * node-api's own JSON converter writes it.
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

const NAIVE_TIMESTAMPS: ReadonlySet<DuckDBTypeId> = new Set([DuckDBTypeId.TIMESTAMP, DuckDBTypeId.TIMESTAMP_S, DuckDBTypeId.TIMESTAMP_MS, DuckDBTypeId.TIMESTAMP_NS]);

export const jsonValue: DuckDBValueConverter<JsonValue> = (value, type, converter) => {
  if (value === null) return null;
  if (typeof value === "bigint") return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString();
  if (value instanceof DuckDBDecimalValue) {
    const digits = value.value < 0n ? -value.value : value.value;
    return digits < EXACT_DECIMAL_LIMIT ? Number(value.toString()) : value.toString();
  }
  if (NAIVE_TIMESTAMPS.has(type.typeId)) return isoDateTime(String(value), "");
  // Printed as the naive timestamp of the same instant, i.e. in UTC.
  if (value instanceof DuckDBTimestampTZValue) return isoDateTime(new DuckDBTimestampValue(value.micros).toString(), "Z");
  // Nested values come back through `converter`, i.e. through this function.
  return JsonDuckDBValueConverter(value, type, converter as DuckDBValueConverter<Json>) as JsonValue;
};

/** `2026-01-15 10:00:00.5` -> `2026-01-15T10:00:00.5` + zone; `infinity` stays as DuckDB prints it. */
function isoDateTime(text: string, zone: string): string {
  return /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?$/.test(text) ? `${text.replace(" ", "T")}${zone}` : text;
}
