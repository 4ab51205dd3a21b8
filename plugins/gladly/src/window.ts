/**
 * The run's window in the two shapes Gladly's Reports API accepts.
 *
 * Dates (every metric set): `startAt` and `endAt` are calendar dates in `timezone`, and both are
 * inclusive: the report runs from midnight of `startAt` to the midnight after `endAt`. A run's
 * window is whole local days (core's dataWindow), so a daily run asks for `startAt = endAt = D`,
 * and a historical run for its first and last day. Splitting happens on whole days.
 *
 * Time ranges (only the metric sets in TIME_RANGE_METRIC_SETS): `startAtTime`/`endAtTime` as
 * UTC instants to the minute, used to split a single day. `endAtTime` includes its minute
 * (documented for work-session-events, assumed for /reports), so `[start, end)` is sent as
 * `start .. end - 1 minute`.
 */
import { addDays, wallClock, zonedMidnight, type DataWindow } from "@xo-foundry/core";

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;

/** The smallest time range a capped day is split down to. */
export const MIN_SPLIT_MS = HOUR_MS;

/**
 * Metric sets whose reports accept `startAtTime`/`endAtTime`, as Gladly's reference says
 * (`startAtTime`: "only applies to the following metricSets: AgentSummaryReport and ContactExportReportV3").
 */
export const TIME_RANGE_METRIC_SETS: ReadonlySet<string> = new Set(["AgentSummaryReport", "ContactExportReportV3"]);

/** `YYYY-MM-DD` dates in the report's time zone, both inclusive. */
export interface ReportDays {
  readonly startAt: string;
  readonly endAt: string;
}

/** `[startMs, endMs)`: instants, on whole minutes. */
export interface TimeRange {
  readonly startMs: number;
  readonly endMs: number;
}

/** The days a run's window covers. The window must run from a local midnight to a local midnight. */
export function reportDays(window: DataWindow): ReportDays {
  const zone = window.timezone;
  // The first instant of a day can be after 00:00 (a DST gap at midnight), but its date is the day's.
  const startAt = wallClock(Date.parse(window.start), zone).slice(0, 10);
  const endAt = addDays(wallClock(Date.parse(window.end), zone).slice(0, 10), -1);
  if (!(endAt >= startAt) || Date.parse(zonedMidnight(startAt, zone)) !== Date.parse(window.start) || Date.parse(zonedMidnight(addDays(endAt, 1), zone)) !== Date.parse(window.end)) {
    throw new Error(`Gladly reports cover whole days in ${zone}, but the run's window ${window.start} .. ${window.end} does not start and end at a midnight there`);
  }
  return { startAt, endAt };
}

export function dayCount(days: ReportDays): number {
  return Math.round((Date.parse(`${days.endAt}T00:00:00Z`) - Date.parse(`${days.startAt}T00:00:00Z`)) / (24 * HOUR_MS)) + 1;
}

/** Two runs of whole days (the first half the shorter one), or undefined for a single day. */
export function splitDays(days: ReportDays): [ReportDays, ReportDays] | undefined {
  const n = dayCount(days);
  if (n < 2) return undefined;
  const lastOfFirst = addDays(days.startAt, Math.floor(n / 2) - 1);
  return [
    { startAt: days.startAt, endAt: lastOfFirst },
    { startAt: addDays(lastOfFirst, 1), endAt: days.endAt },
  ];
}

/** The instants of one local day: from its first instant to the next day's (23, 24 or 25 hours). */
export function dayRange(day: string, timeZone: string): TimeRange {
  const range = { startMs: Date.parse(zonedMidnight(day, timeZone)), endMs: Date.parse(zonedMidnight(addDays(day, 1), timeZone)) };
  if (range.startMs % MINUTE_MS !== 0 || range.endMs % MINUTE_MS !== 0) {
    throw new Error(`${day} in ${timeZone} does not start on a whole minute, and Gladly's time ranges are to the minute`);
  }
  return range;
}

/** Two halves on a whole minute, or undefined when a half would be shorter than MIN_SPLIT_MS. */
export function splitRange(r: TimeRange): [TimeRange, TimeRange] | undefined {
  const length = r.endMs - r.startMs;
  if (length < 2 * MIN_SPLIT_MS) return undefined;
  const middle = r.startMs + Math.floor(length / 2 / MINUTE_MS) * MINUTE_MS;
  return [
    { startMs: r.startMs, endMs: middle },
    { startMs: middle, endMs: r.endMs },
  ];
}

/** `2026-01-15T05:00Z`: Gladly's `YYYY-mm-ddThh:mmZ`. */
export function gladlyTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16)}Z`;
}

/** The request fields of a time range; `endAtTime` is the last minute the range includes. */
export function timeRangeFields(r: TimeRange): { startAtTime: string; endAtTime: string } {
  return { startAtTime: gladlyTime(r.startMs), endAtTime: gladlyTime(r.endMs - MINUTE_MS) };
}

/** `2026-01-15` -> `20260115`, `2026-01-15T05:00Z` -> `20260115T0500Z`, for file names. */
export function compact(value: string): string {
  return value.replace(/[-:]/g, "");
}

