/**
 * `items.map(fn)` with at most `limit` calls in flight: Gmail limits concurrent requests per
 * mailbox, and an unbounded `Promise.all` over a page of 500 ids would trip it at once.
 */

/**
 * Results come back in the order of `items`. After the first failure no new call starts;
 * the failure is thrown once the calls already in flight have settled, so none is left
 * running behind the caller's back.
 */
export async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (failure === undefined && next < items.length) {
      const index = next++;
      try {
        results[index] = await fn(items[index]!, index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure) throw failure.error;
  return results;
}
