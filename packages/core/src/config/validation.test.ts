/**
 * Validation accepts only what generation, Airflow and the warehouse accept (issue 8):
 * each rule here used to pass `validate-config` and fail later, or lose data silently.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { fixtureProject, loadFixture as load, PIPELINE as VALID, removeFixtureProjects } from "../__fixtures__/load.js";
import { fixturePlugins } from "../__fixtures__/plugins.js";
import { emitDag } from "../airflow.js";
import { isXoError } from "../errors.js";
import { streamTasks } from "../graph.js";
import { definePlugin, type XoPlugin } from "../plugin.js";
import { compareCodePoints } from "../python.js";
import { crossPipelineDiagnostics } from "./load.js";
import { isSafeRelativePath } from "./schema.js";
import { timeZoneProblem } from "./timezone.js";
import { TZDATA_NAMES, TZDATA_VERSION } from "./tzdata.js";

afterEach(removeFixtureProjects);

const withPipelineKeys = (keys: string) => VALID.replace("start_date: 2026-01-01", `start_date: 2026-01-01\n${keys}`);

describe("pipeline.timezone", () => {
  it("accepts zones and links of the tz database as they are spelled there", async () => {
    for (const tz of ["UTC", "America/New_York", "US/Eastern", "Asia/Kolkata", "Asia/Calcutta", "Europe/Kyiv", "Etc/GMT+5"]) {
      const { diagnostics } = await load(withPipelineKeys(`  timezone: ${tz}`));
      expect(diagnostics, tz).toEqual([]);
    }
  });

  it("refuses a spelling Intl accepts but pendulum does not, and names the right one", async () => {
    const { diagnostics } = await load(withPipelineKeys("  timezone: america/new_york"));
    expect(diagnostics).toEqual([
      expect.objectContaining({ code: "XO_CONFIG_INVALID_VALUE", path: "pipeline.timezone", line: 4, column: 13, hint: 'did you mean "America/New_York"?' }),
    ]);
  });

  it("refuses zones removed from the tz database, pointing at the zone that replaced them", async () => {
    const { diagnostics } = await load(withPipelineKeys("  timezone: US/Pacific-New"));
    expect(diagnostics).toEqual([
      expect.objectContaining({ code: "XO_CONFIG_INVALID_VALUE", path: "pipeline.timezone", line: 4, hint: 'did you mean "America/Los_Angeles"?' }),
    ]);
    expect((await load(withPipelineKeys("  timezone: Factory"))).codes).toEqual(["XO_CONFIG_INVALID_VALUE"]);
  });

  it("suggests the closest zone for a typo", async () => {
    const { diagnostics } = await load(withPipelineKeys("  timezone: Europe/Berln"));
    expect(diagnostics[0]!.hint).toBe('did you mean "Europe/Berlin"?');
  });

  // Real Airflow: the venv that tools/airflow/setup.sh builds (npm test runs it first, so it
  // is always there in CI; without it this test fails rather than passing unchecked).
  const airflowPython = fileURLToPath(new URL("../../../../.venv/airflow3/bin/python", import.meta.url));
  it("agrees with the pendulum and tzdata of the pinned Airflow", () => {
    expect(existsSync(airflowPython), `${airflowPython} is missing: run node tools/setup.mjs`).toBe(true);
    const names = ["UTC", "utc", "US/Eastern", "us/eastern", "america/new_york", "US/Pacific-New", "Europe/Kyiv", "Asia/Calcutta", "Etc/GMT+5", "Mars/Olympus"];
    const script = [
      "import json, sys, pendulum, tzdata",
      "from importlib.resources import files",
      "def ok(n):",
      "    try:",
      "        pendulum.timezone(n)",
      "        return True",
      "    except Exception:",
      "        return False",
      "print(json.dumps({'version': tzdata.IANA_VERSION, 'zones': files('tzdata').joinpath('zones').read_text().split(), 'ok': {n: ok(n) for n in sys.argv[1:]}}))",
    ].join("\n");
    const run = spawnSync(airflowPython, ["-c", script, ...names], { encoding: "utf8" });
    expect(run.status, run.stderr).toBe(0);
    const python = JSON.parse(run.stdout) as { version: string; zones: string[]; ok: Record<string, boolean> };
    expect({ version: TZDATA_VERSION, names: [...TZDATA_NAMES] }).toEqual({ version: python.version, names: [...python.zones].sort(compareCodePoints) });
    expect(Object.fromEntries(names.map((n) => [n, timeZoneProblem(n) === undefined]))).toEqual(python.ok);
  });
});

describe("numbers that reach Python", () => {
  it("bounds retry_delay_minutes, which becomes a datetime.timedelta", async () => {
    const { diagnostics } = await load(withPipelineKeys("  retry_delay_minutes: 1e308"));
    expect(diagnostics).toEqual([expect.objectContaining({ code: "XO_CONFIG_INVALID_VALUE", path: "pipeline.retry_delay_minutes", line: 4, column: 24 })]);
    expect(diagnostics[0]!.message).toContain("at most 10080");
    expect((await load(withPipelineKeys("  retry_delay_minutes: 10080"))).diagnostics).toEqual([]);
  });

  it("bounds max_active_runs and the pod startup timeout", async () => {
    const { diagnostics } = await load(
      `${withPipelineKeys("  max_active_runs: 1e15")}runner:\n  type: kubernetes\n  image: img:1\n  startup_timeout_seconds: 9007199254740991\n`,
    );
    expect(diagnostics.map((d) => [d.code, d.path])).toEqual([
      ["XO_CONFIG_INVALID_VALUE", "pipeline.max_active_runs"],
      ["XO_CONFIG_INVALID_VALUE", "runner.startup_timeout_seconds"],
    ]);
  });

  it("reads a YAML -0 as 0, so the emitter never sees an ambiguous -0", async () => {
    const { pipeline, diagnostics } = await load(withPipelineKeys("  retries: -0"));
    expect(diagnostics).toEqual([]);
    expect(Object.is(pipeline!.config.pipeline.retries, 0)).toBe(true);
    // -0 is 0 everywhere, so a delay of -0.0 is not positive.
    expect((await load(withPipelineKeys("  retry_delay_minutes: -0.0"))).diagnostics.map((d) => d.path)).toEqual(["pipeline.retry_delay_minutes"]);
  });
});

describe("pipeline dates", () => {
  it("refuses a date that does not exist, at its line and column", async () => {
    const { diagnostics } = await load(VALID.replace("2026-01-01", "2026-02-30"));
    expect(diagnostics).toEqual([expect.objectContaining({ code: "XO_CONFIG_INVALID_VALUE", path: "pipeline.start_date", line: 3, column: 15 })]);
    expect(diagnostics[0]!.message).toContain("2026-02-30 is not a date");
  });

  it("refuses an end_date before the start_date, at the end_date", async () => {
    const { diagnostics } = await load(withPipelineKeys("  end_date: 2025-12-31"));
    expect(diagnostics).toEqual([expect.objectContaining({ code: "XO_CONFIG_INVALID_VALUE", path: "pipeline.end_date", line: 4, column: 13 })]);
    expect(diagnostics[0]!.message).toContain("before start_date 2026-01-01");
    expect((await load(withPipelineKeys("  end_date: 2026-01-01"))).diagnostics).toEqual([]);
  });

  it("refuses dates Python's datetime cannot hold in every zone", async () => {
    const { codes } = await load(withPipelineKeys("  end_date: 9999-12-31"));
    expect(codes).toEqual(["XO_CONFIG_INVALID_VALUE"]);
  });
});

describe("landing.uri", () => {
  it("refuses a scheme no installed plugin serves, naming the ones that are installed", async () => {
    const { diagnostics } = await load(`${VALID}landing:\n  uri: gs://bucket/landing\n`);
    expect(diagnostics).toEqual([expect.objectContaining({ code: "XO_PATH_INVALID", path: "landing.uri", line: 10, column: 8 })]);
    expect(diagnostics[0]!.message).toContain("no installed plugin serves gs:// landing zones");
    expect(diagnostics[0]!.hint).toContain("installed: file://");
  });

  it("lists plugin schemes among the installed ones", async () => {
    const s3 = definePlugin({
      name: "fixture-s3",
      version: "1.0.0",
      landings: [{ scheme: "s3", description: "", open: () => ({}) as never }],
    });
    const fixture = await fixtureProject({ "p.yaml": `${VALID}landing:\n  uri: gcs://b\n` }, [...fixturePlugins(), s3]);
    const { diagnostics } = await fixture.load("p.yaml");
    expect(diagnostics[0]!.hint).toContain("installed: file://, s3://");
    await writeFile(path.join(fixture.dir, "ok.yaml"), `${VALID}landing:\n  uri: s3://bucket/prefix\n`);
    expect((await fixture.load("ok.yaml")).diagnostics).toEqual([]);
  });
});

describe("the pipeline file's path", () => {
  it("is checked by the one rule the emitter uses: no part may start with `-`", async () => {
    for (const file of ["-p.yaml", "-dir/p.yaml", "dir/-p.yaml", "../p.yaml", "a b.yaml"]) expect(isSafeRelativePath(file), file).toBe(false);
    for (const file of ["p.yaml", "dir/p-1.yaml", "dir.v2/_p.yaml"]) expect(isSafeRelativePath(file), file).toBe(true);

    const fixture = await fixtureProject({});
    await mkdir(path.join(fixture.dir, "dir"));
    for (const file of ["-p.yaml", "dir/-p.yaml"]) {
      await writeFile(path.join(fixture.dir, file), VALID);
      const { codes, diagnostics } = await fixture.load(file);
      expect(codes, file).toEqual(["XO_CONFIG_UNSAFE_PATH"]);
      expect(diagnostics[0]!.hint).toContain("no part may start with `-`");
    }
  });

  it("is refused by the emitter with the same rule", async () => {
    const { pipeline, project } = await load(VALID);
    const tasks = streamTasks(pipeline!.config, { groupBySource: false });
    for (const relativeFile of ["-p.yaml", "dir/-p.yaml"]) {
      let error: unknown;
      try {
        emitDag({ pipeline: { ...pipeline!, relativeFile }, tasks, airflowVersion: 3, header: [] });
      } catch (e) {
        error = e;
      }
      expect(isXoError(error) && error.code, relativeFile).toBe("XO_CONFIG_UNSAFE_PATH");
    }
    expect(project.registry.template("ingest")).toBeDefined();
  });
});

/** A sink that says where a stream lands: the table (default: the stream name), case-folded. */
function tableSink(): XoPlugin {
  return definePlugin({
    name: "fixture-tables",
    version: "1.0.0",
    sinks: [
      {
        id: "tables",
        description: "",
        options: z.object({ schema: z.string().default("main") }),
        target: z.object({ table: z.string().optional(), mode: z.enum(["append", "replace"]).optional() }),
        targetKey: ({ stream, target, options }: { stream: string; target: { table?: string }; options: { schema: string } }) =>
          `${options.schema}.${target.table ?? stream}`.toLowerCase(),
        load: async () => ({ table: "t", rowsLoaded: 0 }),
      },
    ],
  });
}

