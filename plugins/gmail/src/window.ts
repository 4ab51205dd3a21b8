/**
 * The run's data window as a Gmail search. Gmail reads `after:2026/01/15` as midnight Pacific
 * time (its "Searching for messages" guide), but `after:<epoch seconds>` as that instant, so
 * seconds make the bounds exact in every time zone. Which side of a boundary second Gmail
 * counts is not documented, so the search asks for one second more on each side, and each
 * message's `internalDate` (epoch ms, the time Gmail accepted it) decides: a message belongs
 * to the window `[start, end)` exactly when its internalDate is in it.
 */
import type { DataWindow } from "@xo-foundry/core";

/** The window as epoch milliseconds, start inclusive, end exclusive. */
export interface WindowBounds {
  readonly startMs: number;
  readonly endMs: number;
}

export function windowBounds(window: DataWindow): WindowBounds {
  const startMs = Date.parse(window.start);
  const endMs = Date.parse(window.end);
  if (Number.isNaN(startMs) || Number.isNaN(endMs) || !(endMs > startMs)) {
    throw new Error(`the run's window ${window.start} .. ${window.end} is not a valid range of instants`);
  }
  return { startMs, endMs };
}

/** `after:<s> before:<s>`, one second wider than the window on each side. */
export function windowTerms(bounds: WindowBounds): string {
  return `after:${Math.floor(bounds.startMs / 1000) - 1} before:${Math.ceil(bounds.endMs / 1000) + 1}`;
}

/**
 * The `q` of a window sync. The user's query is parenthesized so that an `OR` in it cannot
 * take the window terms into one of its branches.
 */
export function searchQuery(userQuery: string | undefined, bounds: WindowBounds): string {
  return userQuery === undefined ? windowTerms(bounds) : `(${userQuery}) ${windowTerms(bounds)}`;
}

export function inWindow(internalDate: string | null | undefined, bounds: WindowBounds): boolean {
  const ms = Number(internalDate);
  return Number.isFinite(ms) && ms >= bounds.startMs && ms < bounds.endMs;
}
