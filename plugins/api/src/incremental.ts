/**
 * Incremental reads by a cursor field (an `updated_at`, an increasing id): where the
 * read starts, which records are new, and the cursor to save when the load succeeds.
 *
 * Cursor values keep the API's own spelling (`"2026-01-15T10:00:00Z"`, `1736935200`),
 * so `{cursor}` is sent back exactly as the API wrote it. They are compared by kind:
 * two ISO 8601 date-times as instants, two numbers (or decimal strings) numerically,
 * any other two strings in code-point order. Anything else cannot be ordered and fails
 * the run, because guessing would either skip data or re-read it forever.
 */
import type { JsonObject, Logger } from "@xo-foundry/core";
import type { IncrementalOptions } from "./options.js";
import { getPath, type ApiRecord } from "./records.js";

export type CursorValue = string | number;

/** Error codes of this module, listed in the plugin's `errors` so they reach the user as they are. */
export const CURSOR_ERRORS = {
  API_CURSOR_MISSING: "A record has no usable value in the stream's `incremental.cursor_field`; check the field name against a response of the API.",
  API_CURSOR_INVALID: "A cursor value (saved state, `initial_value` or a record's) cannot be compared or moved back by `lookback`.",
} as const;

export class CursorError extends Error {
  override readonly name = "CursorError";
  constructor(
    readonly code: keyof typeof CURSOR_ERRORS,
    message: string,
  ) {
    super(message);
  }
}

// ---------------------------------------------------------------- reading values

/**
 * ISO 8601 as APIs write it: a date, optionally a time (`T` or a space), optional
 * seconds and fraction, and an offset. A date-time without an offset is read as UTC.
 */
const ISO =
  /^(?<y>\d{4})-(?<mo>\d{2})-(?<d>\d{2})(?:(?<sep>[Tt ])(?<h>\d{2}):(?<mi>\d{2})(?::(?<s>\d{2})(?<frac>[.,]\d{1,9})?)?(?<off>Z|z|[+-]\d{2}(?::?\d{2})?)?)?$/;
const INTEGER = /^-?\d+$/;
const DECIMAL = /^-?\d+(?:\.\d+)?$/;

interface IsoParts {
  readonly y: string;
  readonly mo: string;
  readonly d: string;
  readonly sep?: string;
  readonly h?: string;
  readonly mi?: string;
  readonly s?: string;
  readonly frac?: string;
  readonly off?: string;
}

interface IsoDateTime {
  /** Seconds since the epoch, whole. */
  readonly seconds: number;
  /** The fraction of the second, in nanoseconds: APIs often write microseconds, which a Date would drop. */
  readonly nanos: number;
  readonly offsetSeconds: number;
  /** How it was written, to write a moved cursor the same way. */
  readonly parts: IsoParts;
}

