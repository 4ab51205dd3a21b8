/**
 * Data windows. A run for logical date D covers [start of D, start of the next day) in
 * the pipeline's time zone (the historical strategy widens the start by
 * `lookback_days - 1`). Zone rules come from the Temporal polyfill, whose "start of day"
 * is the first instant of the calendar day: local midnight, or the first wall time after
 * the gap when clocks jump over midnight (America/Santiago), or the next day that exists
 * when a whole day is skipped (Pacific/Apia, 2011-12-30). So DST days are 23 or 25 hours
 * and a window is never empty.
 */
import { Temporal } from "temporal-polyfill";
import { xoError } from "./errors.js";
import type { DataWindow } from "./plugin.js";
import type { LoadStrategy } from "./config/types.js";

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
// A wall-clock time without offset; Temporal would otherwise ignore an offset silently.
const LOCAL_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?$/;

export function parseDate(value: string): { y: number; m: number; d: number } {
  const match = DATE.exec(value);
  if (match) {
    const [y, m, d] = [Number(match[1]), Number(match[2]), Number(match[3])];
    const probe = new Date(Date.UTC(y, m - 1, d));
    if (probe.getUTCFullYear() === y && probe.getUTCMonth() === m - 1 && probe.getUTCDate() === d) return { y, m, d };
  }
  throw xoError("XO_DATE_INVALID", { value });
}

function plainDate(date: string): Temporal.PlainDate {
  const { y, m, d } = parseDate(date);
  return new Temporal.PlainDate(y, m, d);
}

export function addDays(date: string, days: number): string {
  return plainDate(date).add({ days }).toString();
}

/** The wall clock in `timeZone` at the instant `utcMs`, as `YYYY-MM-DDTHH:mm:ss`. */
export function wallClock(utcMs: number, timeZone: string): string {
  return Temporal.Instant.fromEpochMilliseconds(utcMs)
    .toZonedDateTimeISO(timeZone)
    .toPlainDateTime()
    .toString({ smallestUnit: "second" });
}

/**
 * The instant (epoch ms) a wall-clock time (`YYYY-MM-DDTHH:mm:ss`) in `timeZone` names.
 * A time repeated when clocks go back means its first occurrence; a time skipped when
 * they jump forward is moved forward by the gap (Temporal's "compatible", as in RFC 5545).
 */
export function zonedToUtc(local: string, timeZone: string): number {
  if (!LOCAL_TIME.test(local)) throw new RangeError(`invalid wall-clock time ${JSON.stringify(local)}: expected YYYY-MM-DDTHH:mm:ss without offset`);
  return Temporal.PlainDateTime.from(local).toZonedDateTime(timeZone, { disambiguation: "compatible" }).epochMilliseconds;
}

/** The first instant of `date` in `timeZone` as ISO 8601 with the zone's offset (`YYYY-MM-DDTHH:mm:ss+HH:MM`). */
export function zonedMidnight(date: string, timeZone: string): string {
  return plainDate(date).toZonedDateTime({ timeZone }).toString({ timeZoneName: "never", smallestUnit: "second" });
}

export function dataWindow(logicalDate: string, strategy: LoadStrategy, timeZone: string, lookbackDays = 7): DataWindow {
  parseDate(logicalDate);
  const first = strategy === "historical" ? addDays(logicalDate, -(lookbackDays - 1)) : logicalDate;
  return {
    logicalDate,
    start: zonedMidnight(first, timeZone),
    end: zonedMidnight(addDays(logicalDate, 1), timeZone),
    timezone: timeZone,
  };
}
