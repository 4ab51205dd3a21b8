/**
 * The README's pipeline through the core's real YAML loader and config validation,
 * with this plugin registered. Nothing emulated, no network (the sink and template are stubs).
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { definePlugin, parseYaml, Registry, validatePipeline, type Project } from "@xo-foundry/core";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { gladly } from "./index.js";
import { parseStream } from "./options.js";

const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
const example = /```yaml\n([\s\S]*?)```/.exec(readme)![1]!;

const stubs = definePlugin({
  name: "stubs",
  version: "0.0.0",
  templates: [{ id: "ingest", description: "stub", tasks: () => [], render: () => "" }],
  sinks: [{ id: "duckdb", description: "stub", options: z.object({}), target: z.object({}), load: () => Promise.reject(new Error("stub")) }],
});

function validate(yaml: string) {
  const dir = path.resolve("/tmp/xo-gladly-project");
  const project: Project = { dir, config: {}, defaults: {}, registry: new Registry([gladly(), stubs]), plugins: [], diagnostics: [] } as unknown as Project;
  return validatePipeline(parseYaml(yaml, "pipelines/gladly.yaml"), path.join(dir, "pipelines/gladly.yaml"), project);
}

describe("config", () => {
  it("accepts the README example", () => {
    const result = validate(example);
    expect(result.diagnostics).toEqual([]);
    const streams = result.pipeline!.config.source.streams as unknown as Record<string, unknown>[];
    expect(streams.map(({ name: _n, target: _t, ...s }) => parseStream(s).kind)).toEqual(["report", "report", "report", "export"]);
  });

  it("reports unknown kinds and keys with their lines", () => {
    const result = validate(example.replace("kind: export", "kind: exports").replace("metric_set: AgentTimestampsReport", "metric: AgentTimestampsReport"));
    const found = result.diagnostics.map((d) => `${d.path} line ${d.line}`);
    expect(found.some((f) => f.startsWith("source.streams[3].kind"))).toBe(true);
    expect(found.some((f) => f.startsWith("source.streams[1].metric"))).toBe(true);
  });
});
