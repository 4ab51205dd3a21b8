/**
 * How `quality.check` reports: severities, checks that cannot run, the row-count baseline in
 * the state store, samples that never show a secret, and the options it refuses. Real DuckDB
 * over landed NDJSON throughout.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { clearSecrets, registerSecret, type JsonObject } from "@xo-foundry/core";
import { memoryStateStore, stepContext, testdir, type TestDir } from "@xo-foundry/testkit";
import { checkStepOptions, qualityCheck } from "./index.js";
import { land, ndjson } from "./__fixtures__/landing.js";
import { CLEAN } from "./__fixtures__/orders.js";
import { checksOf, runChecks } from "./__fixtures__/run.js";

let dir: TestDir;
beforeAll(async () => {
  dir = await testdir();
});
afterAll(async () => {
  await dir?.remove();
});
afterEach(() => clearSecrets());

let landings = 0;
async function landRows(rows: readonly JsonObject[]) {
  return land(dir, "orders", [{ name: "part-00000.ndjson", format: "ndjson", body: ndjson(rows) }], `file://${dir.path(`landing-${++landings}`)}`);
}

describe("severity", () => {
  it("turns a `warn` check that does not hold into a warning line, and the task succeeds", async () => {
    const env = { ...(await landRows([...CLEAN, { ...CLEAN[0]!, id: 5, email: null }, { ...CLEAN[0]!, id: 6, email: null }])), projectDir: dir.dir };
    const { result } = await runChecks({ stream: "orders", checks: [{ not_null: ["email"], severity: "warn" }, { unique: ["id"] }] }, env);
    expect(result.failure).toBeUndefined();
    expect(result.warnings).toEqual(["check not_null(email) on stream orders: 2 rows with null email"]);
    expect(result.summary).toMatchObject({ passed: 1, warned: 1, failed: 0 });
    expect(checksOf(result)[0]).toMatchObject({ status: "warn", severity: "warn", failing_rows: 2, observed: 2 });
  });

  it("fails the task with XO_CHECK_FAILED for a `fail` check, listing only it, and keeps warnings of the others", async () => {
    const env = { ...(await landRows([...CLEAN, { ...CLEAN[0]!, status: "lost" }])), projectDir: dir.dir };
    const { result } = await runChecks(
      { stream: "orders", checks: [{ unique: ["id"], name: "order_ids" }, { accepted_values: { column: "status", values: ["open", "closed", "refunded"] }, severity: "warn" }] },
      env,
    );
    expect(result.failure).toEqual({ code: "XO_CHECK_FAILED", message: "check order_ids on stream orders: 1 value of id appears more than once, in 2 rows" });
    expect(result.warnings).toEqual(['check accepted_values(status) on stream orders: 1 row with status not in ["open", "closed", "refunded"]']);
    expect(result.state).toBeUndefined();
  });
});

describe("a check that cannot run", () => {
  it("fails, whatever its severity, naming the check and the column with the columns there are", async () => {
    const env = { ...(await landRows(CLEAN)), projectDir: dir.dir };
    const { result, log } = await runChecks({ stream: "orders", checks: [{ not_null: ["e_mail"], severity: "warn" }, { row_count: { min: 1 } }] }, env);
    expect(result.summary).toMatchObject({ passed: 1, warned: 0, failed: 1 });
    expect(result.failure?.message).toBe(
      'check not_null(e_mail) on stream orders: stream orders has no column "e_mail"; its columns are id, email, status, total, created, updated_at',
    );
    expect(checksOf(result)[0]).toMatchObject({ status: "fail", observed: { error: expect.stringContaining('no column "e_mail"') } });
    expect(log.warnings[0]).toMatch(/^check not_null\(e_mail\) on stream orders: fail \(/);
  });

  it("fails with the engine's own words for SQL it refuses, without a stack trace, and runs the other checks", async () => {
    const env = { ...(await landRows(CLEAN)), projectDir: dir.dir };
    const { result } = await runChecks({ stream: "orders", checks: [{ sql: "select * form {table}" }, { sql: "select nope from {table}" }, { unique: ["id"] }] }, env);
    const [syntax, binder, unique] = checksOf(result);
    expect(syntax).toMatchObject({ status: "fail", observed: { error: expect.stringMatching(/^it could not run: Parser Error: syntax error/) } });
    expect(binder).toMatchObject({ status: "fail", observed: { error: expect.stringMatching(/^it could not run: Binder Error: .*nope/) } });
    expect(unique).toMatchObject({ status: "pass" });
    expect(result.failure?.message).toMatch(/^2 checks failed on stream orders:\n {2}- sql: it could not run: Parser Error.*\n {2}- sql #2: it could not run: Binder Error/);
    expect(result.failure?.message).not.toMatch(/\n\s+at /);
  });

  it("says so when range bounds are of different kinds, or a column of the wrong type is ranged", async () => {
    const env = { ...(await landRows(CLEAN)), projectDir: dir.dir };
    const { result } = await runChecks(
      { stream: "orders", checks: [{ range: { column: "total", min: 0, max: "2026-01-01" } }, { range: { column: "created", min: 0 } }, { freshness: { column: "total", max_age_hours: 1 } }] },
      env,
    );
    expect(checksOf(result).map((c) => (c.observed as { error: string }).error)).toEqual([
      'the bounds 0 and "2026-01-01" are not both numbers or both dates as YYYY-MM-DD',
      "column created is DATE; a range of numbers needs a number column (or text holding numbers)",
      "column total is DOUBLE; freshness needs a date or timestamp column (or ISO 8601 text)",
    ]);
  });
});

describe("row_count max_change_pct", () => {
  const checks = [{ row_count: { max_change_pct: 20 } }];
  const key = "checks__shop__check_orders";

  it("passes the first run, saying there is no baseline, and stages the count under the task's state key", async () => {
    const env = { ...(await landRows(CLEAN)), projectDir: dir.dir, taskId: "shop.check_orders", state: memoryStateStore() };
    const { result } = await runChecks({ stream: "orders", checks }, env);
    expect(checksOf(result)[0]).toMatchObject({ status: "pass", observed: { rows: 4, previous: null, change_pct: null } });
    expect(result.state).toEqual({ [key]: { rows: 4 } });
  });

  it("compares with the last successful run's count", async () => {
    const env = { ...(await landRows(CLEAN)), projectDir: dir.dir, taskId: "shop.check_orders" };
    const near = await runChecks({ stream: "orders", checks }, { ...env, state: memoryStateStore({ [key]: { rows: 5 } }) });
    expect(checksOf(near.result)[0]).toMatchObject({ status: "pass", observed: { rows: 4, previous: 5, change_pct: 20 } });
    const far = await runChecks({ stream: "orders", checks }, { ...env, state: memoryStateStore({ [key]: { rows: 10 } }) });
    expect(checksOf(far.result)[0]).toMatchObject({ status: "fail", observed: { rows: 4, previous: 10, change_pct: 60 } });
    expect(far.result.failure?.message).toBe("check row_count on stream orders: 4 rows (last successful run: 10), 60% down from 10, over 20%");
    // A failed run's count is no baseline.
    expect(far.result.state).toBeUndefined();
    const fromNothing = await runChecks({ stream: "orders", checks }, { ...env, state: memoryStateStore({ [key]: { rows: 0 } }) });
    expect(checksOf(fromNothing.result)[0]).toMatchObject({ status: "fail", observed: { rows: 4, previous: 0, change_pct: null } });
  });
});

describe("samples", () => {
  it("show at most 5 rows of at most 10 columns, cut long text, and mask secret-looking values", async () => {
    const secret = "correct-horse-battery-staple-42";
    registerSecret(secret);
    const wide = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`c${i}`, i]));
    const rows = Array.from({ length: 7 }, (_, i) => ({
      id: i,
      status: "lost",
      note: i === 0 ? "x".repeat(200) : i === 1 ? `the key is ${secret}` : i === 2 ? "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl" : "fine",
      api_key: "abc",
      ...wide,
    }));
    const env = { ...(await landRows(rows)), projectDir: dir.dir };
    const { result } = await runChecks({ stream: "orders", checks: [{ accepted_values: { column: "status", values: ["open"] } }] }, env);
    const check = checksOf(result)[0]!;
    expect(check.failing_rows).toBe(7);
    expect(check.samples).toHaveLength(5);
    for (const sample of check.samples!) {
      expect(Object.keys(sample)).toHaveLength(10);
      expect(Object.keys(sample)[0]).toBe("status");
      expect(sample.api_key).toBe("***");
    }
    expect(check.samples![0]!.note).toBe(`${"x".repeat(63)}…`);
    expect(check.samples![1]!.note).toBe("the key is ***");
    expect(check.samples![2]!.note).toBe("***");
    expect(JSON.stringify(result)).not.toContain(secret);
  });

  it("sample the first rows of a `sql` check and count the rest in the engine", async () => {
    const rows = Array.from({ length: 40 }, (_, i) => ({ id: i, status: i % 2 ? "open" : "closed" }));
    const env = { ...(await landRows(rows)), projectDir: dir.dir };
    const { result } = await runChecks({ stream: "orders", checks: [{ sql: "select id from {table} where status = 'open' order by id;" }] }, env);
    expect(checksOf(result)[0]).toMatchObject({ failing_rows: 20, observed: 20, samples: [{ id: 1 }, { id: 3 }, { id: 5 }, { id: 7 }, { id: 9 }] });
  });
});

describe("names", () => {
  it("checks columns whose names need quoting, with `{table}` the landed view", async () => {
    const env = { ...(await landRows([{ 'we"ird name': null, "select": 1 }, { 'we"ird name': "x", "select": 1 }])), projectDir: dir.dir };
    const { result } = await runChecks({ stream: "orders", checks: [{ not_null: ['we"ird name'] }, { unique: ["select"] }, { sql: 'select * from {table} where "select" > 1' }] }, env);
    expect(checksOf(result).map((c) => [c.status, c.failing_rows])).toEqual([
      ["fail", 1],
      ["fail", 2],
      ["pass", 0],
    ]);
  });
});

describe("options", () => {
  const refusal = (options: Record<string, unknown>) => checkStepOptions.safeParse(options).error?.issues.map((i) => `${i.path.join(".")}: ${i.message}`);

  it("takes what the graph writes and what a user writes for a table", () => {
    expect(checkStepOptions.parse({ stream: "orders", at: "pre_load", checks: [{ not_null: ["id"], severity: "fail" }] })).toMatchObject({ stream: "orders", at: "pre_load" });
    expect(checkStepOptions.parse({ stream: "orders", sink: "main", at: "post_load", checks: [{ unique: ["id"], at: "post_load" }] })).toMatchObject({ at: "post_load" });
    expect(checkStepOptions.parse({ table: "analytics.daily_orders", at: "post_load", checks: [{ row_count: { min: 1 } }] }).checks[0]).toEqual({ row_count: { min: 1 }, severity: "fail" });
  });

  it("refuses a phase without what it reads, both `stream` and `table`, and a check of the other phase", () => {
    expect(refusal({ checks: [{ row_count: { min: 1 } }] })).toEqual(["stream: `pre_load` checks run on a stream's landed files: name the `stream` (or check a `table` with `at: post_load`)"]);
    expect(refusal({ at: "post_load", checks: [{ row_count: { min: 1 } }] })).toEqual(["table: `post_load` checks need a `stream` or a `table`"]);
    expect(refusal({ stream: "orders", table: "t", at: "post_load", checks: [{ row_count: { min: 1 } }] })).toEqual(["table: give `stream` or `table`, not both"]);
    expect(refusal({ stream: "orders", sink: "main", checks: [{ row_count: { min: 1 } }] })).toEqual(["sink: `sink` is for `post_load` checks; `pre_load` checks read the landed files"]);
    expect(refusal({ table: "t", at: "post_load", checks: [{ row_count: { min: 1 }, at: "pre_load" }] })).toEqual(["checks.0.at: this check says `at: pre_load`, but the step runs `at: post_load`"]);
    expect(refusal({ stream: "orders", checks: [] })?.[0]).toMatch(/^checks: /);
  });
});

it("stops with the abort reason when the task is cancelled between checks", async () => {
  const env = { ...(await landRows(CLEAN)), projectDir: dir.dir };
  const controller = new AbortController();
  const reason = new Error("cancelled");
  const options = checkStepOptions.parse({ stream: "orders", checks: [{ row_count: { min: 1 } }, { unique: ["id"] }] });
  const ctx = stepContext({ ...env, options, signal: controller.signal });
  const log = { ...ctx.log, info: (line: string) => (line.startsWith("check row_count") ? controller.abort(reason) : undefined) };
  await expect(qualityCheck.run({ ...ctx, log })).rejects.toBe(reason);
});
