// The fetch floor of the pipeline benchmark: the least a Node process can do to land the
// API's records as NDJSON. Fetches every page in turn (Node's own fetch, keep-alive), parses
// it, writes one JSON line per record. No retries, no landing layout, no DuckDB.
//
//   BENCH_API_TOKEN=... node fetch_floor.mjs --base-url URL --rows N --page-size 5000 --out FILE
//
// Prints one JSON line: {rows, pages, bytes}.
import { open } from "node:fs/promises";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    "base-url": { type: "string" },
    rows: { type: "string" },
    "page-size": { type: "string" },
    out: { type: "string" },
  },
  strict: true,
});
const headers = { authorization: `Bearer ${process.env.BENCH_API_TOKEN}`, accept: "application/json" };
const first = new URL(`${values["base-url"].replace(/\/$/, "")}/datasets/${values.rows}/records`);
first.searchParams.set("limit", values["page-size"]);

const file = await open(values.out, "w");
let rows = 0;
let pages = 0;
let bytes = 0;
try {
  for (let cursor = undefined; ; ) {
    const url = new URL(first);
    if (cursor) url.searchParams.set("cursor", cursor);
    const res = await fetch(url, { headers });
    if (!res.ok) throw new Error(`GET ${url} failed with HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`);
    const body = await res.json();
    pages++;
    if (body.items.length) {
      const text = body.items.map((r) => `${JSON.stringify(r)}\n`).join("");
      rows += body.items.length;
      bytes += Buffer.byteLength(text);
      await file.write(text);
    }
    cursor = body.next_cursor;
    if (!cursor) break;
  }
} finally {
  await file.close();
}
process.stdout.write(`${JSON.stringify({ rows, pages, bytes })}\n`);
