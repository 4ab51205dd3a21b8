// Writes data/customers.json and data/orders.json. Run once; the output is committed
// so the sample API serves the same records on every machine.
//   node examples/sample-api/generate-data.mjs
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

// mulberry32: a tiny seeded PRNG, so regenerating gives byte-identical files.
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const random = prng(20260101);
const pick = (items) => items[Math.floor(random() * items.length)];
const int = (min, max) => min + Math.floor(random() * (max - min + 1));

const FIRST = ["Ada", "Bruno", "Chen", "Dara", "Elif", "Farah", "Goran", "Hana", "Ines", "Jonas", "Kwame", "Lena", "Mateo", "Nia", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tariq", "Uma", "Viktor", "Wen", "Yara", "Zoe"];
const LAST = ["Alvarez", "Becker", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Haddad", "Ito", "Jensen", "Kowalski", "Lopez", "Moreau", "Nakamura", "Okafor", "Patel", "Rossi", "Silva", "Tanaka", "Novak"];
const COUNTRIES = ["US", "GB", "DE", "FR", "ES", "IT", "NL", "SE", "PL", "BR", "MX", "CA", "JP", "IN", "NG", "AU"];
const CURRENCY = { US: "USD", GB: "GBP", DE: "EUR", FR: "EUR", ES: "EUR", IT: "EUR", NL: "EUR", SE: "SEK", PL: "PLN", BR: "BRL", MX: "MXN", CA: "CAD", JP: "JPY", IN: "INR", NG: "NGN", AU: "AUD" };
const STATUSES = ["pending", "paid", "paid", "paid", "shipped", "shipped", "refunded", "cancelled"];

const JAN_START = Date.UTC(2026, 0, 1);
const JAN_MS = 31 * 24 * 3600 * 1000;
const iso = (ms) => new Date(ms).toISOString().replace(".000Z", "Z");
/** A whole second in [from, 2026-02-01). */
const timeIn = (from) => Math.floor((from + random() * (JAN_START + JAN_MS - from)) / 1000) * 1000;

const customers = Array.from({ length: 250 }, (_, i) => {
  const id = i + 1;
  const country = pick(COUNTRIES);
  const created = id === 1 ? JAN_START : timeIn(JAN_START);
  return {
    id,
    name: `${pick(FIRST)} ${pick(LAST)}`,
    email: `customer${id}@example.com`,
    country,
    created_at: iso(created),
    updated_at: iso(random() < 0.5 ? created : timeIn(created)),
  };
});

const orders = Array.from({ length: 600 }, (_, i) => {
  const created = timeIn(JAN_START);
  // Only customers that already existed can order; the first one exists from the first second.
  const customer = pick(customers.filter((c) => Date.parse(c.created_at) <= created)) ?? customers[0];
  return {
    id: i + 1,
    customer_id: customer.id,
    status: pick(STATUSES),
    amount: int(500, 50_000) / 100,
    currency: CURRENCY[customer.country],
    items: int(1, 6),
    created_at: iso(created),
    updated_at: iso(Math.min(created + int(0, 48 * 3600) * 1000, JAN_START + JAN_MS - 1000)),
  };
});

const dir = fileURLToPath(new URL("./data/", import.meta.url));
// One record per line: small files and readable diffs.
const lines = (records) => `[\n${records.map((r) => JSON.stringify(r)).join(",\n")}\n]\n`;
writeFileSync(`${dir}customers.json`, lines(customers));
writeFileSync(`${dir}orders.json`, lines(orders));
console.log(`wrote ${customers.length} customers and ${orders.length} orders to ${dir}`);
