/**
 * The step's request budget: request starts at least 1/rate seconds apart. The step sends one
 * request at a time, so spacing the starts keeps it under any limit counted over a window of
 * a second or more (HubSpot counts 10-second windows), without bursts at a window's start.
 */
import { sleep } from "@xo-foundry/core";

export interface Pace {
  /** Resolves when the next request may start (rejects when `signal` aborts). */
  next(signal: AbortSignal): Promise<void>;
}

export function pace(requestsPerSecond: number, clock: () => number = Date.now): Pace {
  const gapMs = 1000 / requestsPerSecond;
  let nextStart = 0;
  return {
    async next(signal) {
      const wait = nextStart - clock();
      if (wait > 0) await sleep(Math.ceil(wait), signal);
      signal.throwIfAborted();
      nextStart = Math.max(clock(), nextStart) + gapMs;
    },
  };
}
