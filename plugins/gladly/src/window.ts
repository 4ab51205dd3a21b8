/**
 * Gladly reports take `startAt`/`endAt` as wall-clock times in a named time zone,
 * without an offset. The run's window is two instants with offsets; we convert each
 * to the wall clock of the window's zone. Splitting happens on wall-clock times too,
 * so the halves share their boundary string exactly: no gap and no overlap, even
 * on a day when the clocks change.
 */
import { wallClock } from "@xo-foundry/core";

const HOUR_MS = 3_600_000;

/** The smallest window a capped report is split down to. */
export const MIN_SPLIT_MS = HOUR_MS;

export interface LocalWindow {
  /** `YYYY-MM-DDTHH:mm:ss`, inclusive. */
  readonly startAt: string;
  /** `YYYY-MM-DDTHH:mm:ss`, exclusive. */
  readonly endAt: string;
}

/** An ISO 8601 instant (with offset or `Z`) as the wall clock in `timeZone`. */
export function toLocalTime(iso: string, timeZone: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new Error(`invalid window boundary ${JSON.stringify(iso)}: expected ISO 8601 with an offset`);
  return wallClock(ms, timeZone);
}

export function localWindow(window: { start: string; end: string; timezone: string }): LocalWindow {
  return { startAt: toLocalTime(window.start, window.timezone), endAt: toLocalTime(window.end, window.timezone) };
}

// Wall-clock arithmetic: read the local time as if it were UTC, so no zone rules apply.
const wallMs = (local: string) => Date.parse(`${local}Z`);
const wallString = (ms: number) => new Date(ms).toISOString().slice(0, 19);

export function wallClockLength(w: LocalWindow): number {
  return wallMs(w.endAt) - wallMs(w.startAt);
}

/** The two halves of a window (split on a whole second), or undefined when a half would be shorter than `MIN_SPLIT_MS`. */
export function splitWindow(w: LocalWindow): [LocalWindow, LocalWindow] | undefined {
  const length = wallClockLength(w);
  if (length < 2 * MIN_SPLIT_MS) return undefined;
  const middle = wallString(wallMs(w.startAt) + Math.floor(length / 2 / 1000) * 1000);
  return [
    { startAt: w.startAt, endAt: middle },
    { startAt: middle, endAt: w.endAt },
  ];
}

/** `2026-01-15T00:00:00` -> `20260115T000000`, for file names. */
export function compactTime(local: string): string {
  return local.replace(/[-:]/g, "");
}