const TWO_SINKS = `pipeline:
  name: shop
  start_date: 2026-01-01
template: hybrid
sources:
  shop:
    plugin: api
    sink: wh
    streams:
      - name: orders
        path: /orders
      - name: orders_v2
        path: /v2/orders
        target:
          table: Orders
sinks:
  wh:
    plugin: tables
  copy:
    plugin: tables
`;

describe("two loads into one table", () => {
  const loadWith = async (yaml: string) => {
    const fixture = await fixtureProject({ "p.yaml": yaml }, [...fixturePlugins(), tableSink()]);
    return fixture.load("p.yaml");
  };

  it("is an error at the second stream, whatever the mode, with table names compared as the sink folds them", async () => {
    const { diagnostics } = await loadWith(TWO_SINKS);
    expect(diagnostics).toEqual([
      expect.objectContaining({ code: "XO_SINK_TABLE_COLLISION", path: "sources.shop.streams[1].target", line: 15, column: 11 }),
    ]);
    expect(diagnostics[0]!.message).toBe(
      'stream "orders_v2" loads into main.orders of sink "wh", as stream "orders" does (sources.shop.streams[0])',
    );
    expect(diagnostics[0]!.hint).toContain("set `target.table` of one of them to another table");
  });

  it("is fine in different sinks", async () => {
    const twoSources = TWO_SINKS.replace(
      /  shop:[\s\S]*?(?=sinks:)/,
      `  a:
    plugin: api
    sink: wh
    streams:
      - name: orders
        path: /orders
  b:
    plugin: api
    sink: copy
    streams:
      - name: orders_v2
        path: /v2/orders
        target:
          table: Orders
`,
    );
    expect((await loadWith(twoSources)).diagnostics).toEqual([]);
    expect((await loadWith(TWO_SINKS.replace("table: Orders", "table: orders_2"))).diagnostics).toEqual([]);
  });

  it("counts `load` steps: a copy into another sink is fine, into another stream's table is not", async () => {
    const base = TWO_SINKS.replace("table: Orders", "table: orders_2");
    const copy = `${base}steps:
  - id: copy_orders
    uses: load
    with: { stream: orders, sink: copy }
    after: [shop.extract_orders]
`;
    expect((await loadWith(copy)).diagnostics).toEqual([]);
    const clash = `${base}steps:
  - id: overwrite
    uses: load
    with:
      stream: orders_v2
      sink: wh
      target: { table: ORDERS }
    after: [shop.extract_orders_v2]
`;
    const { diagnostics } = await loadWith(clash);
    expect(diagnostics).toEqual([
      expect.objectContaining({ code: "XO_SINK_TABLE_COLLISION", path: "steps[0].with.target", line: 27, column: 15 }),
    ]);
    expect(diagnostics[0]!.message).toContain('step "overwrite" loads stream "orders_v2" into main.orders of sink "wh", as stream "orders" does');
  });

  it("is not checked for sinks that cannot say where a stream lands", async () => {
    const yaml = `${VALID}    - name: refunds\n      path: /r\n      target:\n        table: orders\n`;
    expect((await load(yaml)).diagnostics).toEqual([]);
  });
});