function parseIso(text: string): IsoDateTime | undefined {
  const m = ISO.exec(text)?.groups as IsoParts | undefined;
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = [m.y, m.mo, m.d, m.h ?? "0", m.mi ?? "0", m.s ?? "0"].map(Number) as [number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const probe = new Date(ms);
  // Date.UTC rolls 2026-02-30 over to March; a value that does not round-trip is not a date.
  if (probe.getUTCFullYear() !== y || probe.getUTCMonth() !== mo - 1 || probe.getUTCDate() !== d || probe.getUTCHours() !== h || probe.getUTCMinutes() !== mi || probe.getUTCSeconds() !== s) {
    return undefined;
  }
  const offsetSeconds = offsetOf(m.off);
  return { seconds: ms / 1000 - offsetSeconds, nanos: Number((m.frac ?? "").slice(1).padEnd(9, "0")), offsetSeconds, parts: m };
}

function offsetOf(offset: string | undefined): number {
  if (offset === undefined || offset === "Z" || offset === "z") return 0;
  const digits = offset.slice(1).replace(":", "");
  const seconds = Number(digits.slice(0, 2)) * 3600 + Number(digits.slice(2, 4) || "0") * 60;
  return offset.startsWith("-") ? -seconds : seconds;
}

type Ordered =
  | { readonly kind: "instant"; readonly at: IsoDateTime }
  | { readonly kind: "number"; readonly value: number | bigint }
  | { readonly kind: "string"; readonly value: string };

function ordered(value: CursorValue): Ordered {
  if (typeof value === "number") return { kind: "number", value };
  const at = parseIso(value);
  if (at) return { kind: "instant", at };
  // Ids beyond 2^53 arrive as strings; BigInt keeps them exact.
  if (INTEGER.test(value)) return { kind: "number", value: BigInt(value) };
  if (DECIMAL.test(value)) return { kind: "number", value: Number(value) };
  return { kind: "string", value };
}

const sign = (n: number) => (n < 0 ? -1 : n > 0 ? 1 : 0);

function compareNumbers(a: number | bigint, b: number | bigint): number {
  if (typeof a === "number" && typeof b === "number") return sign(a - b);
  // A bigint and a whole number compare exactly; a fraction only against another number.
  if (typeof a === "bigint" && typeof b === "number") return Number.isInteger(b) ? compareNumbers(a, BigInt(b)) : sign(Number(a) - b);
  if (typeof a === "number" && typeof b === "bigint") return sign(-compareNumbers(b, a));
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Negative, zero or positive as `a` orders before, with or after `b`; undefined when they cannot be ordered. */
export function compareCursors(a: CursorValue, b: CursorValue): number | undefined {
  const x = ordered(a);
  const y = ordered(b);
  if (x.kind === "instant" && y.kind === "instant") return sign(x.at.seconds - y.at.seconds) || sign(x.at.nanos - y.at.nanos);
  if (x.kind === "number" && y.kind === "number") return compareNumbers(x.value, y.value);
  if (typeof a === "string" && typeof b === "string") return a < b ? -1 : a > b ? 1 : 0;
  return undefined;
}

// ---------------------------------------------------------------- lookback

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

/**
 * The cursor moved back by `seconds`, written the way it came: same offset, same
 * precision. A date-only cursor becomes the date the earlier instant falls on, which
 * reads a little more, never less.
 */
export function subtractLookback(cursor: CursorValue, seconds: number): CursorValue | undefined {
  if (seconds === 0) return cursor;
  if (typeof cursor === "number") return cursor - seconds;
  const at = parseIso(cursor);
  if (at) {
    const m = at.parts;
    const local = new Date((at.seconds - seconds + at.offsetSeconds) * 1000);
    const date = `${pad(local.getUTCFullYear(), 4)}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())}`;
    if (m.sep === undefined) return date;
    const secs = local.getUTCSeconds();
    const showSeconds = m.s !== undefined || secs !== 0;
    return `${date}${m.sep}${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}${showSeconds ? `:${pad(secs)}${m.frac ?? ""}` : ""}${m.off ?? ""}`;
  }
  if (INTEGER.test(cursor)) return String(BigInt(cursor) - BigInt(seconds));
  if (DECIMAL.test(cursor)) return String(Number(cursor) - seconds);
  return undefined;
}

// ---------------------------------------------------------------- one run

export interface CursorStart {
  /** The value of `{cursor}`: records before it are dropped. */
  readonly start: CursorValue;
  /** The saved cursor, if any; the new cursor never moves behind it. */
  readonly previous: CursorValue | undefined;
}

/** Where this run starts: the saved cursor minus `lookback`, else `initial_value`. */
export function cursorStart(options: IncrementalOptions, state: JsonObject | undefined, stream: string): CursorStart {
  const saved = state?.cursor;
  if (saved === undefined || saved === null) return { start: options.initial_value, previous: undefined };
  if (typeof saved !== "string" && typeof saved !== "number") {
    throw new CursorError(
      "API_CURSOR_INVALID",
      `the saved state of stream "${stream}" has cursor ${JSON.stringify(saved).slice(0, 80)}, expected a string or number; ` +
        "delete the stream's state to start again from `initial_value`",
    );
  }
  const lookback = options.lookback ?? 0;
  const start = subtractLookback(saved, lookback);
  if (start === undefined) {
    throw new CursorError(
      "API_CURSOR_INVALID",
      `stream "${stream}": \`incremental.lookback\` needs an ISO 8601 date-time or numeric cursor, but the saved cursor is ${JSON.stringify(saved)}; ` +
        "remove `lookback` for this stream",
    );
  }
  return { start, previous: saved };
}

/**
 * Follows one run's records: drops those before the start, checks each has a
 * cursor, and keeps the largest. Records arrive page by page; nothing but the
 * current maximum is held.
 */
export class CursorTracker {
  private max: CursorValue | undefined;
  private last: CursorValue | undefined;
  private ascending = true;
  private seen = 0;
  dropped = 0;

  constructor(
    private readonly options: IncrementalOptions,
    private readonly begin: CursorStart,
    private readonly stream: string,
  ) {
    this.max = begin.previous;
  }

  /** The value of `{cursor}`. */
  get start(): CursorValue {
    return this.begin.start;
  }

  describeStart(): string {
    const { previous, start } = this.begin;
    const from = previous === undefined ? "initial_value" : `saved cursor ${JSON.stringify(previous)}, lookback ${this.options.lookback ?? 0}`;
    return `reading records with \`${this.options.cursor_field}\` >= ${JSON.stringify(start)} (${from})`;
  }

  /** The records of a page that are not older than the start. */
  keep(records: readonly ApiRecord[]): ApiRecord[] {
    const kept: ApiRecord[] = [];
    for (const record of records) {
      const value = this.cursorOf(record);
      this.seen++;
      if (this.compare(value, this.begin.start, "the start cursor") < 0) {
        this.dropped++;
        continue;
      }
      kept.push(record);
      if (this.last !== undefined && this.compare(value, this.last, "the record before it") < 0) this.ascending = false;
      this.last = value;
      if (this.max === undefined || this.compare(value, this.max, "the largest cursor so far") > 0) this.max = value;
    }
    return kept;
  }

  /**
   * The state to save once this run's files are loaded, or undefined when there is
   * nothing to save (no saved cursor and no record). When the read stopped early and
   * records came out of order, unread pages may hold older records than the maximum:
   * the cursor then stays where it was, so they are read next time.
   */
  state(truncated: boolean, log: Logger): JsonObject | undefined {
    let cursor = this.max;
    if (truncated && !this.ascending) {
      cursor = this.begin.previous;
      log.warn(
        `the read stopped at max_pages and the records did not come in ascending \`${this.options.cursor_field}\` order, ` +
          `so the cursor stays at ${JSON.stringify(cursor ?? null)}: advancing it could skip records on the unread pages. ` +
          `Raise \`max_pages\`, or sort the API's results by \`${this.options.cursor_field}\` ascending`,
      );
    }
    return cursor === undefined ? undefined : { cursor };
  }

  private cursorOf(record: ApiRecord): CursorValue {
    const field = this.options.cursor_field;
    const value = getPath(record, field);
    if (typeof value === "string" || (typeof value === "number" && Number.isFinite(value))) return value;
    const where = `record ${this.seen + 1} of stream "${this.stream}"`;
    if (value === undefined) {
      const fields = Object.keys(record).slice(0, 20).map((k) => `\`${k}\``).join(", ");
      throw new CursorError(
        "API_CURSOR_MISSING",
        `${where} has no \`${field}\` (incremental.cursor_field); its fields are ${fields || "none"}. ` +
          "Set `cursor_field` to a field every record has (a dotted path such as `meta.updated_at` reaches into objects)",
      );
    }
    throw new CursorError(
      "API_CURSOR_MISSING",
      `${where} has \`${field}\` (incremental.cursor_field) = ${JSON.stringify(value)?.slice(0, 80)}, expected a string or number; ` +
        "every record needs a cursor value, or the run could not tell which records are new",
    );
  }

  private compare(a: CursorValue, b: CursorValue, what: string): number {
    const order = compareCursors(a, b);
    if (order === undefined) {
      throw new CursorError(
        "API_CURSOR_INVALID",
        `stream "${this.stream}": cannot compare \`${this.options.cursor_field}\` = ${JSON.stringify(a)} with ${what} (${JSON.stringify(b)}); ` +
          "a cursor is either a date-time, a number or a string throughout. Check `initial_value` against the API's values " +
          "(and if `cursor_field` changed, delete the stream's saved state)",
      );
    }
    return order;
  }
}
