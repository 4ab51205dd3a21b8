/**
 * The retry arithmetic every HTTP-based plugin needs, kept in one place so all of
 * them back off and honour Retry-After the same way.
 */

/** `Retry-After` is either delay-seconds or an HTTP date (RFC 9110 section 10.2.3); returns milliseconds. */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * Exponential backoff with "equal jitter": half the delay is fixed so a retry never
 * fires immediately at a struggling server, half is random so parallel tasks that
 * failed together do not retry together.
 */
export function backoffDelay(retry: number, initialMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, initialMs * 2 ** retry);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** Waits `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** Response headers as one lower-cased string per name, whatever shape the HTTP client gives. */
export function lowerCaseHeaders(headers: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries((headers ?? {}) as Record<string, unknown>)) {
    if (v !== undefined && v !== null) out[k.toLowerCase()] = Array.isArray(v) ? v.join(", ") : String(v);
  }
  return out;
}

/**
 * A request budget: request starts at least 1/`perSecond` seconds apart. Spacing rather than
 * bursts keeps a caller that sends one request at a time under limits counted over any window
 * (per second, per ten seconds, per minute); a request that comes late does not wait.
 */
export function requestPace(perSecond: number, clock: () => number = () => performance.now()): (signal: AbortSignal) => Promise<void> {
  const gapMs = 1000 / perSecond;
  let next = -Infinity;
  return async (signal) => {
    const wait = next - clock();
    if (wait > 0) await sleep(Math.ceil(wait), signal);
    signal.throwIfAborted();
    next = Math.max(clock(), next) + gapMs;
  };
}
