/**
 * A fetch for the Slack clients: the attempt's timeout and the run's signal on every
 * request, and the last answer's status and Retry-After kept where our retry rule can
 * read them (the webhook client's errors carry neither).
 */
export function observedFetch(signal: AbortSignal, timeoutMs: number): { fetch: typeof fetch; last: { status?: number; retryAfter?: string | null } } {
  const last: { status?: number; retryAfter?: string | null } = {};
  const wrapped: typeof fetch = async (input, init) => {
    delete last.status;
    const signals = [signal, AbortSignal.timeout(timeoutMs), ...(init?.signal ? [init.signal] : [])];
    const res = await fetch(input, { ...init, signal: AbortSignal.any(signals) });
    last.status = res.status;
    last.retryAfter = res.headers.get("retry-after");
    return res;
  };
  return { fetch: wrapped, last };
}