describe("pipelines validated together", () => {
  it("refuses two pipelines with one name that share a landing zone, at the second name", async () => {
    const fixture = await fixtureProject({
      "a.yaml": VALID,
      "b.yaml": VALID.replace("name: shop", "name: shop\n  dag_id: shop_v2"),
      "c.yaml": `${VALID.replace("name: shop", "name: shop\n  dag_id: shop_elsewhere")}landing:\n  uri: file://other\n`,
    });
    const loads = await Promise.all(["a.yaml", "b.yaml", "c.yaml"].map((f) => fixture.load(f)));
    const diagnostics = crossPipelineDiagnostics(loads.map((l) => ({ ...l, project: fixture.project }))).map((p) => p.diagnostic);
    expect(diagnostics).toEqual([
      expect.objectContaining({ code: "XO_CONFIG_DUPLICATE_NAME", file: expect.stringMatching(/b\.yaml$/), path: "pipeline.name", line: 2, column: 9 }),
    ]);
    expect(diagnostics[0]!.message).toMatch(/pipeline name "shop" is already used at .*a\.yaml:2:9/);
    expect(diagnostics[0]!.hint).toContain("landing paths and saved state");
  });

  it("refuses two pipelines loading into one table of one place, at the second stream", async () => {
    // A sink that says where its tables live (its `file`), so pipelines can be compared.
    const places = definePlugin({
      name: "fixture-places",
      version: "1.0.0",
      sinks: [
        {
          id: "places",
          description: "",
          options: z.object({ file: z.string() }),
          target: z.object({ table: z.string().optional() }),
          targetKey: ({ stream, target }: { stream: string; target: { table?: string } }) => (target.table ?? stream).toLowerCase(),
          location: ({ options }: { options: { file: string } }) => options.file,
          load: async () => ({ table: "t", rowsLoaded: 0 }),
        },
      ],
    });
    const pipelineInto = (name: string, file: string, table: string) =>
      `${VALID.replace("name: shop", `name: ${name}`).replace("      path: /orders", `      path: /orders\n      target: { table: ${table} }`)}sink:\n  plugin: places\n  file: ${file}\n`;
    const fixture = await fixtureProject(
      { "a.yaml": pipelineInto("shop", "w.db", "orders"), "b.yaml": pipelineInto("crm", "w.db", "Orders"), "c.yaml": pipelineInto("erp", "other.db", "orders") },
      [...fixturePlugins(), places],
    );
    const loads = await Promise.all(["a.yaml", "b.yaml", "c.yaml"].map((f) => fixture.load(f)));
    expect(loads.flatMap((l) => l.diagnostics)).toEqual([]);
    const diagnostics = crossPipelineDiagnostics(loads.map((l) => ({ ...l, project: fixture.project }))).map((p) => p.diagnostic);
    expect(diagnostics).toEqual([
      expect.objectContaining({ code: "XO_SINK_TABLE_COLLISION", file: expect.stringMatching(/b\.yaml$/), path: "source.streams[0].target" }),
    ]);
    expect(diagnostics[0]!.message).toMatch(/^stream "orders" of pipeline "crm" loads into orders of sink "main", as stream "orders" of pipeline "shop" does \(.*a\.yaml:\d+:\d+\)$/);
  });

  it("refuses two pipelines with one dag_id, at the second dag_id", async () => {
    const fixture = await fixtureProject({
      "a.yaml": VALID,
      "b.yaml": VALID.replace("name: shop", "name: shop_two\n  dag_id: shop").concat("landing:\n  uri: file://two\n"),
    });
    const loads = await Promise.all(["a.yaml", "b.yaml"].map((f) => fixture.load(f)));
    const diagnostics = crossPipelineDiagnostics(loads.map((l) => ({ ...l, project: fixture.project }))).map((p) => p.diagnostic);
    expect(diagnostics).toEqual([
      expect.objectContaining({ code: "XO_CONFIG_DUPLICATE_NAME", file: expect.stringMatching(/b\.yaml$/), path: "pipeline.dag_id", line: 3, column: 11 }),
    ]);
    expect(diagnostics[0]!.message).toMatch(/dag_id "shop" is already used at .*a\.yaml:2:9/);
  });
});
