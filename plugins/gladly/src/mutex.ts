/**
 * Gladly asks for one report at a time per organization. Within one process this
 * queue enforces it (several streams of a pipeline run by `xo-foundry run`, or tests);
 * across Airflow tasks only an Airflow pool can.
 */
const tails = new Map<string, Promise<void>>();

export async function withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const previous = tails.get(key) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((resolve) => (release = resolve));
  const tail = previous.then(() => mine);
  tails.set(key, tail);
  await previous;
  try {
    return await fn();
  } finally {
    release();
    // The last holder cleans up, so the map does not grow with every organization ever seen.
    if (tails.get(key) === tail) tails.delete(key);
  }
}
