/**
 * `post_load` checks on a Snowflake warehouse: the snowflake sink's `warehouse` service
 * (snowflake-sdk, real) against the stand-in of __fixtures__/snowflake.ts (the REST protocol
 * emulated, the SQL run by fakesnow). The tables are created as the Snowflake sink's loads
 * create them: upper-cased names, Snowflake types. Each check kind but row_count and
 * freshness (which are plain aggregates) passes on the clean table and fails on the dirty one.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clearSecrets, silentLogger, type Warehouse } from "@xo-foundry/core";
import { snowflake } from "@xo-foundry/plugin-snowflake";
import { startSnowflake, snowflakeConnection, type SnowflakeStandIn } from "./__fixtures__/snowflake.js";
import { checksOf, runChecks } from "./__fixtures__/run.js";

const PASSWORD = "quality-Secret-77";
const sink = snowflake().sinks![0]!;
let service: SnowflakeStandIn;
let warehouse: Warehouse;

const CHECKS = [
  { not_null: ["id", "email"] },
  { unique: ["id"] },
  { accepted_values: { column: "status", values: ["open", "closed", "refunded"] } },
  { regex: { column: "email", pattern: "[^@ ]+@[^@ ]+[.][a-z]+" } },
  { range: { column: "total", min: 0, max: 1000 } },
  { range: { column: "created", min: "2026-01-01", max: "2026-01-31" } },
  { schema: { columns: { id: "integer", email: "string", status: "string", total: "number", created: "date", updated_at: "timestamp" }, allow_new: false } },
  { name: "lost_orders", sql: "select id, status from {table} where status = 'lost'" },
  { name: "negative_totals", sql: "select count(*) from {table} where total < 0" },
  { row_count: { min: 3 } },
  { freshness: { column: "updated_at", max_age_hours: 6 } },
].map((c) => ({ ...c, at: "post_load" }));

beforeAll(async () => {
  service = await startSnowflake();
  await service.query('CREATE SCHEMA "RAW"."SHOP"');
  const columns = "ID NUMBER(38,0), EMAIL VARCHAR, STATUS VARCHAR, TOTAL NUMBER(10,2), CREATED DATE, UPDATED_AT TIMESTAMP_NTZ";
  await service.query(`CREATE TABLE "RAW"."SHOP"."ORDERS_CLEAN" (${columns})`);
  await service.query(
    `INSERT INTO "RAW"."SHOP"."ORDERS_CLEAN" VALUES
      (1, 'ana@example.com', 'open', 10.50, '2026-01-14', '2026-01-15 22:00:00'),
      (2, 'ben@example.com', 'closed', 99.00, '2026-01-15', '2026-01-15 21:30:00'),
      (3, 'cy@example.org', 'open', 0.25, '2026-01-15', '2026-01-15 08:00:00'),
      (4, 'dee@example.com', 'refunded', 250.75, '2026-01-15', '2026-01-14 23:00:00')`,
  );
  await service.query(`CREATE TABLE "RAW"."SHOP"."ORDERS" (${columns}, COUPON VARCHAR)`);
  await service.query(
    `INSERT INTO "RAW"."SHOP"."ORDERS" VALUES
      (7, NULL, 'lost', -5.50, '2025-12-01', '2026-01-14 20:00:00', 'X1'),
      (7, 'not an email', 'open', 10.25, '2026-01-15', '2026-01-14 21:00:00', NULL)`,
  );
  // Lower case, as a YAML file says it: the sink upper-cases unquoted names.
  warehouse = sink.warehouse!({
    sink: "main",
    options: sink.options.parse({ database: "raw", schema: "shop" }),
    connection: snowflakeConnection(service.port, PASSWORD),
    projectDir: process.cwd(),
    log: silentLogger,
    signal: new AbortController().signal,
  });
}, 120_000);
afterAll(async () => {
  await service?.close();
  clearSecrets();
});

describe("post_load on Snowflake", () => {
  it("passes every check on a clean table named in lower case", async () => {
    const { result } = await runChecks({ table: "orders_clean", at: "post_load", checks: CHECKS }, { warehouses: { main: warehouse } });
    const checks = checksOf(result);
    expect(checks.filter((c) => c.status !== "pass").map((c) => [c.name, c.observed])).toEqual([]);
    expect(result.summary).toMatchObject({ passed: CHECKS.length, failed: 0 });
    expect(checks.find((c) => c.name === "row_count")).toMatchObject({ observed: 4 });
    expect(checks.find((c) => c.name === "freshness(updated_at)")).toMatchObject({ observed: { newest: "2026-01-15T22:00:00", age_hours: 2 } });
  });

  it("fails every check on the table a load reported, with samples in Snowflake's column names", async () => {
    const load = { task: "load_orders", step: "load", state: "success" as const, summary: { table: "RAW.SHOP.ORDERS", rowsLoaded: 2 }, reads: [], writes: [] };
    const { result } = await runChecks({ stream: "orders", at: "post_load", checks: CHECKS }, { warehouses: { main: warehouse }, upstream: { load_orders: load } });
    const checks = checksOf(result);
    expect(checks.map((c) => [c.name, c.status, c.failing_rows ?? null])).toEqual([
      ["not_null(id, email)", "fail", 1],
      ["unique(id)", "fail", 2],
      ["accepted_values(status)", "fail", 1],
      ["regex(email)", "fail", 1],
      ["range(total)", "fail", 1],
      ["range(created)", "fail", 1],
      ["schema", "fail", null],
      ["lost_orders", "fail", 1],
      ["negative_totals", "fail", 1],
      ["row_count", "fail", null],
      ["freshness(updated_at)", "fail", null],
    ]);
    expect(checks[0]!.samples).toEqual([expect.objectContaining({ ID: 7, EMAIL: null, STATUS: "lost" })]);
    expect(checks[1]!.samples).toEqual([{ ID: 7, XO_ROWS: 2 }]);
    expect(checks[6]!.observed).toEqual({ missing: [], mismatched: {}, new: ["COUPON"] });
    expect(result.failure?.message).toContain("11 checks failed on table RAW.SHOP.ORDERS:");
    expect(result.failure?.message).toContain("  - regex(email): 1 row with EMAIL not matching [^@ ]+@[^@ ]+[.][a-z]+");
    expect(JSON.stringify(result)).not.toContain(PASSWORD);
  });

  it("reports a type that does not match and a column that is not there", async () => {
    const { result } = await runChecks(
      { table: "orders_clean", at: "post_load", checks: [{ schema: { columns: { id: "string", discount: "number", total: "any" } } }, { not_null: ["discount"] }] },
      { warehouses: { main: warehouse } },
    );
    expect(checksOf(result)[0]!.observed).toEqual({ missing: ["discount"], mismatched: { ID: "integer (NUMBER(38,0)), expected string" }, new: ["EMAIL", "STATUS", "CREATED", "UPDATED_AT"] });
    expect(checksOf(result)[1]!.observed).toEqual({ error: expect.stringContaining('table RAW.SHOP.ORDERS_CLEAN has no column "discount"; its columns are ID, EMAIL') });
  });

  it("fails a `sql` check Snowflake refuses with Snowflake's message", async () => {
    const { result } = await runChecks({ table: "orders_clean", at: "post_load", checks: [{ sql: "select nope from {table}" }] }, { warehouses: { main: warehouse } });
    expect(checksOf(result)[0]).toMatchObject({ status: "fail", observed: { error: expect.stringMatching(/^it could not run: Snowflake rejected the query .*NOPE/is) } });
  });
});
