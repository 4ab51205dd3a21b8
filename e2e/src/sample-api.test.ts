/**
 * The bundled sample API (examples/sample-api/server.mjs) held to its own description,
 * examples/sample-api/openapi.json (ADR 0009): what it serves matches the documented shapes, and
 * what the description rules out is refused with 400. Real: the server, Node's fetch.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repo } from "./helpers.js";

interface SampleApi {
  url: string;
  close(): Promise<void>;
}
interface Schema {
  readonly required: readonly string[];
  readonly properties: Readonly<Record<string, unknown>>;
}
interface Description {
  readonly paths: Readonly<Record<string, unknown>>;
  readonly components: { readonly schemas: Readonly<Record<string, Schema>> };
}

const TOKEN = "sample-api-e2e-token";
let api: SampleApi;
let description: Description;

beforeAll(async () => {
  const { startSampleApi } = (await import(path.join(repo, "examples/sample-api/server.mjs"))) as { startSampleApi(o: { token: string }): Promise<SampleApi> };
  api = await startSampleApi({ token: TOKEN });
  description = JSON.parse(await readFile(path.join(repo, "examples/sample-api/openapi.json"), "utf8")) as Description;
});
afterAll(() => api?.close());

async function get(pathAndQuery: string, init: RequestInit = { headers: { authorization: `Bearer ${TOKEN}` } }) {
  const res = await fetch(`${api.url}/${pathAndQuery}`, init);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe("the sample API against openapi.json", () => {
  it("names its description at its top", async () => {
    const source = await readFile(path.join(repo, "examples/sample-api/server.mjs"), "utf8");
    expect(source.split("\n").slice(0, 10).join("\n")).toContain(`Follows: openapi.json next to this file, "xo-foundry sample shop API" 1.0.0`);
    expect(Object.keys(description.paths).sort()).toEqual(["/customers", "/orders"]);
  });

  it("serves records with exactly the documented fields", async () => {
    const customers = await get("customers?limit=1000");
    expect(Object.keys(customers.body).sort()).toEqual(["data", "total"]);
    const orders = await get("orders?limit=1000");
    expect(Object.keys(orders.body).sort()).toEqual(["items", "next_cursor"]);
    for (const [records, schema] of [
      [customers.body.data, description.components.schemas.Customer!],
      [orders.body.items, description.components.schemas.Order!],
    ] as const) {
      expect((records as unknown[]).length).toBeGreaterThan(0);
      for (const record of records as Record<string, unknown>[]) expect(Object.keys(record).sort()).toEqual([...schema.required].sort());
    }
  });

  const refused: [string, string][] = [
    ["customers?limit=0", "limit"],
    ["customers?limit=1001", "limit"],
    ["customers?limit=ten", "limit"],
    ["customers?offset=-1", "offset"],
    ["customers?page=2", "page"],
    ["customers?limit=5&limit=6", "limit"],
    ["orders?updated_since=2026-01-15", "updated_since"],
    ["orders?updated_before=yesterday", "updated_before"],
    ["orders?cursor=", "cursor"],
    ["orders?cursor=not-a-cursor", "cursor"],
    ["orders?since=2026-01-15T00:00:00Z", "since"],
  ];
  for (const [query, param] of refused) {
    it(`refuses ${query} with 400 naming ${param}`, async () => {
      const r = await get(query);
      expect(r.status).toBe(400);
      expect(r.body).toMatchObject({ error: "bad_request", param });
    });
  }

  it("accepts what the description allows, offsets included", async () => {
    expect((await get("orders?updated_since=2026-01-15T00:00:00%2B01:00&updated_before=2026-01-16T00:00:00Z&limit=5")).status).toBe(200);
    expect((await get("customers?offset=249&limit=1000")).body.data).toHaveLength(1);
  });

  it("answers 401 without the token, 405 for other methods, 404 for other paths", async () => {
    expect((await get("customers", {})).status).toBe(401);
    expect((await get("customers", { method: "POST", headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(405);
    expect((await get("products")).status).toBe(404);
  });
});
