/** The plugin object, its YAML options and URI helpers: pure code, no S3 server. */
import { createRequire } from "node:module";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  PLUGIN_API_VERSION,
  PLUGIN_KIND,
  Registry,
  definePlugin,
  loadPipeline,
  openProject,
  pipelineJsonSchema,
  resolveLandingUri,
  type XoPlugin,
} from "@xo-foundry/core";
import { testdir } from "@xo-foundry/testkit";
import { s3 } from "./index.js";
import { sourceOptions, streamOptions } from "./options.js";
import { formatOf } from "./source.js";
import { folderPrefix, parseS3Uri } from "./uri.js";

// The core composes plugin options into strict objects; test them the same way.
const strictStream = z.strictObject(streamOptions.shape);

describe("plugin", () => {
  it("is a branded plugin with the package version, the s3 source and the s3:// landing zone", () => {
    const plugin = s3();
    const pkg = createRequire(import.meta.url)("../package.json") as { version: string };
    expect(plugin).toMatchObject({ kind: PLUGIN_KIND, apiVersion: PLUGIN_API_VERSION, name: "@xo-foundry/plugin-s3", version: pkg.version });
    expect(plugin.sources?.map((s) => s.id)).toEqual(["s3"]);
    expect(plugin.landings?.map((l) => l.scheme)).toEqual(["s3"]);
    expect(plugin.steps?.map((s) => s.id)).toEqual(["s3.upload"]);
    const registry = new Registry([plugin]);
    expect(registry.source("s3")).toBeDefined();
    expect(registry.step("s3.upload")).toBeDefined();
    expect(registry.landing("s3")).toBeDefined();
    expect(resolveLandingUri("s3://bucket/prefix/", "/project", registry.landings().map((l) => l.scheme))).toBe("s3://bucket/prefix");
  });
});

