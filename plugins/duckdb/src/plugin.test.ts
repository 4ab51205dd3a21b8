import { createRequire } from "node:module";
import path from "node:path";
import {
  definePlugin,
  loadPipeline,
  openProject,
  pipelineJsonSchema,
  PLUGIN_API_VERSION,
  PLUGIN_KIND,
  Registry,
  type PipelineLoad,
} from "@xo-foundry/core";
import { testdir } from "@xo-foundry/testkit";
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

describe("in the core's pipeline validation", () => {
  const fakeSource = definePlugin({
    name: "fake-source",
    version: "0.0.0",
    sources: [{ id: "fake", description: "test", options: z.object({}), stream: z.object({}), async *extract() {} }],
    templates: [{ id: "ingest", description: "no tasks", isDefault: true, tasks: () => [] }],
  });
  const registry = new Registry([fakeSource, duckdb()]);
  const pipeline = (sink: Record<string, unknown> | undefined, target: Record<string, unknown>) => ({
    pipeline: { name: "shop", start_date: "2026-01-01" },
    source: { plugin: "fake", streams: [{ name: "orders", target }] },
    ...(sink ? { sink } : {}),
  });
  /** Validates the pipeline as `xo-foundry validate` does: a file in a throwaway project. */
  async function load(config: Record<string, unknown>) {
    const project = await testdir();
    try {
      const opened = await openProject(project.dir, { discover: false, plugins: [fakeSource, duckdb()] });
      return await loadPipeline(await project.write("pipelines/shop.yaml", JSON.stringify(config, null, 2)), opened);
    } finally {
      await project.remove();
    }
  }
  const errors = (result: PipelineLoad) =>
    result.diagnostics.filter((d) => d.severity === "error").map((d) => `${d.code} ${d.path} ${path.basename(d.file ?? "")}:${d.line}:${d.column}`);

  it("validates sink and target blocks and fills their defaults", async () => {
    const result = await load(pipeline({ plugin: "duckdb", schema: "raw" }, { keys: ["id"] }));
    expect(result.diagnostics).toEqual([]);
    const config = result.pipeline!.config;
    expect(config.sinks.main).toEqual({ plugin: "duckdb", database: ".xo-foundry/warehouse.duckdb", schema: "raw", lock_timeout_ms: 60_000, memory_limit: "128MB" });
    expect(config.sources.main!.streams[0]?.target).toEqual({ keys: ["id"], create: true });
  });

  it("is the default sink of a pipeline without a sink block", async () => {
    expect(registry.defaultSink()?.id).toBe("duckdb");
    const result = await load(pipeline(undefined, {}));
    expect(result.diagnostics).toEqual([]);
    expect(result.pipeline!.config.sinks).toEqual({ main: { plugin: "duckdb", database: ".xo-foundry/warehouse.duckdb", schema: "main", lock_timeout_ms: 60_000, memory_limit: "128MB" } });
  });

  it("reports typos in the sink and target blocks with file:line:col", async () => {
    const result = await load(pipeline({ plugin: "duckdb", databse: "x" }, { mdoe: "merge" }));
    // JSON is YAML: `sink.databse` is on line 19 and `target.mdoe` on line 12 of the file written above.
    expect(errors(result)).toEqual(
      expect.arrayContaining(["XO_CONFIG_UNKNOWN_KEY sink.databse shop.yaml:19:5", "XO_CONFIG_UNKNOWN_KEY source.streams[0].target.mdoe shop.yaml:12:11"]),
    );
    expect(result.diagnostics.find((d) => d.path === "sink.databse")?.hint).toMatch(/database/);
    expect(result.diagnostics.find((d) => d.path === "source.streams[0].target.mdoe")?.hint).toMatch(/mode/);
  });

  it("checks the target's own rules at load time (merge needs keys)", async () => {
    const result = await load(pipeline({ plugin: "duckdb" }, { mode: "merge" }));
    expect(errors(result)).toEqual([expect.stringMatching(/^XO_CONFIG_\w+ source\.streams\[0\]\.target\.keys shop\.yaml:\d+:\d+$/)]);
    expect(result.diagnostics[0]?.message).toMatch(/needs `keys`/);
  });

  const twoStreams = (first: Record<string, unknown>, second: Record<string, unknown>, sink: Record<string, unknown> = { plugin: "duckdb" }) => ({
    pipeline: { name: "shop", start_date: "2026-01-01" },
    source: { plugin: "fake", streams: [{ name: "orders", target: first }, { name: "orders_v2", target: second }] },
    sink,
  });

  it("refuses a second stream in the same table, whatever the mode, comparing names as DuckDB does", async () => {
    // orders_v2's `target` is on line 15 of the JSON file written above (17 when orders has a table).
    for (const second of [{ table: "Orders" }, { table: "ORDERS", mode: "append" }, { table: "orders", mode: "replace" }]) {
      const result = await load(twoStreams({}, second));
      expect(errors(result), JSON.stringify(second)).toEqual(["XO_SINK_TABLE_COLLISION source.streams[1].target shop.yaml:15:19"]);
      expect(result.diagnostics[0]?.message).toBe('stream "orders_v2" loads into main.orders of sink "main", as stream "orders" does (source.streams[0])');
    }
    expect(errors(await load(twoStreams({ table: "Orders_V1" }, { table: "orders_v1" }, { plugin: "duckdb", schema: "Raw" })))).toEqual([
      "XO_SINK_TABLE_COLLISION source.streams[1].target shop.yaml:17:19",
    ]);
    expect(errors(await load(twoStreams({}, {})))).toEqual([]);
  });

  it("compares sink blocks that write one database file with each other", async () => {
    const twoSinks = (archive: Record<string, unknown>) => ({
      pipeline: { name: "shop", start_date: "2026-01-01" },
      sources: {
        a: { plugin: "fake", sink: "main", streams: [{ name: "orders" }] },
        b: { plugin: "fake", sink: "archive", streams: [{ name: "legacy_orders", target: { table: "orders" } }] },
      },
      sinks: { main: { plugin: "duckdb", database: "w.duckdb" }, archive },
    });
    // Two names for one file: the second stream would replace the first one's rows.
    const same = await load(twoSinks({ plugin: "duckdb", database: "./w.duckdb" }));
    expect(errors(same)).toEqual([expect.stringMatching(/^XO_SINK_TABLE_COLLISION sources\.b\.streams\[0\]\.target /)]);
    expect(errors(await load(twoSinks({ plugin: "duckdb", database: "archive.duckdb" })))).toEqual([]);
    // An in-memory database is new on every load: nothing to share.
    const memory = await load({ ...twoSinks({ plugin: "duckdb", database: ":memory:" }), sinks: { main: { plugin: "duckdb", database: ":memory:" }, archive: { plugin: "duckdb", database: ":memory:" } } });
    expect(errors(memory)).toEqual([]);
  });

  it("refuses control characters in a table name", async () => {
    const result = await load(pipeline({ plugin: "duckdb" }, { table: "ord\u0000ers" }));
    expect(errors(result)).toEqual(["XO_CONFIG_INVALID_VALUE source.streams[0].target.table shop.yaml:12:20"]);
    expect(result.diagnostics[0]?.message).toContain("a table name cannot contain control characters (found U+0000 at character 4)");
    expect(targetOptions.safeParse({ table: "a\tb" }).success).toBe(false);
    expect(targetOptions.safeParse({ table: "a\u0085b" }).success).toBe(false);
    expect(targetOptions.safeParse({ table: "Bestellungen 2026 (ä)" }).success).toBe(true);
  });

  it("says where a stream lands: schema and table, folded to lower case", () => {
    const sink = duckdb().sinks![0]!;
    const key = (table: string | undefined, schema = "main") =>
      sink.targetKey!({ stream: "orders", target: targetOptions.parse(table === undefined ? {} : { table }), options: sinkOptions.parse({ schema }) });
    expect(key(undefined)).toBe("main.orders");
    expect(key("Orders", "RAW")).toBe("raw.orders");
    expect(key("a.b")).not.toBe(key("b", "main.a"));
    // DuckDB's catalog folds ASCII letters only: "ÄPFEL" is the table "Äpfel", "äpfel" is another one.
    expect(key("ÄPFEL")).toBe(key("Äpfel"));
    expect(key("äpfel")).not.toBe(key("Äpfel"));
  });

  it("produces a JSON Schema with the option descriptions", () => {
    expect(JSON.stringify(pipelineJsonSchema(registry))).toContain("Path of the DuckDB database file");
  });
});

describe("options", () => {
  it("fills the documented defaults", () => {
    expect(sinkOptions.parse({})).toEqual({ database: ".xo-foundry/warehouse.duckdb", schema: "main", lock_timeout_ms: 60_000, memory_limit: "128MB" });
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
