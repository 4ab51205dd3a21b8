import { afterEach, describe, expect, it } from "vitest";
import { fixtureProject, loadFixture as load, PIPELINE as VALID, removeFixtureProjects } from "../__fixtures__/load.js";
import { fixturePlugins } from "../__fixtures__/plugins.js";

afterEach(removeFixtureProjects);

describe("loadPipeline", () => {
  it("applies built-in defaults to a minimal pipeline", async () => {
    const { pipeline, diagnostics } = await load(VALID);
    expect(diagnostics).toEqual([]);
    expect(pipeline!.config.pipeline).toMatchObject({ dag_id: "shop", schedule: "@daily", retries: 2, timezone: "UTC", load_strategy: "incremental" });
    expect(pipeline!.config.sinks.main).toEqual({ plugin: "duckdb", database: "w.duckdb" });
    expect(pipeline!.config.sources.main!.streams[0]).toEqual({ name: "orders", path: "/orders", target: {} });
    expect(pipeline!.relativeFile).toBe("pipeline.yaml");
    expect(pipeline!.configHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it("merges project defaults below the pipeline file's own values", async () => {
    const project = "defaults:\n  pipeline:\n    owner: analytics\n    retries: 5\n  sink:\n    plugin: duckdb\n    database: shared.duckdb\n";
    const { pipeline } = await load(VALID.replace("start_date: 2026-01-01", "start_date: 2026-01-01\n  retries: 1"), project);
    expect(pipeline!.config.pipeline.owner).toBe("analytics");
    expect(pipeline!.config.pipeline.retries).toBe(1);
    expect(pipeline!.config.sinks.main!.database).toBe("shared.duckdb");
  });

  it("hashes the same config the same way and a changed config differently", async () => {
    const a = await load(VALID);
    const b = await load(`# a comment changes nothing\n${VALID}`);
    const c = await load(VALID.replace("/orders", "/v2/orders"));
    expect(a.pipeline!.configHash).toBe(b.pipeline!.configHash);
    expect(c.pipeline!.configHash).not.toBe(a.pipeline!.configHash);
  });

  it("reports YAML syntax errors with line and column", async () => {
    const { diagnostics } = await load("pipeline:\n  name: [unclosed\n");
    expect(diagnostics[0]).toMatchObject({ code: "XO_CONFIG_YAML_SYNTAX", file: expect.stringContaining("pipeline.yaml"), line: expect.any(Number) });
  });

  it("points at an unknown key and suggests the right one", async () => {
    const { diagnostics } = await load(VALID.replace("start_date:", "shedule: '@hourly'\n  start_date:"));
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]).toMatchObject({ code: "XO_CONFIG_UNKNOWN_KEY", path: "pipeline.shedule", line: 3, column: 3 });
    expect(diagnostics[0]!.hint).toBe('did you mean "schedule"?');
  });

  it("suggests plugin option names in streams", async () => {
    const { diagnostics } = await load(VALID.replace("path: /orders", "path: /orders\n      recordpath: data"));
    expect(diagnostics[0]).toMatchObject({ code: "XO_CONFIG_UNKNOWN_KEY", path: "source.streams[0].recordpath", line: 9 });
    expect(diagnostics[0]!.hint).toContain('"record_path"');
  });

  it("collects every error of a file in one pass", async () => {
    const yaml = `pipeline:
  name: Bad Name
  retries: two
source:
  plugin: api
  streams:
    - name: ../x
      path: /x
    - name: orders
    - name: orders
      path: /o
`;
    const { codes, diagnostics } = await load(yaml);
    expect(codes).toEqual(
      expect.arrayContaining(["XO_CONFIG_UNSAFE_NAME", "XO_CONFIG_INVALID_TYPE", "XO_CONFIG_MISSING_KEY", "XO_CONFIG_DUPLICATE_NAME"]),
    );
    const missingStart = diagnostics.find((d) => d.code === "XO_CONFIG_MISSING_KEY" && d.path === "pipeline.start_date");
    expect(missingStart).toMatchObject({ line: 1 });
    const retries = diagnostics.find((d) => d.path === "pipeline.retries")!;
    expect(retries).toMatchObject({ code: "XO_CONFIG_INVALID_TYPE", line: 3, column: 12 });
    expect(retries.message).toBe('expected a number, found the string "two"');
    const unsafe = diagnostics.filter((d) => d.code === "XO_CONFIG_UNSAFE_NAME").map((d) => d.path);
    expect(unsafe).toEqual(["pipeline.name", "source.streams[0].name"]);
    expect(diagnostics.find((d) => d.code === "XO_CONFIG_DUPLICATE_NAME")).toMatchObject({ path: "source.streams[2].name", line: 10 });
  });

  it("names an unknown plugin with a did-you-mean", async () => {
    const { diagnostics } = await load(VALID.replace("plugin: api", "plugin: apii"));
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]).toMatchObject({ code: "XO_PLUGIN_UNKNOWN", path: "source.plugin", line: 5, column: 11 });
    expect(diagnostics[0]!.hint).toBe('did you mean "api"?');
  });

  it("explains how to install a plugin it has never heard of", async () => {
    const { diagnostics } = await load(VALID.replace("plugin: api", "plugin: gladly"));
    expect(diagnostics[0]!.hint).toContain("npm install @xo-foundry/plugin-gladly");
  });

  it("refuses an alias bomb quickly", async () => {
    const bomb = ["a: &a [x, x, x, x, x, x, x, x, x]"];
    for (let i = 1; i < 10; i++) bomb.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(", ")}]`);
    const started = performance.now();
    const { codes } = await load(`${bomb.join("\n")}\n`);
    expect(codes).toEqual(["XO_CONFIG_ALIAS_LIMIT"]);
    expect(performance.now() - started).toBeLessThan(5_000); // a guard against hanging, not a timing assertion
  });

  it("rejects duplicate keys", async () => {
    const { codes } = await load(VALID.replace("name: shop", "name: shop\n  name: other"));
    expect(codes).toEqual(["XO_CONFIG_YAML_SYNTAX"]);
  });

  it("refuses a non-mapping document", async () => {
    const { codes } = await load("- just\n- a list\n");
    expect(codes).toEqual(["XO_CONFIG_NOT_A_MAPPING"]);
  });

  it("locates errors in values that came from the project file", async () => {
    const { diagnostics } = await load(VALID, "defaults:\n  pipeline:\n    retries: -1\n");
    expect(diagnostics[0]).toMatchObject({ file: expect.stringContaining("xo-foundry.yaml"), path: "pipeline.retries", line: 3 });
  });

  it("validates the timezone and the load strategy", async () => {
    const { diagnostics } = await load(VALID.replace("start_date: 2026-01-01", "start_date: 2026-01-01\n  timezone: Mars/Olympus\n  load_strategy: incremntal"));
    expect(diagnostics.map((d) => d.path)).toEqual(["pipeline.timezone", "pipeline.load_strategy"]);
    expect(diagnostics[1]!.hint).toBe('did you mean "incremental"?');
  });
});

describe("plugin refinements", () => {
  it("applies a plugin's object-level checks after the composed shape, located at the key", async () => {
    const { z } = await import("zod");
    const { definePlugin } = await import("../plugin.js");
    const picky = definePlugin({
      name: "picky",
      version: "1.0.0",
      sources: [
        {
          id: "picky",
          description: "",
          options: z.object({}),
          stream: z
            .object({ kind: z.enum(["a", "b"]), a_only: z.string().optional() })
            .superRefine((s, ctx) => {
              if (s.kind === "a" && s.a_only === undefined) ctx.addIssue({ code: "custom", path: ["a_only"], message: "`a_only` is required for kind: a" });
            }),
          async *extract() {},
        },
      ],
    });
    const fixture = await fixtureProject(
      { "p.yaml": "pipeline:\n  name: p\n  start_date: 2026-01-01\nsource:\n  plugin: picky\n  streams:\n    - name: s\n      kind: a\n" },
      [picky, fixturePlugins()[1]!],
    );
    const { diagnostics } = await fixture.load("p.yaml");
    expect(diagnostics).toEqual([
      expect.objectContaining({ code: "XO_CONFIG_INVALID_VALUE", path: "source.streams[0].a_only", message: "`a_only` is required for kind: a", line: 7, column: 7 }),
    ]);
  });
});
