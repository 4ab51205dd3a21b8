import { describe, expect, it } from "vitest";
import { pipelineJsonSchema, Registry } from "@xo-foundry/core";
import { SchemaWalker, typeLabel, type JsonSchema, type ValuesAt } from "./schema.js";

const schema: JsonSchema = {
  type: "object",
  properties: {
    source: {
      description: "The source.",
      oneOf: [
        { type: "object", additionalProperties: false, properties: { plugin: { const: "api", type: "string" }, base_url: { type: "string", description: "API root." } }, required: ["plugin"] },
        { type: "object", additionalProperties: false, properties: { plugin: { const: "sql", type: "string" }, query: { $ref: "#/$defs/query" } }, required: ["plugin", "query"] },
      ],
    },
    alerts: {
      type: "array",
      items: {
        anyOf: [
          { type: "object", additionalProperties: false, properties: { when: { enum: ["failure", "success"] }, slack: { type: "object" } } },
          { type: "object", additionalProperties: false, properties: { when: { enum: ["failure", "success"] }, email: { type: "object" } } },
        ],
      },
    },
    sources: { type: "object", additionalProperties: { $ref: "#/properties/source" } },
    mixed: { allOf: [{ properties: { a: { type: "integer" } } }, { properties: { b: { type: "boolean" } } }] },
  },
};

const values = (byPath: Record<string, Record<string, unknown>>): ValuesAt => (prefix) => byPath[prefix.join(".")];

describe("SchemaWalker", () => {
  const walker = new SchemaWalker(schema);
  const keys = (path: (string | number)[], written: Record<string, Record<string, unknown>>) =>
    walker.properties(walker.at(path, values(written))).map((p) => `${p.name}${p.required ? "!" : ""}`).sort();

  it("picks the union branch whose constant key matches the sibling value", () => {
    expect(keys(["source"], { source: { plugin: "sql" } })).toEqual(["plugin!", "query!"]);
    expect(keys(["source"], { source: { plugin: "api" } })).toEqual(["base_url", "plugin!"]);
    // Nothing written yet: every branch's keys.
    expect(keys(["source"], {})).toEqual(["base_url", "plugin!", "query!"]);
  });

  it("leaves out the key being completed when narrowing, so every plugin name is offered", () => {
    const at = walker.at(["source"], values({ source: { plugin: "api" } }), "plugin");
    expect(walker.values(at.flatMap((s) => walker.child(s, "plugin")))).toEqual(["api", "sql"]);
  });

  it("narrows by the keys a closed branch allows, follows $ref, records and allOf", () => {
    expect(keys(["alerts", 0], { "alerts.0": { email: {} } })).toEqual(["email", "when"]);
    expect(keys(["sources", "main"], { "sources.main": { plugin: "sql" } })).toEqual(["plugin!", "query!"]);
    expect(keys(["mixed"], {})).toEqual(["a", "b"]);
    expect(walker.values(walker.at(["mixed", "b"], values({})))).toEqual([true, false]);
  });

  it("labels types for people", () => {
    expect(typeLabel(walker.at(["alerts", 0, "when"], values({})), walker)).toBe('"failure" | "success"');
    expect(typeLabel(walker.at(["alerts"], values({})), walker)).toBe("object[]");
  });

  it("reads core's own pipeline schema", () => {
    const core = new SchemaWalker(pipelineJsonSchema(new Registry()));
    const pipeline = core.properties(core.at(["pipeline"], values({})));
    expect(pipeline.find((p) => p.name === "start_date")).toMatchObject({ required: true });
    expect(core.values(core.at(["pipeline", "load_strategy"], values({})))).toEqual(["full_refresh", "incremental", "historical"]);
    expect(core.values(core.at(["runner", "type"], values({ runner: {} })))).toEqual(["bash", "kubernetes"]);
  });
});
