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
      { id: "extract_b", kind: "extract", stream: "b", upstream: [] },
      { id: "load_b", kind: "load", stream: "b", upstream: ["extract_b"] },
      { id: "extract_b_2", kind: "extract", stream: "b_2", upstream: [] },
      { id: "load_b_2", kind: "load", stream: "b_2", upstream: ["extract_b_2"] },
      { id: "extract_customers", kind: "extract", stream: "customers", upstream: [] },
      { id: "load_customers", kind: "load", stream: "customers", upstream: ["extract_customers"] },
      { id: "extract_orders", kind: "extract", stream: "orders", upstream: [] },
      { id: "load_orders", kind: "load", stream: "orders", upstream: ["extract_orders"] },
    ]);
  });
});
