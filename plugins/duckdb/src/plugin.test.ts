import { createRequire } from "node:module";
import { definePlugin, pipelineJsonSchema, pipelineSchema, PLUGIN_API_VERSION, PLUGIN_KIND, Registry } from "@xo-foundry/core";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { defaultMode, duckdb, quoteIdent, quoteLiteral, sinkOptions, targetOptions } from "./index.js";

describe("duckdb()", () => {
  it("is a plugin with one sink, versioned from package.json", () => {
    const plugin = duckdb();
    const { version } = createRequire(import.meta.url)("../package.json") as { version: string };
    expect(plugin).toMatchObject({ kind: PLUGIN_KIND, apiVersion: PLUGIN_API_VERSION, name: "@xo-foundry/plugin-duckdb", version });
    expect(plugin.sinks?.map((s) => s.id)).toEqual(["duckdb"]);
  });
});

describe("in the core's pipeline schema", () => {
  const fakeSource = definePlugin({
    name: "fake-source",
    version: "0.0.0",
    sources: [{ id: "fake", description: "test", options: z.object({}), stream: z.object({}), async *extract() {} }],
  });
  const registry = new Registry([fakeSource, duckdb()]);
  const pipeline = (sink: Record<string, unknown>, target: Record<string, unknown>) => ({
    pipeline: { name: "shop", start_date: "2026-01-01" },
    source: { plugin: "fake", streams: [{ name: "orders", target }] },
    sink,
  });

  it("validates sink and target blocks and fills their defaults", () => {
    const parsed = pipelineSchema(registry).parse(pipeline({ plugin: "duckdb", schema: "raw" }, { keys: ["id"] })) as {
      sink: unknown;
      source: { streams: { target: unknown }[] };
    };
    expect(parsed.sink).toEqual({ plugin: "duckdb", database: ".xo-foundry/warehouse.duckdb", schema: "raw", lock_timeout_ms: 60_000 });
    expect(parsed.source.streams[0]?.target).toEqual({ keys: ["id"], create: true });
  });

  it("reports typos in the sink and target blocks", () => {
    // Core composes the target from its shape, so the merge-needs-keys refinement is
    // enforced at load time (see load.test.ts), not here.
    const result = pipelineSchema(registry).safeParse(pipeline({ plugin: "duckdb", databse: "x" }, { mdoe: "merge" }));
    const paths = result.error?.issues.map((i) => i.path.join("."));
    expect(paths).toEqual(expect.arrayContaining(["sink", "source.streams.0.target"]));
  });

  it("produces a JSON Schema with the option descriptions", () => {
    expect(JSON.stringify(pipelineJsonSchema(registry))).toContain("Path of the DuckDB database file");
  });
});

describe("options", () => {
  it("fills the documented defaults", () => {
    expect(sinkOptions.parse({})).toEqual({ database: ".xo-foundry/warehouse.duckdb", schema: "main", lock_timeout_ms: 60_000 });
    expect(targetOptions.parse({})).toEqual({ create: true });
  });

  it("rejects merge without keys and unknown target keys at validation time", () => {
    const merge = targetOptions.safeParse({ mode: "merge" });
    expect(merge.error?.issues[0]).toMatchObject({ path: ["keys"], message: expect.stringContaining("needs `keys`") });
    expect(targetOptions.safeParse({ tabel: "x" }).success).toBe(false);
    expect(targetOptions.safeParse({ keys: ["id", "ID"] }).success).toBe(false);
  });

  it("derives the mode from the load strategy", () => {
    expect(defaultMode("full_refresh", true)).toBe("replace");
    expect(defaultMode("incremental", true)).toBe("merge");
    expect(defaultMode("incremental", false)).toBe("append");
    expect(defaultMode("historical", true)).toBe("merge");
    expect(defaultMode("historical", false)).toBe("append");
  });
});

describe("quoting", () => {
  it("doubles the quote character and nothing else", () => {
    expect(quoteIdent('a "b" c')).toBe('"a ""b"" c"');
    expect(quoteLiteral("it's")).toBe("'it''s'");
    expect(() => quoteIdent("a\u0000b")).toThrow(/NUL/);
  });
});
