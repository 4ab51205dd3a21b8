/**
 * A pipeline's `checks:` run by the runtime, as `xo-foundry run` runs them: the graph adds
 * `check_orders` between the extract and the load (`pre_load`) and `check_orders_table`
 * after the load (`post_load`), in the source's task group; a failing `fail` check stops the
 * load, a `warn` check lets it run and leaves its warning in the task's summary.
 * Real: the runtime, the file landing zone, the DuckDB sink and warehouse. The source is a
 * test source that yields the rows its stream entry lists.
 */
import { readFile } from "node:fs/promises";
import { afterEach, beforeEach, expect, test } from "vitest";
import { loadPipeline, openProject, silentLogger, type JsonObject, type ResolvedPipeline } from "@xo-foundry/core";
import { duckdb, duckdbSink, sinkOptions } from "@xo-foundry/plugin-duckdb";
import { consoleLogger, runPipeline, type RunSummary } from "@xo-foundry/runtime";
import { testdir, type TestDir } from "@xo-foundry/testkit";
import { quality } from "./index.js";
import { CLEAN } from "./__fixtures__/orders.js";
import { rowsPlugin } from "./__fixtures__/plugins.js";

function pipelineYaml(rows: readonly JsonObject[], checks: string): string {
  return `pipeline:
  name: shop
  start_date: 2026-01-01
source:
  plugin: rows
  streams:
    - name: orders
      rows: ${JSON.stringify(rows)}
sink:
  plugin: duckdb
  database: warehouse.duckdb
landing:
  uri: file://landing
checks:
  orders:
${checks}`;
}

let dir: TestDir;
beforeEach(async () => {
  dir = await testdir();
});
afterEach(async () => {
  await dir.remove();
});

async function run(yaml: string, logicalDate = "2026-01-15"): Promise<{ summary: RunSummary; lines: string[] }> {
  await dir.write("pipeline.yaml", yaml);
  const project = await openProject(dir.dir, { discover: false, plugins: [duckdb(), quality(), rowsPlugin()] });
  const { pipeline, diagnostics } = await loadPipeline(dir.path("pipeline.yaml"), project);
  expect(diagnostics).toEqual([]);
  const lines: string[] = [];
  const summary = await runPipeline({ pipeline: pipeline as ResolvedPipeline, project, logicalDate, log: consoleLogger({ write: (line) => void lines.push(line) }), env: {} });
  return { summary, lines };
}

function states(summary: RunSummary): Record<string, string> {
  return Object.fromEntries(summary.tasks.map((t) => [t.task, t.state]));
}

async function table(name: string) {
  const warehouse = duckdbSink.warehouse!({ sink: "main", options: sinkOptions.parse({ database: dir.path("warehouse.duckdb") }), connection: undefined, projectDir: dir.dir, log: silentLogger, signal: new AbortController().signal });
  return warehouse.describe(name);
}

test("a failing pre_load check fails its task with XO_CHECK_FAILED, and the load never runs", async () => {
  const rows = [...CLEAN, { ...CLEAN[0]!, id: 5, email: null }];
  const { summary } = await run(pipelineYaml(rows, "    - not_null: [email]\n    - unique: [id]\n      at: post_load\n"));
  expect(summary.ok).toBe(false);
  expect(states(summary)).toEqual({
    "main.extract_orders": "success",
    "main.check_orders": "failed",
    "main.load_orders": "upstream_failed",
    "main.check_orders_table": "upstream_failed",
  });
  const check = summary.tasks.find((t) => t.task === "main.check_orders")!;
  const error = check.error as readonly { code: string; message: string }[];
  expect(error[0]).toMatchObject({ code: "XO_CHECK_FAILED", message: expect.stringContaining("check not_null(email) on stream orders: 1 row with null email") });
  // The summary of a failed check is kept: the counts and the failing row.
  expect(check.outcome?.summary).toMatchObject({ passed: 0, warned: 0, failed: 1, checks: [{ name: "not_null(email)", status: "fail", failing_rows: 1, samples: [{ email: null, id: 5 }] }] });
  expect(await table("orders")).toBeUndefined();
});

test("a warn-only failing check lets the load run; the check task's summary holds the warning", async () => {
  const rows = [...CLEAN, { ...CLEAN[0]!, id: 5, email: null }];
  const schema = "{ columns: { id: integer, email: string, status: string, total: number, created: date, updated_at: timestamp }, allow_new: false }";
  const { summary, lines } = await run(pipelineYaml(rows, `    - not_null: [email]\n      severity: warn\n    - unique: [id]\n      at: post_load\n    - schema: ${schema}\n      at: post_load\n`));
  expect(summary.ok).toBe(true);
  expect(Object.values(states(summary))).toEqual(["success", "success", "success", "success"]);
  const check = summary.tasks.find((t) => t.task === "main.check_orders")!;
  expect(check.outcome?.warnings).toEqual(["check not_null(email) on stream orders: 1 row with null email"]);
  expect(check.outcome?.summary).toMatchObject({ passed: 0, warned: 1, failed: 0 });
  expect(await table("orders")).toMatchObject({ rows: 5 });
  // The post_load check found the table the load reported.
  const after = summary.tasks.find((t) => t.task === "main.check_orders_table")!;
  // The load's own `_xo_*` columns are no drift of the source.
  expect(after.outcome?.summary).toMatchObject({
    passed: 2,
    checks: [
      { name: "unique(id)", at: "post_load", status: "pass" },
      { name: "schema", status: "pass", observed: { missing: [], mismatched: {}, new: [] } },
    ],
  });
  expect((await table("orders"))?.columns.map((c) => c.name)).toContain("_xo_loaded_at");
  expect(lines.join("\n")).toContain("check unique(id) on table main.orders: pass");
});

test("a failing post_load check fails after the load, naming the table", async () => {
  const rows = [...CLEAN, { ...CLEAN[0]! }];
  const { summary } = await run(pipelineYaml(rows, "    - unique: [id]\n      at: post_load\n"));
  expect(states(summary)).toEqual({ "main.extract_orders": "success", "main.load_orders": "success", "main.check_orders_table": "failed" });
  const error = summary.tasks.find((t) => t.task === "main.check_orders_table")!.error as readonly { code: string; message: string }[];
  expect(error[0]).toMatchObject({ code: "XO_CHECK_FAILED", message: expect.stringContaining("check unique(id) on table main.orders: 1 value of id appears more than once, in 2 rows") });
});

test("row_count max_change_pct compares with the count of the last run whose load succeeded", async () => {
  const checks = "    - row_count: { max_change_pct: 50 }\n";
  const first = await run(pipelineYaml(CLEAN, checks), "2026-01-15");
  expect(first.summary.ok).toBe(true);
  const saved = JSON.parse(await readFile(dir.path("landing", "state", "shop", "checks__main__check_orders.json"), "utf8")) as { value: unknown };
  expect(saved.value).toEqual({ rows: 4 });
  const second = await run(pipelineYaml(CLEAN.slice(0, 1), checks), "2026-01-16");
  expect(states(second.summary)["main.check_orders"]).toBe("failed");
  expect(second.summary.tasks.find((t) => t.task === "main.check_orders")!.outcome?.summary).toMatchObject({
    checks: [{ status: "fail", observed: { rows: 1, previous: 4, change_pct: 75 } }],
  });
});
