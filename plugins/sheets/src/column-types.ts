/**
 * Column types. Values arrive unformatted (valueRenderOption UNFORMATTED_VALUE, dates as
 * serial numbers), so a cell is a number, a string or a boolean, and only its number format
 * says whether a number is a date, a time, a percentage or money. The formats come from a
 * sample of rows (`sample_rows`); the kinds of value from every row, so a column is typed
 * only after all of it has been seen:
 *
 * - only booleans: `boolean`; only text: `string`; no values at all: `string` (all null);
 * - only numbers: by their formats: `date`, `datetime` (dates and date-times together are
 *   date-times), `time` (durations of a day or more make it `string`), `percent`,
 *   `currency`, else `integer` when every number is whole, else `number`;
 * - anything mixed (numbers and text, dates and plain numbers, ...): `string`, with a warning.
 *
 * Values then come out clean for the warehouse's own inference: numbers as JSON numbers
 * (a percentage as its fraction, 25% is 0.25), dates as `YYYY-MM-DD`, date-times as UTC
 * instants `YYYY-MM-DDTHH:mm:ss.sssZ`, times as `HH:mm:ss`, blanks as null. Formula errors
 * (`#N/A`, `#DIV/0!`, ...) are null in every type and counted in a warning. A type given in
 * `columns:` is used as is; values that do not fit it become null and are counted too.
 */
import { serialToDate, serialToInstant, serialToTime, type DateTimeZone } from "./serial.js";
import { zonedToUtc } from "@xo-foundry/core";

export const COLUMN_TYPES = ["integer", "number", "percent", "currency", "boolean", "date", "datetime", "time", "string"] as const;
export type ColumnType = (typeof COLUMN_TYPES)[number];

/** What a number format says a number is. */
export type FormatKind = "date" | "datetime" | "time" | "percent" | "currency" | "number";

const TEMPORAL: ReadonlySet<FormatKind> = new Set(["date", "datetime", "time"]);

/** How Sheets shows formula errors; with UNFORMATTED_VALUE the values API returns these texts. */
export const FORMULA_ERRORS: ReadonlySet<string> = new Set(["#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#ERROR!"]);

/** A NumberFormat (`effectiveFormat.numberFormat`) as a kind; undefined for text and the default format. */
export function formatKind(format: { type?: string | null; pattern?: string | null } | undefined | null): FormatKind | undefined {
  const pattern = unquoted(format?.pattern ?? "");
  switch (format?.type) {
    case "DATE":
      // A custom date pattern with hours or seconds shows a date-time.
      return /[hs]/i.test(pattern) ? "datetime" : "date";
    case "DATE_TIME":
      return "datetime";
    case "TIME":
      return "time";
    case "PERCENT":
      return "percent";
    case "CURRENCY":
      return "currency";
    case "NUMBER":
    case "SCIENTIFIC":
      // A custom pattern with a currency sign (`"$"#,##0.00`, `[$€]#,##0`) is money, whatever its type says.
      return /\p{Sc}|\[\$/u.test(format.pattern ?? "") ? "currency" : "number";
    default:
      return undefined;
  }
}

/** A pattern without its quoted literals, so `"Shipped" d-mmm` is not read as holding an `h`. */
function unquoted(pattern: string): string {
  return pattern.replace(/"[^"]*"|\\./g, "");
}

/** What one column holds, collected row by row without keeping the values. */
export class ColumnProfile {
  numbers = 0;
  wholeNumbers = 0;
  /** Numbers outside [0, 1): not a time of day. */
  beyondOneDay = 0;
  strings = 0;
  booleans = 0;
  /** Number formats of the sample's cells that hold numbers, with counts. */
  readonly formats = new Map<FormatKind, number>();
  /** The first text and first number seen, for the warning about a mixed column. */
  firstString: { row: number; value: string } | undefined;
  firstNumberRow: number | undefined;

  add(value: unknown, row: number): void {
    if (typeof value === "number") {
      this.numbers++;
      if (Number.isInteger(value)) this.wholeNumbers++;
      if (value < 0 || value >= 1) this.beyondOneDay++;
      this.firstNumberRow ??= row;
    } else if (typeof value === "boolean") {
      this.booleans++;
    } else if (typeof value === "string" && value !== "" && !FORMULA_ERRORS.has(value)) {
      this.strings++;
      this.firstString ??= { row, value };
    }
  }

  addFormat(kind: FormatKind | undefined): void {
    if (kind) this.formats.set(kind, (this.formats.get(kind) ?? 0) + 1);
  }
}

export interface Detected {
  readonly type: ColumnType;
  /** Why a column with values of several kinds became `string`; for a warning. */
  readonly mixed?: string;
}

export function detectType(p: ColumnProfile): Detected {
  const held = [p.numbers > 0 && "numbers", p.strings > 0 && "text", p.booleans > 0 && "booleans"].filter((k): k is string => k !== false);
  if (held.length === 0) return { type: "string" };
  if (held.length > 1) {
    const example = p.firstString ? ` (text such as ${JSON.stringify(p.firstString.value.slice(0, 40))} in row ${p.firstString.row})` : "";
    return { type: "string", mixed: `it holds ${held.join(" and ")}${example}` };
  }
  if (p.booleans > 0) return { type: "boolean" };
  if (p.strings > 0) return { type: "string" };
  return detectNumberType(p);
}

function detectNumberType(p: ColumnProfile): Detected {
  const kinds = [...p.formats.keys()];
  const temporal = kinds.filter((k) => TEMPORAL.has(k));
  if (temporal.length > 0) {
    if (temporal.length < kinds.length) return { type: "string", mixed: `its numbers are formatted as ${kinds.join(" and ")}` };
    if (temporal.every((k) => k === "time")) return { type: p.beyondOneDay > 0 ? "string" : "time" };
    if (temporal.includes("time")) return { type: "string", mixed: `its numbers are formatted as ${temporal.join(" and ")}` };
    return { type: temporal.includes("datetime") ? "datetime" : "date" };
  }
  if (kinds.length === 1 && kinds[0] === "percent") return { type: "percent" };
  if (kinds.length === 1 && kinds[0] === "currency") return { type: "currency" };
  return { type: p.wholeNumbers === p.numbers && !kinds.includes("percent") ? "integer" : "number" };
}

/** The temporal kind the sample's formats agree on, for showing numbers of a `string` column. */
export function displayKind(p: ColumnProfile): FormatKind | undefined {
  const kinds = [...p.formats.keys()];
  return kinds.length === 1 && TEMPORAL.has(kinds[0]!) ? kinds[0] : undefined;
}

export type Converted = { readonly value: unknown } | { readonly problem: "formula-error" | "unfit" };

const NUMBER_TEXT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;
const DATE_TEXT = /^\d{4}-\d{2}-\d{2}$/;
const LOCAL_DATETIME_TEXT = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?)$/;
const INSTANT_TEXT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})$/i;
const TIME_TEXT = /^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?$/;

