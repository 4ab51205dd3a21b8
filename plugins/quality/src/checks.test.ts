/**
 * Every check kind, passing on CLEAN and failing on DIRTY (__fixtures__/orders.ts): before
 * the load on landed NDJSON, CSV and Parquet files (the in-memory DuckDB), and after it on a
 * table of a real DuckDB warehouse file (the duckdb sink's `warehouse` service).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger, type JsonObject, type StepResult, type Warehouse } from "@xo-foundry/core";
import { duckdbSink, sinkOptions } from "@xo-foundry/plugin-duckdb";
import { stepContext, testdir, type TestDir } from "@xo-foundry/testkit";
import { checkStepOptions, qualityCheck } from "./index.js";
import { checksOf, runChecks } from "./__fixtures__/run.js";
import { csv, land, ndjson, parquet, type FileToLand } from "./__fixtures__/landing.js";
import { CHECKS, CLEAN, DIRTY, DIRTY_FAILURES } from "./__fixtures__/orders.js";

let dir: TestDir;
beforeAll(async () => {
  dir = await testdir();
});
afterAll(async () => {
  await dir?.remove();
});

let landings = 0;
async function landed(files: readonly FileToLand[]) {
  return land(dir, "orders", files, `file://${dir.path(`landing-${++landings}`)}`);
}

/** The same expectations, whatever the rows are checked in. */
function expectClean(result: StepResult, at: "pre_load" | "post_load"): void {
  expect(result.failure).toBeUndefined();
  expect(result.warnings).toBeUndefined();
  expect(result.summary).toMatchObject({ passed: CHECKS.length, warned: 0, failed: 0 });
  for (const check of checksOf(result)) expect(check).toMatchObject({ status: "pass", severity: "fail", at });
}

function expectDirty(result: StepResult, label: string): void {
  expect(result.summary).toMatchObject({ passed: 0, warned: 0, failed: CHECKS.length });
  const checks = checksOf(result);
  expect(checks.map((c) => c.name)).toEqual(DIRTY_FAILURES.map((f) => f.name));
  for (const [i, expected] of DIRTY_FAILURES.entries()) {
    expect(checks[i], expected.name).toMatchObject({ status: "fail", ...(expected.failing_rows !== undefined ? { failing_rows: expected.failing_rows } : {}) });
    const line = result.failure!.message.split("\n").find((l) => l.startsWith(`  - ${expected.name}: `));
    expect(line?.slice(`  - ${expected.name}: `.length), expected.name).toMatch(expected.detail);
  }
  expect(result.failure).toMatchObject({ code: "XO_CHECK_FAILED", message: expect.stringContaining(`${CHECKS.length} checks failed on ${label}:`) });
  expect(result.warnings).toBeUndefined();
  // Failing rows come with a few samples; the row-less checks with none.
  expect(checks.find((c) => c.name === "not_null(id, email)")?.samples).toEqual([expect.objectContaining({ id: 7, email: null, status: "lost" })]);
  expect(checks.find((c) => c.name === "unique(id)")?.samples).toEqual([{ id: 7, xo_rows: 2 }]);
  expect(checks.find((c) => c.name === "schema")?.observed).toEqual({ missing: [], mismatched: {}, new: ["coupon"] });
  expect(checks.find((c) => c.name === "row_count")?.samples).toBeUndefined();
}

describe.each([
  { format: "ndjson" as const, body: async (rows: readonly JsonObject[]) => ndjson(rows) },
  { format: "csv" as const, body: async (rows: readonly JsonObject[]) => csv(rows) },
  { format: "parquet" as const, body: (rows: readonly JsonObject[]) => parquet(dir, rows) },
])("pre_load on landed $format files", ({ format, body }) => {
  it("passes every kind of check on clean rows, and logs one line per check", async () => {
    const { landing, upstream, partition } = await landed([{ name: `part-00000.${format}`, format, body: await body(CLEAN) }]);
    const { result, log } = await runChecks({ stream: "orders", checks: CHECKS }, { landing, upstream, projectDir: dir.dir });
    expectClean(result, "pre_load");
    expect(result.reads).toEqual([{ uri: partition }]);
    expect(checksOf(result)[0]).toMatchObject({ name: "row_count", observed: 4, expected: "between 3 and 1000 rows" });
    expect(log.infos.filter((l) => l.startsWith("check "))).toHaveLength(CHECKS.length);
    expect(log.infos).toContain("check not_null(id, email) on stream orders: pass (no null in id, email)");
  });

  it("fails every kind of check on dirty rows, naming each with what it found", async () => {
    const { landing, upstream } = await landed([{ name: `part-00000.${format}`, format, body: await body(DIRTY) }]);
    const { result, log } = await runChecks({ stream: "orders", checks: CHECKS }, { landing, upstream, projectDir: dir.dir });
    expectDirty(result, "stream orders");
    expect(log.warnings).toContain("check unique(id) on stream orders: fail (1 value of id appears more than once, in 2 rows)");
  });
});

