/**
 * Sheets' date-time serial numbers (DateTimeRenderOption SERIAL_NUMBER): the whole part counts
 * days since 1899-12-30, the fraction is the time of day, so 2.5 is 1900-01-01 12:00. The
 * number is a wall-clock reading, not an instant: NOW() and Forms timestamps are written in the
 * spreadsheet's time zone. A date-time therefore becomes an instant only together with a zone
 * (`toInstant`); a date needs none.
 */
import { zonedToUtc } from "@xo-foundry/core";

const DAY_MS = 86_400_000;
/** 1899-12-30T00:00 as epoch milliseconds, so that serial 0 lands there in UTC arithmetic. */
const SERIAL_EPOCH_MS = Date.UTC(1899, 11, 30);
/** Years an ISO date can spell with four digits; serials outside them are not dates. */
// Date.UTC would read the year 1 as 1901; an ISO string means what it says.
const FIRST_MS = Date.parse("0001-01-01T00:00:00Z");
const LAST_MS = Date.parse("+010000-01-01T00:00:00Z");

/**
 * The wall clock a serial names, as milliseconds in UTC arithmetic. Rounded to the millisecond:
 * a time stored as a fraction of a day is rarely exact in binary (10:00:01 is not), and Sheets
 * shows no finer unit.
 */
function wallClockMs(serial: number): number | undefined {
  const ms = SERIAL_EPOCH_MS + Math.round(serial * DAY_MS);
  return ms >= FIRST_MS && ms < LAST_MS ? ms : undefined;
}

/** `YYYY-MM-DD` of the serial's day (a time part is dropped, as a date format shows it). */
export function serialToDate(serial: number): string | undefined {
  const ms = wallClockMs(serial);
  return ms === undefined ? undefined : new Date(ms).toISOString().slice(0, 10);
}

/** `YYYY-MM-DDTHH:mm:ss.sss`, the wall clock without a zone. */
export function serialToLocalDateTime(serial: number): string | undefined {
  const ms = wallClockMs(serial);
  return ms === undefined ? undefined : new Date(ms).toISOString().slice(0, 23);
}

/** `HH:mm:ss` (and `.sss` when there are milliseconds) of a fraction of a day; hours pass 23 for durations. */
export function serialToTime(serial: number): string | undefined {
  if (!Number.isFinite(serial) || serial < 0) return undefined;
  const total = Math.round(serial * DAY_MS);
  const ms = total % 1000;
  const seconds = Math.floor(total / 1000);
  const pad = (n: number) => String(n).padStart(2, "0");
  const clock = `${pad(Math.floor(seconds / 3600))}:${pad(Math.floor(seconds / 60) % 60)}:${pad(seconds % 60)}`;
  return ms === 0 ? clock : `${clock}.${String(ms).padStart(3, "0")}`;
}

/** The serial's wall clock read in `zone`, as an ISO instant in UTC (`...Z`). */
export function serialToInstant(serial: number, zone: DateTimeZone): string | undefined {
  const ms = wallClockMs(serial);
  if (ms === undefined) return undefined;
  if (zone.offsetMs !== undefined) return new Date(ms - zone.offsetMs).toISOString();
  return new Date(zonedToUtc(new Date(ms).toISOString().slice(0, 23), zone.id)).toISOString();
}

/** A zone for reading wall clocks: an IANA id, or a fixed offset (UTC, `GMT-07:00`) that needs no rules. */
export interface DateTimeZone {
  /** As configured or as the spreadsheet reports it. */
  readonly id: string;
  /** Set for fixed offsets: milliseconds east of UTC. */
  readonly offsetMs?: number;
}

const FIXED = /^(?:UTC|GMT|Etc\/UTC|Etc\/GMT|Z)$/i;
/** Sheets reports custom zones as `GMT-07:00`; the API reference says so for SpreadsheetProperties.timeZone. */
const GMT_OFFSET = /^(?:GMT|UTC)([+-])(\d{1,2})(?::?(\d{2}))?$/i;

/** Reads a zone, or throws a RangeError when neither a fixed offset nor a zone Temporal knows. */
export function dateTimeZone(id: string): DateTimeZone {
  if (FIXED.test(id)) return { id, offsetMs: 0 };
  const offset = GMT_OFFSET.exec(id);
  if (offset) {
    const minutes = Number(offset[2]) * 60 + Number(offset[3] ?? 0);
    if (minutes > 18 * 60) throw new RangeError(`${id} is more than 18 hours from UTC`);
    return { id, offsetMs: (offset[1] === "-" ? -1 : 1) * minutes * 60_000 };
  }
  // Probing one conversion asks Temporal whether it knows the zone.
  zonedToUtc("2000-01-01T00:00:00", id);
  return { id };
}
