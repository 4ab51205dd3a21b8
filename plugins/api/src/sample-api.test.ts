/** The api source against the example server in examples/sample-api (real HTTP on loopback, bundled data). */
import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clearSecrets, type Connection } from "@xo-foundry/core";
import { startSampleApi, type SampleApi } from "../../../examples/sample-api/server.mjs";
import { extractError, extractPages, extractRun, makeContext } from "./__fixtures__/harness.js";

const TOKEN = "sample-test-token";
let sample: SampleApi;
let connection: Connection;

beforeAll(async () => {
  sample = await startSampleApi({ token: TOKEN });
  connection = { id: "sample_api", host: sample.url, password: TOKEN, extra: {} };
});
afterAll(async () => {
  await sample.close();
  clearSecrets();
});

const source = { auth: { type: "bearer" } };
const customers = { path: "customers", record_path: "data", pagination: { type: "offset", page_size: 100 } };
const orders = {
  path: "orders",
  record_path: "items",
  pagination: { type: "cursor", next_cursor_path: "next_cursor", limit_param: "limit", page_size: 100 },
};

describe("sample API", () => {
  it("reads every customer with offset pagination", async () => {
    const pages = await extractPages(makeContext({ source, stream: customers, connection }));
    expect(pages.map((p) => p.length)).toEqual([100, 100, 50]);
    const emails = new Set(pages.flat().map((c) => c.email));
    expect(emails.size).toBe(250);
    expect(emails.has("customer42@example.com")).toBe(true);
  });

  it("reads every order with cursor pagination", async () => {
    const pages = await extractPages(makeContext({ source, stream: orders, connection }));
    expect(pages.map((p) => p.length)).toEqual([100, 100, 100, 100, 100, 100]);
    expect(new Set(pages.flat().map((o) => o.id)).size).toBe(600);
  });

  it("reads one day of orders through window placeholders", async () => {
    const all = JSON.parse(await readFile(new URL("../../../examples/sample-api/data/orders.json", import.meta.url), "utf8")) as { updated_at: string }[];
    const expected = all.filter((o) => o.updated_at >= "2026-01-15T00:00:00Z" && o.updated_at < "2026-01-16T00:00:00Z").length;
    expect(expected).toBeGreaterThan(0);
    const stream = { ...orders, params: { updated_since: "{window_start}", updated_before: "{window_end}" }, pagination: { ...orders.pagination, page_size: 7 } };
    const records = (await extractPages(makeContext({ source, stream, connection }))).flat();
    expect(records).toHaveLength(expected);
  });

  it("reads orders incrementally: from initial_value first, then from the saved cursor", async () => {
    const all = JSON.parse(await readFile(new URL("../../../examples/sample-api/data/orders.json", import.meta.url), "utf8")) as { updated_at: string }[];
    const since = "2026-01-20T00:00:00Z";
    const newest = all.map((o) => o.updated_at).reduce((a, b) => (Date.parse(a) >= Date.parse(b) ? a : b));
    const stream = { ...orders, params: { updated_since: "{cursor}" }, incremental: { cursor_field: "updated_at", initial_value: since } };

    const first = await extractRun(makeContext({ source, stream, connection }));
    expect(first.pages.flat()).toHaveLength(all.filter((o) => Date.parse(o.updated_at) >= Date.parse(since)).length);
    expect(first.states).toEqual([{ cursor: newest }]);

    // Nothing changed since: only the rows at the cursor itself come again (the API filters with >=).
    const second = await extractRun(makeContext({ source, stream, connection, state: first.states[0] }));
    expect(second.pages.flat()).toHaveLength(all.filter((o) => o.updated_at === newest).length);
    expect(second.states).toEqual([{ cursor: newest }]);
  });

  it("rejects a wrong token with a hint", async () => {
    const error = await extractError(makeContext({ source, stream: customers, connection: { ...connection, password: "wrong-token" } }));
    expect(error.message).toMatch(/HTTP 401 Unauthorized.*Check the credentials in connection "sample_api" \(XO_CONN_SAMPLE_API\)/);
    expect(error.message).not.toContain("wrong-token");
  });
});