describe("pre_load files", () => {
  it("joins files of several formats and shapes by column name", async () => {
    const { landing, upstream } = await landed([
      { name: "part-00000.ndjson", format: "ndjson", body: ndjson(CLEAN.slice(0, 2)) },
      { name: "part-00001.ndjson", format: "ndjson", body: ndjson(CLEAN.slice(2, 3).map(({ total: _t, ...r }) => r)) },
      { name: "extra[1].csv", format: "csv", body: csv(CLEAN.slice(3)) },
    ]);
    const { result } = await runChecks(
      { stream: "orders", checks: [{ row_count: { min: 4, max: 4 } }, { not_null: ["total"] }, { unique: ["id"] }] },
      { landing, upstream, projectDir: dir.dir },
    );
    expect(checksOf(result).map((c) => [c.name, c.status, c.observed])).toEqual([
      ["row_count", "pass", 4],
      ["not_null(total)", "fail", 1],
      ["unique(id)", "pass", 0],
    ]);
    expect(checksOf(result)[1]!.samples).toEqual([expect.objectContaining({ total: null, id: 3 })]);
  });

  it("counts no rows when the extract landed only empty files; column checks have nothing to check, freshness fails", async () => {
    const { landing, upstream } = await landed([{ name: "part-00000.ndjson", format: "ndjson", body: "" }]);
    const { result } = await runChecks(
      { stream: "orders", checks: [{ row_count: { min: 1 } }, { not_null: ["email"] }, { freshness: { column: "updated_at", max_age_hours: 24 } }] },
      { landing, upstream, projectDir: dir.dir },
    );
    expect(checksOf(result).map((c) => [c.name, c.status, c.observed])).toEqual([
      ["row_count", "fail", 0],
      ["not_null(email)", "pass", "no rows landed"],
      ["freshness(updated_at)", "fail", { newest: null, age_hours: null }],
    ]);
  });

  it("finds the date's partition without an extract summary, as the load would", async () => {
    const { landing } = await landed([{ name: "part-00000.ndjson", format: "ndjson", body: ndjson(CLEAN) }]);
    const { result } = await runChecks({ stream: "orders", checks: [{ row_count: { min: 4 } }] }, { landing, upstream: {}, projectDir: dir.dir });
    expect(checksOf(result)[0]).toMatchObject({ status: "pass", observed: 4 });
  });

  it("fails with XO_CHECK_NO_FILES when nothing of the stream landed for the date", async () => {
    const { landing } = await landed([{ name: "part-00000.ndjson", format: "ndjson", body: ndjson(CLEAN) }]);
    const error = await qualityCheck
      .run(stepContext({ options: checkStepOptions.parse({ stream: "customers", checks: [{ row_count: { min: 1 } }] }), landing, projectDir: dir.dir }))
      .catch((e: unknown) => e as Error & { code?: string });
    expect(error).toMatchObject({ code: "XO_CHECK_NO_FILES", message: expect.stringContaining("no landed files of stream customers") });
  });

  it("fails with XO_CHECK_FILES_UNREADABLE naming DuckDB's reason when a file is damaged", async () => {
    const { landing, upstream } = await landed([{ name: "part-00000.parquet", format: "parquet", body: "this is not parquet" }]);
    const error = await runChecks({ stream: "orders", checks: [{ row_count: { min: 1 } }] }, { landing, upstream, projectDir: dir.dir }).catch((e: unknown) => e as Error & { code?: string });
    expect(error).toMatchObject({ code: "XO_CHECK_FILES_UNREADABLE", message: expect.stringMatching(/could not read the landed files of stream orders .*: .*parquet/i) });
    expect((error as Error).message).not.toMatch(/\n\s+at /);
  });
});

describe("post_load on a DuckDB warehouse", () => {
  let warehouse: Warehouse;
  beforeAll(async () => {
    const clean = await dir.write("tables/clean.ndjson", ndjson(CLEAN));
    const dirty = await dir.write("tables/dirty.ndjson", ndjson(DIRTY));
    warehouse = duckdbSink.warehouse!({
      sink: "main",
      options: sinkOptions.parse({ database: dir.path("warehouse.duckdb") }),
      connection: undefined,
      projectDir: dir.dir,
      log: silentLogger,
      signal: new AbortController().signal,
    });
    await warehouse.execute([
      "create schema analytics",
      `create table analytics.orders_clean as select * from read_json('${clean}')`,
      `create table main.orders as select * from read_json('${dirty}')`,
    ]);
  });

  it("passes every kind of check on a clean table named by `table`", async () => {
    const { result, log } = await runChecks({ table: "analytics.orders_clean", at: "post_load", checks: CHECKS.map((c) => ({ ...c, at: "post_load" })) }, { warehouses: { main: warehouse } });
    expectClean(result, "post_load");
    expect(log.infos).toContain("check regex(email) on table analytics.orders_clean: pass (0 rows with email not matching [^@\\s]+@[^@\\s]+\\.[a-z]+)");
  });

  it("fails every kind of check on the table a stream's load reported", async () => {
    const load = { task: "load_orders", step: "load", state: "success" as const, summary: { table: "main.orders", rowsLoaded: 2 }, reads: [], writes: [{ uri: "duckdb:///warehouse.duckdb#main.orders" }] };
    const { result } = await runChecks(
      { stream: "orders", sink: "main", at: "post_load", checks: CHECKS },
      { warehouses: { main: warehouse }, upstream: { extract_orders: { ...load, task: "extract_orders", step: "extract", summary: {} }, load_orders: load }, after: ["load_orders"] },
    );
    expectDirty(result, "table main.orders");
    expect(result.reads).toEqual([{ uri: "duckdb:///warehouse.duckdb#main.orders" }]);
  });

  it("fails with XO_CHECK_NO_TABLE when the table is not there", async () => {
    const error = await runChecks({ table: "analytics.nope", at: "post_load", checks: [{ row_count: { min: 1 } }] }, { warehouses: { main: warehouse } }).catch((e: unknown) => e as Error & { code?: string });
    expect(error).toMatchObject({ code: "XO_CHECK_NO_TABLE", message: expect.stringContaining("table analytics.nope does not exist") });
  });
});
