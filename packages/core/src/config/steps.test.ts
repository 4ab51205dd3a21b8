import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { fixtureProject, removeFixtureProjects } from "../__fixtures__/load.js";
import { fixturePlugins } from "../__fixtures__/plugins.js";
import { definePlugin } from "../plugin.js";

afterEach(removeFixtureProjects);

const HYBRID = `pipeline:
  name: shop
  start_date: 2026-01-01
template: hybrid
sources:
  api:
    plugin: api
    sink: warehouse
    streams:
      - name: orders
        path: /orders
  files:
    plugin: api
    sink: warehouse
    streams:
      - name: rates
        path: /rates
sinks:
  warehouse:
    plugin: duckdb
  archive:
    plugin: duckdb
    database: archive.duckdb
`;

async function load(yaml: string, projectFile?: string) {
  const { load } = await fixtureProject({ "pipeline.yaml": yaml, ...(projectFile ? { "xo-foundry.yaml": projectFile } : {}) });
  return load("pipeline.yaml");
}

const at = (d: { code: string; path?: string; line?: number; column?: number; message: string }) => `${d.code} ${d.path}@${d.line}:${d.column} ${d.message}`;

describe("named sources and sinks", () => {
  it("normalizes the shorthands to `main` and keeps named blocks as written", async () => {
    const { pipeline, diagnostics } = await load(HYBRID);
    expect(diagnostics).toEqual([]);
    expect(Object.keys(pipeline!.config.sources)).toEqual(["api", "files"]);
    expect(pipeline!.config.sinks).toEqual({ warehouse: { plugin: "duckdb", database: "w.duckdb" }, archive: { plugin: "duckdb", database: "archive.duckdb" } });
    expect(pipeline!.config.steps).toEqual([]);
  });

  it("applies the project's sink defaults to every named sink of that plugin", async () => {
    const { pipeline } = await load(HYBRID, "defaults:\n  sink:\n    plugin: duckdb\n    database: shared.duckdb\n");
    expect(pipeline!.config.sinks.warehouse).toEqual({ plugin: "duckdb", database: "shared.duckdb" });
    expect(pipeline!.config.sinks.archive).toEqual({ plugin: "duckdb", database: "archive.duckdb" });
  });

  it("refuses a shorthand next to its named form, a source without its sink, and a stream name used twice", async () => {
    const yaml = HYBRID.replace("    sink: warehouse\n    streams:\n      - name: rates\n        path: /rates", "    streams:\n      - name: orders\n        path: /rates").concat(
      "source:\n  plugin: api\n  streams:\n    - name: x\n      path: /x\n",
    );
    const { diagnostics } = await load(yaml);
    expect(diagnostics.map(at)).toEqual([
      'XO_CONFIG_CONFLICT sources@5:1 `source` and `sources` cannot both be set',
      'XO_SINK_AMBIGUOUS source@24:3 source "main" does not say which sink its streams load into',
    ]);
    const two = await load(HYBRID.replace("    sink: warehouse\n    streams:\n      - name: rates", "    streams:\n      - name: orders"));
    expect(two.diagnostics.map(at)).toEqual([
      'XO_SINK_AMBIGUOUS sources.files@13:5 source "files" does not say which sink its streams load into',
      'XO_CONFIG_DUPLICATE_NAME sources.files.streams[0].name@15:15 stream name "orders" is already used at sources.api.streams[0].name',
    ]);
  });

  it("names a sink that does not exist, with a suggestion", async () => {
    const { diagnostics } = await load(HYBRID.replace("sink: warehouse\n    streams:\n      - name: orders", "sink: warehose\n    streams:\n      - name: orders"));
    expect(diagnostics).toEqual([expect.objectContaining({ code: "XO_CONFIG_INVALID_VALUE", path: "sources.api.sink", line: 8, hint: 'did you mean "warehouse"?' })]);
  });

  it("lets the template refuse a shape it cannot build", async () => {
    const { diagnostics } = await load(HYBRID.replace("template: hybrid", "template: ingest"));
    expect(diagnostics).toEqual([
      expect.objectContaining({ code: "XO_TEMPLATE_SHAPE", path: "sources", line: 6, message: 'the "ingest" template cannot build this pipeline: it takes one source' }),
    ]);
  });
});

