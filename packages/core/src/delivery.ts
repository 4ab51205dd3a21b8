/**
 * How a notifier delivers an alert: a few attempts, with core's backoff between them and a
 * server's Retry-After honoured up to a bound. An alert is about a run, not part of it,
 * so it never holds the run for long: three attempts and a wait of at most 30 s, within
 * the signal the runtime gives every alert.
 */
import { backoffDelay, sleep } from "./retry.js";
import { redact } from "./redact.js";
import type { Logger } from "./log.js";

export interface DeliveryPolicy {
  /** Attempts in all, the first included. */
  readonly attempts: number;
  /** The first wait between attempts; it doubles, with jitter. */
  readonly backoffMs: number;
  readonly maxBackoffMs: number;
  /** The longest Retry-After honoured: asked for more, the alert fails instead of waiting. */
  readonly maxRetryAfterMs: number;
  /** Milliseconds before one attempt is given up. */
  readonly timeoutMs: number;
  /** For tests: the jitter source. */
  readonly random?: () => number;
}

export const DEFAULT_DELIVERY_POLICY: DeliveryPolicy = { attempts: 3, backoffMs: 1000, maxBackoffMs: 8000, maxRetryAfterMs: 30_000, timeoutMs: 10_000 };

/** A failure another attempt may not meet: 429, 5xx, a timeout, a network error. */
export class TransientDeliveryError extends Error {
  constructor(
    /** What happened, in words without secrets: `HTTP 429 (rate limited)`. */
    readonly detail: string,
    readonly retryAfterMs?: number,
  ) {
    super(detail);
  }
}

/** Every attempt failed, or the server asked for a wait longer than the policy allows. */
export class DeliveryExhausted extends Error {
  constructor(
    readonly last: TransientDeliveryError,
    readonly attempts: number,
    readonly waitRefused: boolean,
  ) {
    super(last.detail);
  }
}

/**
 * Runs `attempt` until it resolves, throws something other than TransientDeliveryError (which ends
 * at once), or the attempts run out (DeliveryExhausted). `what` names the channel in log lines.
 */
export async function deliver<T>(attempt: () => Promise<T>, policy: DeliveryPolicy, signal: AbortSignal, log: Logger, what: string): Promise<T> {
  for (let n = 1; ; n++) {
    signal.throwIfAborted();
    try {
      return await attempt();
    } catch (e) {
      if (!(e instanceof TransientDeliveryError)) throw e;
      signal.throwIfAborted();
      if (e.retryAfterMs !== undefined && e.retryAfterMs > policy.maxRetryAfterMs) throw new DeliveryExhausted(e, n, true);
      if (n >= policy.attempts) throw new DeliveryExhausted(e, n, false);
      const delay = e.retryAfterMs ?? backoffDelay(n - 1, policy.backoffMs, policy.maxBackoffMs, policy.random);
      log.warn(redact(`${what}: ${e.detail}; attempt ${n + 1} of ${policy.attempts} in ${delay} ms`));
      await sleep(delay, signal);
    }
  }
}
