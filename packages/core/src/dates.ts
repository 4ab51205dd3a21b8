/**
 * Data windows. A run for logical date D covers [D 00:00, D+1 00:00) in the
 * pipeline's time zone (the historical strategy widens the start by
 * `lookback_days - 1`). Offsets come from Intl, so DST days are 23 or 25 hours.
 */
import { xoError } from "./errors.js";
import type { DataWindow } from "./plugin.js";
import type { LoadStrategy } from "./config/types.js";

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

export function parseDate(value: string): { y: number; m: number; d: number } {
  const match = DATE.exec(value);
  if (match) {
    const [y, m, d] = [Number(match[1]), Number(match[2]), Number(match[3])];
    const probe = new Date(Date.UTC(y, m - 1, d));
    if (probe.getUTCFullYear() === y && probe.getUTCMonth() === m - 1 && probe.getUTCDate() === d) return { y, m, d };
  }
  throw xoError("XO_DATE_INVALID", { value });
}

export function addDays(date: string, days: number): string {
  const { y, m, d } = parseDate(date);
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

// One formatter per zone: building an Intl.DateTimeFormat costs far more than using one.
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The wall clock in `timeZone` at the instant `utcMs`, as `YYYY-MM-DDTHH:mm:ss`. */
export function wallClock(utcMs: number, timeZone: string): string {
  const parts = formatter(timeZone).formatToParts(new Date(utcMs));
  const get = (t: string) => parts.find((p) => p.type === t)!.value;
  return `${get("year")}-${get("month")}-${get("day")}T${get("hour")}:${get("minute")}:${get("second")}`;
}

/** Offset of `timeZone` from UTC at the instant `utcMs`, in minutes. */
function offsetMinutes(utcMs: number, timeZone: string): number {
  return Math.round((Date.parse(`${wallClock(utcMs, timeZone)}Z`) - utcMs) / 60_000);
}

/** The instant a wall-clock time (`YYYY-MM-DDTHH:mm:ss`) in `timeZone` names; two passes settle the offset across DST. */
export function zonedToUtc(local: string, timeZone: string): number {
  const guess = Date.parse(`${local}Z`);
  let offset = offsetMinutes(guess, timeZone);
  offset = offsetMinutes(guess - offset * 60_000, timeZone);
  return guess - offset * 60_000;
}

/** Local midnight of `date` in `timeZone`, as ISO 8601 with the zone's offset. */
export function zonedMidnight(date: string, timeZone: string): string {
  parseDate(date);
  const local = `${date}T00:00:00`;
  const offset = Math.round((Date.parse(`${local}Z`) - zonedToUtc(local, timeZone)) / 60_000);
  const sign = offset < 0 ? "-" : "+";
  const abs = Math.abs(offset);
  const hh = String(Math.floor(abs / 60)).padStart(2, "0");
  const mm = String(abs % 60).padStart(2, "0");
  return `${local}${sign}${hh}:${mm}`;
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