/**
 * Turns one unformatted cell into the column's type. `display` is how numbers of a `string`
 * column are shown (a date column with a few notes in it keeps ISO dates, not serials).
 */
export function convertCell(value: unknown, type: ColumnType, zone: DateTimeZone, display?: FormatKind): Converted {
  if (value === undefined || value === null || value === "") return { value: null };
  if (typeof value === "string" && FORMULA_ERRORS.has(value)) return { problem: "formula-error" };
  const fit = (v: unknown): Converted => (v === undefined ? { problem: "unfit" } : { value: v });
  switch (type) {
    case "integer": {
      const n = asNumber(value);
      return fit(n !== undefined && Number.isSafeInteger(n) ? n : undefined);
    }
    case "number":
    case "currency":
      return fit(asNumber(value));
    case "percent":
      return fit(typeof value === "string" && value.trim().endsWith("%") ? divide(asNumber(value.trim().slice(0, -1)), 100) : asNumber(value));
    case "boolean":
      return fit(asBoolean(value));
    case "date":
      return fit(typeof value === "number" ? serialToDate(value) : typeof value === "string" && DATE_TEXT.test(value) && isRealDate(value) ? value : undefined);
    case "datetime":
      return fit(typeof value === "number" ? serialToInstant(value, zone) : typeof value === "string" ? textToInstant(value, zone) : undefined);
    case "time":
      return fit(typeof value === "number" ? (value >= 0 && value < 1 ? serialToTime(value) : undefined) : typeof value === "string" ? textToTime(value) : undefined);
    case "string":
      return { value: asText(value, zone, display) };
  }
}

function asNumber(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? value : undefined;
  if (typeof value === "string" && NUMBER_TEXT.test(value.trim())) return Number(value.trim());
  return undefined;
}

function divide(n: number | undefined, by: number): number | undefined {
  return n === undefined ? undefined : n / by;
}

function asBoolean(value: unknown): boolean | undefined {
  if (typeof value === "boolean") return value;
  if (value === 1 || value === 0) return value === 1;
  if (typeof value === "string") {
    const text = value.trim().toLowerCase();
    if (text === "true") return true;
    if (text === "false") return false;
  }
  return undefined;
}

function isRealDate(text: string): boolean {
  const ms = Date.parse(`${text}T00:00:00Z`);
  return !Number.isNaN(ms) && new Date(ms).toISOString().startsWith(text);
}

function textToInstant(text: string, zone: DateTimeZone): string | undefined {
  const trimmed = text.trim();
  if (INSTANT_TEXT.test(trimmed)) {
    const ms = Date.parse(trimmed);
    return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
  }
  const local = LOCAL_DATETIME_TEXT.exec(trimmed);
  if (!local || !isRealDate(local[1]!)) return undefined;
  const clock = local[2]!.length === 5 ? `${local[2]}:00` : local[2]!;
  const wall = `${local[1]}T${clock}`;
  try {
    const ms = zone.offsetMs !== undefined ? Date.parse(`${wall}Z`) - zone.offsetMs : zonedToUtc(wall, zone.id);
    return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
  } catch {
    return undefined;
  }
}

function textToTime(text: string): string | undefined {
  const match = TIME_TEXT.exec(text.trim());
  if (!match) return undefined;
  const [h, m, s] = [Number(match[1]), Number(match[2]), Number(match[3] ?? 0)];
  if (h > 23 || m > 59 || s > 59) return undefined;
  const pad = (n: number) => String(n).padStart(2, "0");
  const fraction = match[4] ? `.${match[4].padEnd(3, "0")}` : "";
  return `${pad(h)}:${pad(m)}:${pad(s)}${fraction}`;
}

function asText(value: unknown, zone: DateTimeZone, display: FormatKind | undefined): string {
  if (typeof value === "string") return value;
  // Sheets shows booleans in capitals.
  if (typeof value === "boolean") return value ? "TRUE" : "FALSE";
  if (typeof value === "number") {
    const shown = display === "date" ? serialToDate(value) : display === "datetime" ? serialToInstant(value, zone) : display === "time" ? serialToTime(value) : undefined;
    return shown ?? String(value);
  }
  return JSON.stringify(value) ?? "";
}
