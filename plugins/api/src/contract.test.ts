/**
 * The `api` source against the testkit's source contract: real HTTP on loopback through
 * the testkit's scripted server, offset pagination over the records each check serves.
 * The `api.send` step against the step contract, delivering an export to the same server.
 */
import { afterAll } from "vitest";
import { describeSource, describeStep, testdir, useScriptedServer, type SourceScenario, type StepEnvironment, type TestDir } from "@xo-foundry/testkit";
import type { JsonObject } from "@xo-foundry/core";
import { api } from "./index.js";
import { folderLanding, ndjson, orders, publishPartition } from "./__fixtures__/landing.js";

const server = useScriptedServer();
let endpoints = 0;
const PAGE = 40;

describeSource({
  plugin: api(),
  // The pipeline in the README.
  examples: [
    {
      options: { auth: { type: "bearer" }, page_size: 100 },
      stream: { path: "customers", record_path: "data", pagination: { type: "offset" } },
    },
    {
      options: { auth: { type: "bearer" }, page_size: 100 },
      stream: {
        path: "orders",
        params: { updated_since: "{window_start}", updated_before: "{window_end}" },
        record_path: "items",
        pagination: { type: "cursor", next_cursor_path: "next_cursor", limit_param: "limit" },
      },
    },
    {
      options: { auth: { type: "bearer" }, page_size: 100 },
      stream: {
        path: "orders",
        params: { updated_since: "{cursor}" },
        record_path: "items",
        pagination: { type: "cursor", next_cursor_path: "next_cursor", limit_param: "limit" },
        incremental: { cursor_field: "updated_at", initial_value: "2026-01-01T00:00:00Z", lookback: 3600 },
      },
    },
  ],
  serve(records: readonly JsonObject[]): SourceScenario {
    const path = `/contract/${++endpoints}/items`;
    server.route({
      method: "GET",
      path,
      respond: (request) => {
        const offset = Number(request.query.get("offset") ?? 0);
        const limit = Number(request.query.get("limit") ?? PAGE);
        return { body: { data: records.slice(offset, offset + limit) } };
      },
    });
    return {
      options: { base_url: server.url, page_size: PAGE, max_retries: 0 },
      stream: { path: path.slice(1), record_path: "data", pagination: { type: "offset" } },
    };
  },
  stall(): SourceScenario {
    const path = `/contract/${++endpoints}/stalled`;
    server.route({ method: "GET", path, respond: { stall: true } });
    return { options: { base_url: server.url, timeout_ms: 600_000, max_retries: 0 }, stream: { path: path.slice(1) } };
  },
  refuse(): SourceScenario {
    const path = `/contract/${++endpoints}/missing`;
    server.route({ method: "GET", path, respond: { status: 404, body: { error: "not found" } } });
    return { options: { base_url: server.url, max_retries: 0 }, stream: { path: path.slice(1) } };
  },
});

const dirs: TestDir[] = [];
afterAll(async () => {
  for (const d of dirs) await d.remove();
});

describeStep({
  plugin: api(),
  step: "api.send",
  // The `with:` blocks in the README.
  examples: [
    {
      path: "v1/orders/batch",
      method: "POST",
      auth: { type: "bearer" },
      batch_size: 2,
      body: { orders: "{records}" },
      rejected: { path: "errors", index: "index", message: "message" },
    },
    {
      path: "contacts/import",
      method: "PUT",
      auth: { type: "api_key", header: "X-Api-Key" },
      batch_size: 500,
      idempotency_key: false,
      rate: { requests_per_second: 5 },
      max_rejected: null,
    },
  ],
  async environment(): Promise<StepEnvironment> {
    server.route({ path: /^\/partner\//, respond: { body: { accepted: true } } });
    const dir = await testdir();
    dirs.push(dir);
    const landing = folderLanding(dir.path("landing"));
    const upstream = await publishPartition(landing, { "part-00000.ndjson": ndjson(orders(1, 3)) });
    return { landing, upstream: { [upstream.task]: upstream }, connection: { id: "partner_api", host: `${server.url}/partner`, password: "contract-token", extra: {} } };
  },
});
