/** The plugin object, its YAML options and URI helpers: pure code, no S3 server. */
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { PLUGIN_API_VERSION, PLUGIN_KIND, Registry, pipelineJsonSchema, pipelineSchema, resolveLandingUri } from "@xo-foundry/core";
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
    const registry = new Registry([plugin]);
    expect(registry.source("s3")).toBeDefined();
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
    expect(strictStream.safeParse({}).success).toBe(false);
    expect(strictStream.safeParse({ bucket: "Bad_Bucket" }).success).toBe(false);
    expect(strictStream.safeParse({ bucket: "b-1", prefix: "/abs" }).success).toBe(false);
    expect(strictStream.safeParse({ bucket: "b-1", format: "xlsx" }).success).toBe(false);
    expect(strictStream.safeParse({ bucket: "b-1", max_files: 0 }).success).toBe(false);
    expect(strictStream.safeParse({ bucket: "b-1", glob: "*.csv" }).success).toBe(false);
  });

  it("composes into the pipeline schema and its JSON Schema", () => {
    const registry = new Registry([s3()]);
    const pipeline = {
      pipeline: { name: "partner_exports", start_date: "2026-01-01" },
      source: {
        plugin: "s3",
        connection: "aws_partner",
        streams: [{ name: "orders", bucket: "partner-exports", prefix: "orders", pattern: "**/*.csv", incremental: true }],
      },
      landing: { uri: "s3://acme-landing/xo", connection: "aws_landing" },
    };
    expect(pipelineSchema(registry, { source: "s3" }).safeParse(pipeline).success).toBe(true);
    const typo = { ...pipeline, source: { ...pipeline.source, streams: [{ name: "o", bucket: "partner-exports", patern: "*.csv" }] } };
    expect(pipelineSchema(registry, { source: "s3" }).safeParse(typo).success).toBe(false);
    expect(JSON.stringify(pipelineJsonSchema(registry))).toContain("Glob (picomatch) matched against each key");
  });
});

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
    expect(["a.csv", "b.JSON", "c.jsonl", "d.ndjson", "e.parquet"].map(formatOf)).toEqual(["csv", "json", "ndjson", "ndjson", "parquet"]);
    expect(() => formatOf("x/readme.txt")).toThrow(/set the stream's `format`/);
  });
});
