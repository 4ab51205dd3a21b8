/**
 * The newest value of a freshness check as an instant. Engines hand it back as text:
 * `2026-01-15`, `2026-01-15T10:00:00.123456` (DuckDB and Snowflake warehouses, ISO 8601),
 * `2026-01-15 10:00:00+00` (DuckDB's own rendering), with `Z` or an offset when the type
 * has a zone. A date is a calendar day of the pipeline's time zone, taken from its start,
 * as the data window's days are; a time without an offset is UTC, which is what
 * xo-foundry's loads and most warehouses store in zone-less timestamps.
 */
import { zonedMidnight } from "@xo-foundry/core";

const DATE = /^(\d{4}-\d{2}-\d{2})$/;
const DATE_TIME = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})(?::(\d{2})(?:\.(\d+))?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/** Epoch milliseconds of a date or timestamp text, or undefined when it is neither. */
export function instantOf(text: string, timeZone: string): number | undefined {
  const trimmed = text.trim();
  if (DATE.test(trimmed)) {
    try {
      return Date.parse(zonedMidnight(trimmed, timeZone));
    } catch {
      return undefined;
    }
  }
  const m = DATE_TIME.exec(trimmed);
  if (!m) return undefined;
  const [, date, hm, seconds = "00", fraction = "", zone] = m;
  const offset = zone === undefined || zone.toUpperCase() === "Z" ? "Z" : normalizeOffset(zone);
  const ms = Date.parse(`${date}T${hm}:${seconds}.${fraction.padEnd(3, "0").slice(0, 3)}${offset}`);
  return Number.isNaN(ms) ? undefined : ms;
}

/** `+02`, `+0200` and `+02:00` as `+02:00`. */
function normalizeOffset(zone: string): string {
  const digits = zone.slice(1).replace(":", "");
  return `${zone[0]}${digits.slice(0, 2)}:${digits.slice(2, 4).padEnd(2, "0")}`;
}
