import { describe, expect, it } from "vitest";
import { createRequire } from "node:module";
import { PLUGIN_API_VERSION, PLUGIN_KIND, type PipelineConfig, type ResolvedPipeline } from "@xo-foundry/core";
import { streamContext } from "@xo-foundry/testkit";
import { exportTemplate, exportTemplatePlugin } from "./index.js";

const pkg = createRequire(import.meta.url)("../package.json") as { name: string; version: string };

function pipeline(patch: Partial<PipelineConfig>): ResolvedPipeline {
  const config: PipelineConfig = { ...streamContext().pipeline, template: "export", sources: {}, sinks: { main: { plugin: "duckdb" } }, ...patch };
  return { config, file: "/p/x.yaml", projectDir: "/p", relativeFile: "x.yaml", configHash: "0".repeat(64) };
}

const exportStep = { id: "orders", uses: "sql.export", with: { query: "select 1" } } as unknown as PipelineConfig["steps"][number];

describe("export", () => {
  it("is a plugin of this API version with the package's name and version", () => {
    expect(exportTemplatePlugin()).toMatchObject({ kind: PLUGIN_KIND, apiVersion: PLUGIN_API_VERSION, name: pkg.name, version: pkg.version });
  });

  it("needs no source: without one, the graph is the pipeline's steps alone", () => {
    expect(exportTemplate.needsSource).toBe(false);
    expect(exportTemplate.tasks(pipeline({ steps: [exportStep] }))).toEqual([]);
    expect(exportTemplate.check?.(pipeline({ steps: [exportStep] }))).toEqual([]);
  });

  it("refuses a pipeline with nothing to do", () => {
    expect(exportTemplate.check?.(pipeline({ steps: [] }))).toEqual([{ path: ["steps"], message: expect.stringContaining("needs steps") }]);
  });

  it("extracts and loads a pipeline's sources first, grouped by source", () => {
    const tasks = exportTemplate.tasks(pipeline({ sources: { shop: { plugin: "api", streams: [{ name: "orders", target: {} }] } }, steps: [exportStep] }));
    expect(tasks.map((t) => t.id)).toEqual(["shop.extract_orders", "shop.load_orders"]);
  });
});
