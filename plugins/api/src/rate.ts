/**
 * A request budget: at most `perSecond` request starts a second, evenly spaced. Spacing
 * rather than bursts keeps a delivery under limits counted over any window, per second or
 * per minute alike. One process sends one batch at a time, so no queue is needed.
 */
import { sleep } from "@xo-foundry/core";

export function requestBudget(perSecond: number, now: () => number = () => performance.now()): (signal: AbortSignal) => Promise<void> {
  const spacing = 1000 / perSecond;
  let next = -Infinity;
  return async (signal) => {
    const wait = next - now();
    if (wait > 0) await sleep(Math.ceil(wait), signal);
    next = Math.max(now(), next) + spacing;
  };
}
