/** The `with:` block of `api.send` as the core parses it: strict, with defaults and cross-field rules. */
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { definePlugin, loadPipeline, openProject, pipelineJsonSchema, Registry, type XoPlugin } from "@xo-foundry/core";
import { testdir } from "@xo-foundry/testkit";
import { api } from "./index.js";
import { sendOptions } from "./send-options.js";

const strict = sendOptions.strict();
const issues = (value: unknown) => (strict.safeParse(value).error?.issues ?? []).map((i) => `${i.path.join(".")}: ${i.message}`);

describe("api.send options", () => {
  it("is a step type of the plugin that never skips", () => {
    const step = new Registry([api()]).steps().find((s) => s.id === "api.send");
    expect(step).toMatchObject({ id: "api.send", canSkip: false, connection: "optional" });
  });

  it("fills defaults", () => {
    expect(strict.parse({ path: "orders" })).toEqual({
      path: "orders",
      method: "POST",
      auth: { type: "none" },
      headers: {},
      timeout_ms: 30_000,
      max_retries: 5,
      backoff_ms: 500,
      batch_size: 100,
      idempotency_key: { header: "Idempotency-Key", quoted: true },
      max_rejected: 0,
    });
    expect(strict.parse({ url: "https://api.example.com/v1/orders", rejected: {} }).rejected).toEqual({ path: "errors", index: "index", message: "message" });
    expect(strict.parse({ path: "x", idempotency_key: false, max_rejected: null })).toMatchObject({ idempotency_key: false, max_rejected: null });
  });

  it("needs path or url, not both, and task or from, not both", () => {
    expect(issues({})).toEqual(["path: give `path` (relative to the connection's base URL) or `url`"]);
    expect(issues({ path: "a", url: "https://x.example" })).toEqual(["url: give `path` or `url`, not both"]);
    expect(issues({ path: "a", task: "t", from: "f" })).toEqual(["from: give `task` or `from`, not both"]);
  });

  it("wants {records} exactly once in body, as a whole value", () => {
    expect(strict.safeParse({ path: "a", body: { data: "{records}", meta: { day: "{logical_date}" } } }).success).toBe(true);
    expect(issues({ path: "a", body: { data: [] } })).toEqual([expect.stringMatching(/^body: must hold \{records\} exactly once \(it holds it 0 times\), where the batch's array of records goes/)]);
    expect(issues({ path: "a", body: { a: "{records}", b: "{records}" } })).toEqual([expect.stringMatching(/holds it 2 times/)]);
    expect(issues({ path: "a", body: { data: "{records}", note: "x {records}" } })).toContain("body.note: {records} must be a whole value (`data: \"{records}\"`), not part of a string");
  });

  it("refuses placeholders it would not fill, and {cursor}", () => {
    expect(issues({ path: "orders/{logical_day}" })).toEqual([expect.stringMatching(/^path: unknown placeholder \{logical_day\}; available: \{logical_date\}/)]);
    expect(issues({ path: "orders/{cursor}" })).toEqual([expect.stringMatching(/^path: \{cursor\} belongs to incremental sources/)]);
    expect(issues({ path: "a", body: { data: "{records}", since: "{cursor}" } })).toEqual([expect.stringMatching(/^body.since: \{cursor\}/)]);
  });

  it("refuses credentials and the idempotency header in headers", () => {
    expect(issues({ path: "a", headers: { Authorization: "Bearer x" } })).toEqual([expect.stringMatching(/^headers.Authorization: header "Authorization" carries credentials/)]);
    expect(issues({ path: "a", headers: { "idempotency-key": "x" } })).toEqual([expect.stringMatching(/^headers.idempotency-key: idempotency-key is the idempotency key's header/)]);
    expect(issues({ path: "a", idempotency_key: { header: "X-Request-Id" }, headers: { "Idempotency-Key": "x" } })).toEqual([]);
  });

  it("refuses unknown keys at every level, and methods that are not writes", () => {
    expect(issues({ path: "a", batchsize: 10 })).toEqual([expect.stringMatching(/unrecognized|Unrecognized key/i)]);
    expect(strict.safeParse({ path: "a", rejected: { path: "errors", idx: "i" } }).success).toBe(false);
    expect(strict.safeParse({ path: "a", idempotency_key: { name: "X" } }).success).toBe(false);
    expect(strict.safeParse({ path: "a", method: "GET" }).success).toBe(false);
    expect(strict.safeParse({ path: "a", idempotency_key: true }).success).toBe(false);
  });
});

describe("api.send in a pipeline file", () => {
  it("composes into the pipeline schema, keeps its cross-field rules with their paths, and into the JSON Schema", async () => {
    const project = await testdir();
    try {
      const opened = await openProject(project.dir, { discover: false, plugins: [api(), warehouseStub()] });
      const load = async (withBlock: Record<string, unknown>) => {
        const pipeline = {
          pipeline: { name: "orders_to_api", start_date: "2026-01-01" },
          template: "ingest",
          source: { plugin: "api", base_url: "https://api.example.com", streams: [{ name: "orders", path: "orders" }] },
          sink: { plugin: "stub" },
          steps: [{ id: "to_partner_api", uses: "api.send", with: withBlock }],
        };
        const result = await loadPipeline(await project.write("p.yaml", JSON.stringify(pipeline)), opened);
        return result.diagnostics.filter((d) => d.severity === "error").map((d) => `${d.code} ${d.path}: ${d.message}`);
      };
      expect(await load({ url: "https://api.example.com/v1/orders", batch_size: 50, body: { orders: "{records}" } })).toEqual([]);
      expect(await load({ url: "https://api.example.com/v1/orders", batchsize: 50 })).toEqual([expect.stringMatching(/^XO_CONFIG_UNKNOWN_KEY steps\[0\]\.with\.batchsize: /)]);
      expect(await load({ batch_size: 50 })).toEqual([expect.stringMatching(/steps\[0\]\.with\.path: give `path` \(relative to the connection's base URL\) or `url`/)]);
    } finally {
      await project.remove();
    }
    const schema = JSON.stringify(pipelineJsonSchema(new Registry([api()])));
    expect(schema).toContain("api.send");
    expect(schema).toContain("How many refused records the task tolerates");
  });
});

/** The smallest sink and template a pipeline needs to validate; loads nothing. */
function warehouseStub(): XoPlugin {
  return definePlugin({
    name: "warehouse-stub",
    version: "0.0.0",
    sinks: [{ id: "stub", description: "accepts any target, loads nothing", options: z.object({}), target: z.object({}), load: () => Promise.resolve({ table: "t", rowsLoaded: 0 }) }],
    templates: [{ id: "ingest", description: "no tasks", tasks: () => [] }],
  });
}
