import { describe, expect, it } from "vitest";
import { createRequire } from "node:module";
import { PLUGIN_API_VERSION, PLUGIN_KIND, type PipelineConfig, type ResolvedPipeline } from "@xo-foundry/core";
import { streamContext } from "@xo-foundry/testkit";
import { hybrid, hybridTemplate } from "./index.js";

const pkg = createRequire(import.meta.url)("../package.json") as { name: string; version: string };

function pipeline(): ResolvedPipeline {
  const base = streamContext().pipeline;
  const config: PipelineConfig = {
    ...base,
    template: "hybrid",
    sources: {
      shop: { plugin: "api", pool: "shop_api", sink: "warehouse", streams: [{ name: "orders", target: {} }, { name: "customers", target: {} }] },
      files: { plugin: "s3", sink: "archive", streams: [{ name: "rates", target: {} }] },
    },
    sinks: { warehouse: { plugin: "duckdb" }, archive: { plugin: "duckdb", connection: "archive_db" } },
  };
  return { config, file: "/p/x.yaml", projectDir: "/p", relativeFile: "x.yaml", configHash: "0".repeat(64) };
}

describe("hybrid", () => {
  it("is a plugin of this API version with the package's name and version", () => {
    expect(hybrid()).toMatchObject({ kind: PLUGIN_KIND, apiVersion: PLUGIN_API_VERSION, name: pkg.name, version: pkg.version });
  });

  it("puts each source's streams in a task group, each load after its own extract, into the source's sink", () => {
    expect(hybridTemplate.tasks(pipeline())).toEqual([
      { id: "files.extract_rates", step: "extract", with: { source: "files", stream: "rates" }, upstream: [], stream: "rates", group: "files" },
      { id: "files.load_rates", step: "load", with: { stream: "rates", sink: "archive" }, upstream: ["files.extract_rates"], stream: "rates", group: "files", connection: "archive_db" },
      { id: "shop.extract_customers", step: "extract", with: { source: "shop", stream: "customers" }, upstream: [], stream: "customers", group: "shop", pool: "shop_api" },
      { id: "shop.load_customers", step: "load", with: { stream: "customers", sink: "warehouse" }, upstream: ["shop.extract_customers"], stream: "customers", group: "shop" },
      { id: "shop.extract_orders", step: "extract", with: { source: "shop", stream: "orders" }, upstream: [], stream: "orders", group: "shop", pool: "shop_api" },
      { id: "shop.load_orders", step: "load", with: { stream: "orders", sink: "warehouse" }, upstream: ["shop.extract_orders"], stream: "orders", group: "shop" },
    ]);
  });
});
