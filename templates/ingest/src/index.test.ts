import { createRequire } from "node:module";
import { PLUGIN_API_VERSION, PLUGIN_KIND } from "@xo-foundry/core";
import { describe, expect, it } from "vitest";
import { ingest, ingestTemplate } from "./index.js";
import { fixtureConfig, resolved } from "./__fixtures__/pipeline.js";

describe("ingest()", () => {
  it("is a branded plugin that provides the ingest template", () => {
    const plugin = ingest();
    const pkg = createRequire(import.meta.url)("../package.json") as { name: string; version: string };
    expect(plugin).toMatchObject({ kind: PLUGIN_KIND, apiVersion: PLUGIN_API_VERSION, name: pkg.name, version: pkg.version });
    expect(plugin.templates?.map((t) => t.id)).toEqual(["ingest"]);
    expect(plugin.sources).toBeUndefined();
  });
});

describe("ingestTemplate.tasks", () => {
  it("gives each stream an extract and a load that waits only for its own extract", () => {
    const tasks = ingestTemplate.tasks(resolved(fixtureConfig({ streams: ["orders", "b_2", "customers", "b"] })));
    expect(tasks).toEqual([
      { id: "extract_b", step: "extract", with: { source: "main", stream: "b" }, upstream: [], stream: "b", connection: "shop_api" },
      { id: "load_b", step: "load", with: { stream: "b", sink: "main" }, upstream: ["extract_b"], stream: "b" },
      { id: "extract_b_2", step: "extract", with: { source: "main", stream: "b_2" }, upstream: [], stream: "b_2", connection: "shop_api" },
      { id: "load_b_2", step: "load", with: { stream: "b_2", sink: "main" }, upstream: ["extract_b_2"], stream: "b_2" },
      { id: "extract_customers", step: "extract", with: { source: "main", stream: "customers" }, upstream: [], stream: "customers", connection: "shop_api" },
      { id: "load_customers", step: "load", with: { stream: "customers", sink: "main" }, upstream: ["extract_customers"], stream: "customers" },
      { id: "extract_orders", step: "extract", with: { source: "main", stream: "orders" }, upstream: [], stream: "orders", connection: "shop_api" },
      { id: "load_orders", step: "load", with: { stream: "orders", sink: "main" }, upstream: ["extract_orders"], stream: "orders" },
    ]);
  });
});
