import { describe, expect, it } from "vitest";
import { Registry } from "../registry.js";
import { canonicalJson } from "./load.js";
import { z } from "zod";
import { builtinStepOptions, pipelineJsonSchema, sinkVariant, sourceVariant } from "./schema.js";
import { fixturePlugins } from "../__fixtures__/plugins.js";

describe("pipelineJsonSchema", () => {
  it("is generated from the same validator, plugin options included", async () => {
    const schema = pipelineJsonSchema(new Registry(fixturePlugins()));
    const text = `${JSON.stringify(JSON.parse(canonicalJson(schema)), null, 2)}\n`;
    await expect(text).toMatchFileSnapshot("./__snapshots__/pipeline.schema.json");
  });

  it("closes every object so editors flag unknown keys", () => {
    const schema = pipelineJsonSchema(new Registry(fixturePlugins())) as { additionalProperties?: unknown; properties: Record<string, { additionalProperties?: unknown }> };
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties.pipeline!.additionalProperties).toBe(false);
  });
});

describe("the schemas built from plugin schemas", () => {
  it("are built once per plugin schema, so zod compiles them once per run, not once per file", () => {
    const options = z.object({ page_size: z.number() });
    const stream = z.object({ path: z.string() });
    const target = z.object({ table: z.string() }).strict();
    expect(sourceVariant("api", options, stream, target)).toBe(sourceVariant("api", options, stream, target));
    expect(sinkVariant("duckdb", options)).toBe(sinkVariant("duckdb", options));
    expect(builtinStepOptions(target)[1]![1]).toBe(builtinStepOptions(target)[1]![1]);
    // Another id or another schema is another variant.
    expect(sourceVariant("rest", options, stream, target)).not.toBe(sourceVariant("api", options, stream, target));
    expect(sourceVariant("api", options, stream, z.looseObject({}))).not.toBe(sourceVariant("api", options, stream, target));
    expect(sinkVariant("duckdb", options.extend({}))).not.toBe(sinkVariant("duckdb", options));
    expect(sourceVariant("api", options, stream, target).safeParse({ plugin: "rest", page_size: 1, streams: [{ name: "a", path: "a" }] }).success).toBe(false);
    expect(sourceVariant("api", options, stream, target).safeParse({ plugin: "api", page_size: 1, streams: [{ name: "a", path: "a" }] }).success).toBe(true);
  });
});