describe("connections that plugins require", () => {
  it("are checked for sources, sinks and landing zones, naming the plugin", async () => {
    const strict = definePlugin({
      name: "@acme/strict",
      version: "1.0.0",
      sources: [{ id: "locked", description: "", connection: "required", options: z.object({}), stream: z.object({}), async *extract() {} }],
      sinks: [{ id: "vault", description: "", connection: "required", options: z.object({}), target: z.object({}), load: async () => ({ table: "t", rowsLoaded: 0 }) }],
      landings: [{ scheme: "safe", description: "", connection: "required", open: () => ({}) as never }],
    });
    const { load } = await fixtureProject(
      {
        "pipeline.yaml":
          "pipeline:\n  name: p\n  start_date: 2026-01-01\nsource:\n  plugin: locked\n  streams:\n    - name: s\nsink:\n  plugin: vault\nlanding:\n  uri: safe://box/prefix\n",
      },
      [...fixturePlugins(), strict],
    );
    const { diagnostics } = await load("pipeline.yaml");
    expect(diagnostics.map((d) => `${d.code} ${d.path}@${d.line} ${d.message}`)).toEqual([
      "XO_CONNECTION_REQUIRED sink@9 the sink needs a connection (@acme/strict requires one)",
      "XO_CONNECTION_REQUIRED source@5 the source needs a connection (@acme/strict requires one)",
      "XO_CONNECTION_REQUIRED landing@11 landing zone safe://box/prefix needs a connection (@acme/strict requires one)",
    ]);
  });
});

