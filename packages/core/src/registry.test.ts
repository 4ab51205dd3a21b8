import { describe, expect, it } from "vitest";
import { z } from "zod";
import { definePlugin, PLUGIN_API_VERSION } from "./plugin.js";
import { Registry, suggestName } from "./registry.js";
import { isXoError, formatDiagnostic } from "./errors.js";
import { fixturePlugins } from "./__fixtures__/plugins.js";

function failure(fn: () => unknown) {
  try {
    fn();
  } catch (e) {
    if (isXoError(e)) return e.diagnostics[0]!;
    throw e;
  }
  throw new Error("expected an XoError");
}

describe("Registry", () => {
  it("indexes the components of every plugin", () => {
    const registry = new Registry(fixturePlugins());
    expect(registry.sources().map((s) => s.id)).toEqual(["api"]);
    expect(registry.ownerOf("sink", "duckdb")?.name).toBe("fixture-warehouse");
    expect(registry.suggest("source", "apu")).toEqual({ available: ["api"], suggestion: "api" });
  });

  it("refuses a plugin built for another API version, naming both versions", () => {
    const future = { ...definePlugin({ name: "@acme/plugin-future", version: "9.0.0" }), apiVersion: PLUGIN_API_VERSION + 1 };
    const d = failure(() => new Registry([future]));
    expect(d.code).toBe("XO_PLUGIN_API_VERSION");
    expect(d.message).toBe(
      `plugin "@acme/plugin-future" targets plugin API version ${PLUGIN_API_VERSION + 1}, but this xo-foundry supports version ${PLUGIN_API_VERSION}`,
    );
    expect(d.hint).toMatch(/upgrade @xo-foundry\/cli/);
    // A plugin written for API 1 (sources, sinks and templates that render Python).
    const v1 = { ...definePlugin({ name: "@acme/plugin-old", version: "0.1.0" }), apiVersion: 1 };
    const old = failure(() => new Registry([v1]));
    expect(old.message).toBe('plugin "@acme/plugin-old" targets plugin API version 1, but this xo-foundry supports version 2');
    expect(old.hint).toBe("upgrade @acme/plugin-old to a release built for plugin API version 2");
  });

  it("registers step types and observers, and refuses a plugin step named like a built-in one", () => {
    const registry = new Registry(fixturePlugins());
    expect(registry.steps().map((s) => s.id)).toEqual(["fixture.note", "fixture.remote"]);
    expect(registry.suggest("step", "lod")).toMatchObject({ suggestion: "load" });
    const shadow = definePlugin({
      name: "@acme/shadow",
      version: "1.0.0",
      steps: [{ id: "load", description: "", options: fixturePlugins()[2]!.steps![0]!.options, run: async () => ({}) }],
    });
    expect(failure(() => new Registry([shadow])).message).toContain('step "load" is a built-in step type');
  });

  it("refuses two default templates, naming both", () => {
    const other = definePlugin({ name: "@acme/templates", version: "1.0.0", templates: [{ id: "mine", description: "", isDefault: true, tasks: () => [] }] });
    const d = failure(() => new Registry([...fixturePlugins(), other]));
    expect(d.code).toBe("XO_PLUGIN_DUPLICATE");
    expect(d.message).toContain('the default template ("ingest" of fixture-warehouse, "mine" of @acme/templates)');
  });

  it("refuses objects that are not plugins", () => {
    expect(failure(() => new Registry([{ name: "x" }])).code).toBe("XO_PLUGIN_INVALID");
    expect(failure(() => new Registry(["nope"])).code).toBe("XO_PLUGIN_INVALID");
  });

  it("refuses duplicate plugin names and duplicate component ids", () => {
    expect(failure(() => new Registry([...fixturePlugins(), ...fixturePlugins()])).code).toBe("XO_PLUGIN_DUPLICATE");
    const second = definePlugin({
      name: "another-api",
      version: "1.0.0",
      sources: [{ id: "api", description: "", options: z.object({}), stream: z.object({}), async *extract() {} }],
    });
    const d = failure(() => new Registry([...fixturePlugins(), second]));
    expect(formatDiagnostic(d)).toContain('source "api" is provided twice (second time by "another-api")');
  });

  it("refuses option schemas that take over keys the core owns", () => {
    const bad = definePlugin({
      name: "greedy",
      version: "1.0.0",
      sources: [{ id: "g", description: "", options: z.object({ streams: z.string() }), stream: z.object({ name: z.string() }), async *extract() {} }],
    });
    const d = failure(() => new Registry([bad]));
    expect(d.message).toContain('declares the reserved key "streams"');
    expect(d.message).toContain('declares the reserved key "name"');
  });
});

describe("suggestName", () => {
  it("suggests only near misses", () => {
    expect(suggestName("shedule", ["schedule", "start_date"])).toBe("schedule");
    expect(suggestName("zzzzzz", ["schedule"])).toBeUndefined();
  });
});
