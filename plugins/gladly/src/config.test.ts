/**
 * The README's pipeline through the core's real YAML loader and config validation,
 * with this plugin registered. Nothing emulated, no network (the sink and template are stubs).
 */
import { readFileSync } from "node:fs";
import { definePlugin, loadPipeline, openProject } from "@xo-foundry/core";
import { testdir } from "@xo-foundry/testkit";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { gladly } from "./index.js";
import { parseStream } from "./options.js";

const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
const example = /```yaml\n([\s\S]*?)```/.exec(readme)![1]!;

// The README names no template: the stub is the project's default one, as the real ingest template is.
const stubs = definePlugin({
  name: "stubs",
  version: "0.0.0",
  templates: [{ id: "ingest", description: "stub", isDefault: true, tasks: () => [] }],
  sinks: [{ id: "duckdb", description: "stub", options: z.object({}), target: z.object({}), load: () => Promise.reject(new Error("stub")) }],
});

async function validate(yaml: string) {
  const project = await testdir();
  try {
    const opened = await openProject(project.dir, { discover: false, plugins: [gladly(), stubs] });
    return await loadPipeline(await project.write("pipelines/gladly.yaml", yaml), opened);
  } finally {
    await project.remove();
  }
}

describe("config", () => {
  it("accepts the README example", async () => {
    const result = await validate(example);
    expect(result.diagnostics).toEqual([]);
    const streams = result.pipeline!.config.sources.main!.streams as unknown as Record<string, unknown>[];
    expect(streams.map(({ name: _n, target: _t, ...s }) => parseStream(s).kind)).toEqual(["report", "report", "report", "export"]);
  });

  it("reports unknown kinds and keys with their lines", async () => {
    const result = await validate(example.replace("kind: export", "kind: exports").replace("metric_set: AgentTimestampsReport", "metric: AgentTimestampsReport"));
    const found = result.diagnostics.map((d) => `${d.path} line ${d.line}`);
    expect(found.some((f) => f.startsWith("source.streams[3].kind"))).toBe(true);
    expect(found.some((f) => f.startsWith("source.streams[1].metric"))).toBe(true);
  });
});
