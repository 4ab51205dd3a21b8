import { describe, expect, it } from "vitest";
import { Registry } from "../registry.js";
import { canonicalJson } from "./load.js";
import { pipelineJsonSchema } from "./schema.js";
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