describe("stream options", () => {
  it("fills defaults", () => {
    expect(strictStream.parse({ bucket: "exports-bucket" })).toEqual({ bucket: "exports-bucket", prefix: "", pattern: "**/*", incremental: false });
    expect(z.strictObject(sourceOptions.shape).parse({})).toEqual({});
  });

  it("rejects what cannot work", () => {
    // Object-level rules: the core checks them with the plugin's own schema after the composed shape.
    expect(streamOptions.safeParse({}).error?.issues).toMatchObject([{ path: ["uri"], message: expect.stringContaining("say where the files are") }]);
    expect(strictStream.safeParse({ bucket: "Bad_Bucket" }).success).toBe(false);
    expect(strictStream.safeParse({ bucket: "b-1", prefix: "/abs" }).success).toBe(false);
    expect(strictStream.safeParse({ bucket: "b-1", format: "xlsx" }).success).toBe(false);
    expect(strictStream.safeParse({ bucket: "b-1", max_files: 0 }).success).toBe(false);
    expect(strictStream.safeParse({ bucket: "b-1", glob: "*.csv" }).success).toBe(false);
  });

  it("takes a uri instead of bucket and prefix: s3:// or file:// only", () => {
    for (const uri of ["s3://partner-exports", "s3://partner-exports/orders/2026", "file://data/incoming", "file:///srv/drop", "FILE://data"]) {
      expect(streamOptions.safeParse({ uri }).success, uri).toBe(true);
    }
    const message = (value: Record<string, unknown>) => streamOptions.safeParse(value).error?.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    expect(message({ uri: "gs://bucket/x" })).toEqual([
      'uri: expected s3://bucket/prefix or file://folder (relative to the project, or file:///absolute/path); got "gs://bucket/x"',
    ]);
    expect(message({ uri: "data/incoming" })?.[0]).toMatch(/^uri: expected s3:\/\/bucket\/prefix or file:\/\/folder/);
    expect(message({ uri: "s3://Bad_Bucket/x" })).toEqual(['uri: "Bad_Bucket" is not a bucket name: 3-63 lowercase letters, digits, dots and hyphens']);
    expect(message({ uri: "file://" })?.[0]).toMatch(/^uri: the folder is missing/);
    expect(message({ uri: "file://data/100%" })?.[0]).toMatch(/write a literal % as %25/);
    expect(message({ uri: "s3://a-bucket/x", bucket: "a-bucket" })).toEqual(["bucket: `uri` already says where the files are; remove `bucket`"]);
    expect(message({ uri: "file://data", prefix: "orders" })).toEqual(["prefix: with `uri`, put the prefix in the URI (`s3://bucket/prefix`); remove `prefix`"]);
  });

  it("composes into the pipeline schema and its JSON Schema", async () => {
    const pipeline = {
      pipeline: { name: "partner_exports", start_date: "2026-01-01" },
      source: {
        plugin: "s3",
        connection: "aws_partner",
        streams: [{ name: "orders", bucket: "partner-exports", prefix: "orders", pattern: "**/*.csv", incremental: true }],
      },
      landing: { uri: "s3://acme-landing/xo", connection: "aws_landing" },
      sink: { plugin: "stub" },
    };
    const streams = (list: unknown[]) => ({ ...pipeline, source: { ...pipeline.source, streams: list } });
    const project = await testdir();
    try {
      const opened = await openProject(project.dir, { discover: false, plugins: [s3(), warehouseStub()] });
      const load = async (config: unknown) => {
        const result = await loadPipeline(await project.write("pipelines/partner_exports.yaml", JSON.stringify(config, null, 2)), opened);
        return result.diagnostics
          .filter((d) => d.severity === "error")
          .map((d) => `${d.code} ${d.path} ${path.basename(d.file ?? "")}:${d.line}:${d.column}: ${d.message}`);
      };
      expect(await load(pipeline)).toEqual([]);
      expect(await load(streams([{ name: "orders", uri: "file://data/incoming", pattern: "*.csv" }]))).toEqual([]);
      // A typo, reported at its key in the file (JSON is YAML: the key is on line 13).
      expect(await load(streams([{ name: "o", bucket: "partner-exports", patern: "*.csv" }]))).toEqual([
        expect.stringMatching(/^XO_CONFIG_UNKNOWN_KEY source\.streams\[0\]\.patern partner_exports\.yaml:13:9: /),
      ]);
      // The stream schema's object-level rules survive the core's composition, with their paths.
      expect(await load(streams([{ name: "o" }]))).toEqual([
        expect.stringMatching(/^XO_CONFIG_\w+ source\.streams\[0\]\.uri partner_exports\.yaml:\d+:\d+: .*say where the files are/),
      ]);
      expect(await load(streams([{ name: "o", uri: "s3://partner-exports/orders", bucket: "partner-exports" }]))).toEqual([
        expect.stringMatching(/^XO_CONFIG_\w+ source\.streams\[0\]\.bucket partner_exports\.yaml:\d+:\d+: .*`uri` already says where the files are/),
      ]);
    } finally {
      await project.remove();
    }
    expect(JSON.stringify(pipelineJsonSchema(new Registry([s3()])))).toContain("Glob (picomatch) matched against each key");
  });

  it("validates s3.upload steps: options at their keys, and two steps delivering to one place", async () => {
    const upload = (id: string, options: Record<string, unknown>) => ({ id, uses: "s3.upload", connection: "aws_partner", with: options });
    const pipeline = (steps: unknown[]) => ({
      pipeline: { name: "partner_drop", start_date: "2026-01-01" },
      source: { plugin: "s3", streams: [{ name: "orders", uri: "file://data/incoming" }] },
      sink: { plugin: "stub" },
      steps,
    });
    const project = await testdir();
    try {
      const opened = await openProject(project.dir, { discover: false, plugins: [s3(), warehouseStub()] });
      const load = async (config: unknown) => {
        const result = await loadPipeline(await project.write("pipelines/partner_drop.yaml", JSON.stringify(config, null, 2)), opened);
        return result.diagnostics.filter((d) => d.severity === "error").map((d) => `${d.code} ${d.path}: ${d.message}`);
      };
      expect(await load(pipeline([upload("to_bucket", { uri: "s3://partner-drop/orders/{ds}/", name: "orders_{ds_nodash}_{name}", overwrite: "skip" })]))).toEqual([]);
      expect(await load(pipeline([upload("to_bucket", { uri: "s3://partner-drop/orders", folder: "x" })]))).toEqual([
        expect.stringMatching(/^XO_CONFIG_UNKNOWN_KEY steps\[0\]\.with\.folder: /),
      ]);
      expect(await load(pipeline([upload("to_bucket", { uri: "s3://partner-drop/orders", task: "a", from: "b" })]))).toEqual([
        expect.stringMatching(/^XO_CONFIG_\w+ steps\[0\]\.with\.from: .*give `task` or `from`, not both/),
      ]);
      expect(await load(pipeline([upload("first", { uri: "s3://partner-drop/orders/" }), upload("second", { uri: "s3://partner-drop/orders" })]))).toEqual([
        expect.stringMatching(/^XO_STEP_DESTINATION_COLLISION steps\[1\]\.with: .*s3:\/\/partner-drop\/orders\/\{name\}/),
      ]);
    } finally {
      await project.remove();
    }
  });
});

/** The smallest sink and template a pipeline needs to validate; loads nothing. */
function warehouseStub(): XoPlugin {
  return definePlugin({
    name: "warehouse-stub",
    version: "0.0.0",
    sinks: [{ id: "stub", description: "loads nothing", options: z.object({}), target: z.object({}), load: () => Promise.resolve({ table: "t", rowsLoaded: 0 }) }],
    templates: [{ id: "ingest", description: "no tasks", isDefault: true, tasks: () => [] }],
  });
}

describe("uris and formats", () => {
  it("parses s3 URIs", () => {
    expect(parseS3Uri("s3://bucket")).toEqual({ bucket: "bucket", key: "" });
    expect(parseS3Uri("s3://bucket/a/b=1/c.csv")).toEqual({ bucket: "bucket", key: "a/b=1/c.csv" });
    expect(() => parseS3Uri("file:///tmp/x")).toThrow(/not an s3:\/\/ URI/);
    expect(folderPrefix("a/b")).toBe("a/b/");
    expect(folderPrefix("a/b/")).toBe("a/b/");
    expect(folderPrefix("")).toBe("");
  });

  it("infers formats from extensions", () => {
    expect(["a.csv", "b.JSON", "c.jsonl", "d.ndjson", "e.parquet"].map((name) => formatOf(name))).toEqual(["csv", "json", "ndjson", "ndjson", "parquet"]);
    expect(() => formatOf("x/readme.txt")).toThrow(/set the stream's `format`/);
  });
});