describe("steps", () => {
  const withSteps = (steps: string) => `${HYBRID}steps:\n${steps}`;

  it("refuses two steps that deliver to one place, as their step type names it", async () => {
    const drop = definePlugin({
      name: "@acme/drop",
      version: "1.0.0",
      steps: [
        {
          id: "drop.put",
          description: "",
          connection: "required",
          options: z.object({ folder: z.string(), name: z.string().default("{name}") }),
          destination: ({ options, connection }) => `drop://${connection}/${(options as { folder: string }).folder}/${(options as { name: string }).name}`,
          run: async () => ({}),
        },
      ],
    });
    const { load } = await fixtureProject(
      {
        "pipeline.yaml": withSteps(
          [
            "  - { id: first, uses: drop.put, connection: partner, with: { folder: in } }",
            "  - { id: other_folder, uses: drop.put, connection: partner, with: { folder: out } }",
            "  - { id: other_server, uses: drop.put, connection: backup, with: { folder: in } }",
            "  - { id: again, uses: drop.put, connection: partner, with: { folder: in, name: '{name}' } }",
          ].join("\n") + "\n",
        ),
      },
      [...fixturePlugins(), drop],
    );
    const { diagnostics } = await load("pipeline.yaml");
    expect(diagnostics.map(at)).toEqual([
      "XO_STEP_DESTINATION_COLLISION steps[3].with@28:61 step \"again\" delivers to drop://partner/in/{name}, as step \"first\" does (steps[0])",
    ]);
  });

  it("place plugin steps and built-in loads in the graph by their after globs", async () => {
    const { pipeline, diagnostics } = await load(
      withSteps(`  - id: summary
    uses: fixture.note
    description: After every load.
    with: { message: hi }
    after: ["*.load_*"]
    trigger_rule: none_failed
    pool: sql
  - id: archive_orders
    uses: load
    with: { stream: orders, sink: archive, target: { table: orders_copy } }
    after: [summary, api.extract_orders]
    when:
      weekday: [mon, fri]
      summary: [{ task: summary, field: rows, op: ">", value: 0 }]
`),
    );
    expect(diagnostics).toEqual([]);
    expect(pipeline!.config.steps[0]).toEqual({
      id: "summary",
      uses: "fixture.note",
      description: "After every load.",
      with: { message: "hi" },
      after: ["*.load_*"],
      trigger_rule: "none_failed",
      pool: "sql",
    });
  });

  it("report every problem with its line: unknown step, unknown option, missing option, bad rule, bad weekday", async () => {
    const { diagnostics } = await load(
      withSteps(`  - id: a
    uses: fixture.nte
  - id: b
    uses: fixture.note
    with: { mesage: hi }
  - id: c
    uses: fixture.note
    with: { message: hi }
    trigger_rule: all_succes
    when: { weekday: [monday] }
  - id: d
    uses: fixture.remote
`),
    );
    expect(diagnostics.map((d) => `${d.code} ${d.path}@${d.line} ${d.hint ?? ""}`)).toEqual([
      'XO_CONFIG_INVALID_VALUE steps[2].trigger_rule@33 did you mean "all_success"?',
      "XO_CONFIG_INVALID_VALUE steps[2].when.weekday[0]@34 see the config reference in docs/config.md",
      'XO_PLUGIN_UNKNOWN steps[0].uses@26 did you mean "fixture.note"?',
      "XO_CONFIG_MISSING_KEY steps[1].with.message@29 add `message:` with a string",
      'XO_CONFIG_UNKNOWN_KEY steps[1].with.mesage@29 did you mean "message"?',
      "XO_CONNECTION_REQUIRED steps[3]@35 add `connection: <id>` and define it (XO_CONN_<ID> locally, an Airflow connection in Airflow)",
    ]);
  });

  it("check the graph: duplicate ids, globs that match nothing, cycles", async () => {
    const dup = await load(withSteps("  - id: a\n    uses: fixture.note\n    with: { message: x }\n  - id: a\n    uses: fixture.note\n    with: { message: y }\n"));
    expect(dup.diagnostics.map(at)).toEqual(['XO_CONFIG_DUPLICATE_NAME steps[1].id@28:9 task id "a" is already used at steps[0].id']);

    const unmatched = await load(withSteps("  - id: a\n    uses: fixture.note\n    with: { message: x }\n    after: [load_*]\n"));
    expect(unmatched.diagnostics).toEqual([expect.objectContaining({ code: "XO_GRAPH_UNMATCHED", path: "steps[0].after[0]", line: 28, message: '"load_*" matches no task' })]);
    expect(unmatched.diagnostics[0]!.hint).toContain('"api.load_orders"');

    const cycle = await load(
      withSteps("  - id: a\n    uses: fixture.note\n    with: { message: x }\n    after: [b]\n  - id: b\n    uses: fixture.note\n    with: { message: y }\n    after: [a]\n"),
    );
    expect(cycle.diagnostics).toEqual([expect.objectContaining({ code: "XO_GRAPH_CYCLE", message: "tasks depend on each other in a cycle: a -> b -> a" })]);
  });

  it("need the tasks they depend on upstream: a load after its stream's extract, a condition after the task it reads", async () => {
    const { diagnostics } = await load(
      withSteps(`  - id: early_copy
    uses: load
    with: { stream: orders, sink: archive }
  - id: peek
    uses: fixture.note
    with: { message: x }
    when:
      summary: [{ task: api.load_orders, field: rowsLoaded, op: ">", value: 0 }]
`),
    );
    expect(diagnostics.map(at)).toEqual([
      'XO_GRAPH_NOT_UPSTREAM steps[0].after@25:5 task "early_copy" does not run after "api.extract_orders": it loads stream "orders", which that task lands',
      'XO_GRAPH_NOT_UPSTREAM steps[1].when.summary[0].task@32:25 task "peek" does not run after "api.load_orders": its `when:` reads that task\'s summary',
    ]);
  });

  it("may not extract a stream the template already extracts: both would write its landing partition", async () => {
    const { diagnostics } = await load(withSteps("  - id: again\n    uses: extract\n    with: { source: api, stream: orders }\n"));
    expect(diagnostics.map(at)).toEqual([
      'XO_CONFIG_DUPLICATE_NAME steps[0].with.stream@27:34 extract of stream "orders" is already used at task api.extract_orders',
    ]);
  });

  it("refer to streams and sinks that exist", async () => {
    const { diagnostics } = await load(withSteps("  - id: copy\n    uses: load\n    with: { stream: order, sink: archiv }\n    after: [\"*\"]\n"));
    expect(diagnostics.map((d) => `${d.code} ${d.path} ${d.hint}`)).toEqual([
      'XO_CONFIG_INVALID_VALUE steps[0].with.sink did you mean "archive"?',
      'XO_CONFIG_INVALID_VALUE steps[0].with.stream did you mean "orders"?',
    ]);
  });
});
