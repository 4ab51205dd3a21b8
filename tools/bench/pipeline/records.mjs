// The benchmark's synthetic records: record `id` (1-based) is a pure function of its id, so
// the server never holds the data set and the harness knows the expected totals without
// asking anyone. Flat, ten fields, printable ASCII only (no JSON escaping needed).

const STATUSES = ["pending", "paid", "shipped", "cancelled", "refunded"];
const CURRENCIES = ["EUR", "USD", "GBP", "SEK", "CHF"];
const WORDS = ["blue", "gift", "rush", "bulk", "repeat", "promo", "retail", "online", "store", "mobile"];
const EPOCH_MS = Date.UTC(2026, 0, 1);

/** A 32-bit integer hash (the finaliser of MurmurHash3): spreads neighbouring ids apart. */
function mix(x) {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** The two fields the equivalence checks total, cheaper than a whole record. */
export function amountCents(id) {
  return 100 + (mix(id) % 99_900);
}

export function updatedAtMs(id) {
  // Created every 3 s from 2026-01-01; updated up to ~11.6 days later.
  return EPOCH_MS + id * 3000 + (mix(id ^ 0x5bd1e995) % 1_000_000) * 1000;
}

const iso = (ms) => new Date(ms).toISOString();

// toISOString is most of a record's cost; timestamps here are whole seconds, so cache the
// date part per day and format the time of day by hand (same text as toISOString).
const DAY_MS = 86_400_000;
const dayPrefix = new Map();
const two = (n) => (n < 10 ? `0${n}` : `${n}`);
function fastIso(ms) {
  const day = Math.floor(ms / DAY_MS);
  let prefix = dayPrefix.get(day);
  if (prefix === undefined) dayPrefix.set(day, (prefix = iso(day * DAY_MS).slice(0, 11)));
  const s = Math.floor((ms - day * DAY_MS) / 1000);
  return `${prefix}${two(Math.floor(s / 3600))}:${two(Math.floor(s / 60) % 60)}:${two(s % 60)}.000Z`;
}

/** Record `id` as one JSON object text, written by hand: the server's hot path. */
export function recordJson(id) {
  const h = mix(Math.imul(id, 0x9e3779b1));
  const cents = amountCents(id);
  const amount = `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, "0")}`;
  return (
    `{"id":${id},"customer_id":${1 + (h % 50_000)},"status":"${STATUSES[h % 5]}","amount":${amount},` +
    `"currency":"${CURRENCIES[(h >>> 3) % 5]}","quantity":${1 + ((h >>> 6) % 10)},"is_gift":${(h & 0x400) !== 0},` +
    `"note":"${WORDS[(h >>> 11) % 10]} ${WORDS[(h >>> 15) % 10]} #${h % 1000}",` +
    `"created_at":"${fastIso(EPOCH_MS + id * 3000)}","updated_at":"${fastIso(updatedAtMs(id))}"}`
  );
}

/** What every loaded table must hold for a data set of `rows` records (ids 1..rows). */
export function expectedTotals(rows) {
  let cents = 0;
  let maxUpdated = 0;
  for (let id = 1; id <= rows; id++) {
    cents += amountCents(id);
    const u = updatedAtMs(id);
    if (u > maxUpdated) maxUpdated = u;
  }
  return { rows, distinctIds: rows, amountCents: cents, maxUpdatedAt: iso(maxUpdated) };
}
