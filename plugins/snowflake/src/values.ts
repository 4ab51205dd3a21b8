/**
 * Snowflake values as JSON, for rows that steps read (query) and write out (exportQuery).
 * Same rules as the DuckDB warehouse, so a step's output does not depend on the warehouse:
 *
 * - NUMBER with scale 0: a number when it is a safe integer, else a string with every digit.
 *   NUMBER with a scale: a number when it has at most 15 significant digits (a double holds
 *   those exactly), else a string with every digit, so money never silently rounds. The
 *   values come from the driver as Snowflake's own text (fetchAsString: Number), never
 *   through a lossy JavaScript number first.
 * - FLOAT: a number; `inf`, `-inf` and `NaN`, which JSON cannot hold, stay text.
 * - DATE `2024-01-02`; TIME `03:04:05.123` (fraction digits as stored, trailing zeros cut).
 * - TIMESTAMP_NTZ: ISO 8601 without offset, `2024-01-02T03:04:05.123456`, every stored digit
 *   up to nanoseconds. TIMESTAMP_TZ: with its own offset, `2024-01-02T03:04:05+02:00` (`Z` at
 *   offset 0). TIMESTAMP_LTZ: the instant in UTC, `...Z`, whatever the session's time zone.
 *   Built from the driver's epoch seconds and nanoseconds, not its session-formatted text.
 * - VARIANT, OBJECT, ARRAY: the JSON value, parsed from Snowflake's JSON text with JSON.parse
 *   (never the driver's eval fallback); text that is not JSON stays a string.
 * - BINARY: upper-case hex, Snowflake's default BINARY_OUTPUT_FORMAT.
 * - BOOLEAN, TEXT: as they are. NULL: null.
 */
import type { JsonValue } from "@xo-foundry/core";

const EXACT_DIGITS = 15;

export interface ColumnInfo {
  readonly name: string;
  /** snowflake-sdk's rowtype name: fixed, real, text, date, time, timestamp_ntz, variant, ... */
  readonly type: string;
  readonly scale: number;
}

/** What snowflake-sdk gives for DATE and TIMESTAMP_* values: a Date with Snowflake's parts. */
interface SfDate {
  getEpochSeconds(): number;
  getNanoSeconds(): number;
  getTimezone(): unknown;
}

export function jsonValue(value: unknown, column: ColumnInfo): JsonValue {
  if (value === null || value === undefined) return null;
  switch (column.type) {
    case "fixed":
      return fixed(String(value), column.scale);
    case "real":
      return real(String(value));
    case "date":
      return isSfDate(value) ? isoDateTime(value.getEpochSeconds(), 0, 0).slice(0, 10) : String(value);
    case "time":
      return typeof value === "string" ? value.replace(/\.(\d*?)0+$/, (_, kept: string) => (kept ? `.${kept}` : "")) : String(value);
    case "timestamp_ntz":
      return isSfDate(value) ? isoDateTime(value.getEpochSeconds(), value.getNanoSeconds(), 0) : String(value);
    case "timestamp_ltz":
      return isSfDate(value) ? `${isoDateTime(value.getEpochSeconds(), value.getNanoSeconds(), 0)}Z` : String(value);
    case "timestamp_tz": {
      if (!isSfDate(value)) return String(value);
      const zone = value.getTimezone();
      const offset = typeof zone === "number" ? zone : 0;
      return `${isoDateTime(value.getEpochSeconds(), value.getNanoSeconds(), offset)}${offsetText(offset)}`;
    }
    case "variant":
    case "object":
    case "array":
    case "map":
      return typeof value === "string" ? parseJson(value) : toJson(value);
    case "binary":
      return Buffer.isBuffer(value) ? value.toString("hex").toUpperCase() : String(value);
    default:
      return toJson(value);
  }
}

function fixed(text: string, scale: number): JsonValue {
  const digits = text.replace(/^-/, "").replace(".", "").replace(/^0+/, "");
  if (scale === 0) {
    const n = Number(text);
    return Number.isSafeInteger(n) ? n : text;
  }
  return digits.length <= EXACT_DIGITS ? Number(text) : text;
}

function real(text: string): JsonValue {
  const n = Number(text);
  return Number.isFinite(n) ? n : text;
}

function isSfDate(value: unknown): value is SfDate {
  return typeof (value as Partial<SfDate>).getEpochSeconds === "function" && typeof (value as Partial<SfDate>).getNanoSeconds === "function";
}

/** `YYYY-MM-DDTHH:MM:SS[.fraction]` of the wall clock `offsetMinutes` from UTC, fraction digits without trailing zeros. */
function isoDateTime(epochSeconds: number, nanoSeconds: number, offsetMinutes: number): string {
  const base = new Date((epochSeconds + offsetMinutes * 60) * 1000).toISOString().slice(0, 19);
  const fraction = String(nanoSeconds).padStart(9, "0").replace(/0+$/, "");
  return fraction ? `${base}.${fraction}` : base;
}

function offsetText(minutes: number): string {
  if (minutes === 0) return "Z";
  const sign = minutes < 0 ? "-" : "+";
  const abs = Math.abs(minutes);
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
}

function parseJson(text: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return text;
  }
}

/** A value of a type not listed above, as JSON: strings, numbers and booleans as they are, anything else as text. */
function toJson(value: unknown): JsonValue {
  if (typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number") return Number.isFinite(value) ? value : String(value);
  if (typeof value === "bigint") return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (Array.isArray(value)) return value.map(toJson);
  if (typeof value === "object" && value !== null && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJson(v)]));
  }
  return String(value as string);
}

/**
 * The row keys for a result's column names: a repeated name gets `_2`, `_3`, ... (the rule of
 * snowflake-sdk's `object_with_renamed_duplicated_columns`), so no column hides another.
 */
export function uniqueNames(names: readonly string[]): string[] {
  const taken = new Set(names);
  const counts = new Map<string, number>();
  return names.map((name) => {
    const seen = counts.get(name);
    if (seen === undefined) {
      counts.set(name, 1);
      return name;
    }
    let times = seen + 1;
    while (taken.has(`${name}_${times}`)) times += 1;
    counts.set(name, times);
    taken.add(`${name}_${times}`);
    return `${name}_${times}`;
  });
}
