/**
 * `quality.check` against the testkit's step contract, with the `with:` blocks the README
 * shows: real landed NDJSON files for `pre_load`, a real DuckDB warehouse file for
 * `post_load`, and the extract and load summaries the runtime would hand the task.
 */
import { afterAll, beforeAll } from "vitest";
import { silentLogger, type TaskSummary } from "@xo-foundry/core";
import { duckdbSink, sinkOptions } from "@xo-foundry/plugin-duckdb";
import { describeStep, testdir, type TestDir } from "@xo-foundry/testkit";
import { quality } from "./index.js";
import { land, ndjson, type Landed } from "./__fixtures__/landing.js";
import { CLEAN } from "./__fixtures__/orders.js";

let dir: TestDir;
let landed: Landed;
beforeAll(async () => {
  dir = await testdir();
  landed = await land(dir, "orders", [{ name: "part-00000.ndjson", format: "ndjson", body: ndjson(CLEAN) }]);
  const rows = await dir.write("orders.ndjson", ndjson(CLEAN));
  await warehouseFor(new AbortController().signal).execute([
    `create table main.orders as select * from read_json('${rows}')`,
    "create schema analytics",
    "create table analytics.daily_orders as select created as day, sum(total) as revenue from main.orders group by 1",
  ]);
});
afterAll(async () => {
  await dir?.remove();
});

function warehouseFor(signal: AbortSignal) {
  return duckdbSink.warehouse!({ sink: "main", options: sinkOptions.parse({ database: dir.path("warehouse.duckdb") }), connection: undefined, projectDir: dir.dir, log: silentLogger, signal });
}

const load: TaskSummary = { task: "load_orders", step: "load", state: "success", summary: { table: "main.orders", rowsLoaded: 4 }, reads: [], writes: [] };

describeStep({
  plugin: quality(),
  // The README's `with:` blocks: what the graph writes for `checks:`, and an explicit step on a table.
  examples: [
    {
      stream: "orders",
      at: "pre_load",
      checks: [
        { row_count: { min: 1, max_change_pct: 50 } },
        { not_null: ["id", "email"] },
        { unique: ["id"] },
        { accepted_values: { column: "status", values: ["open", "closed", "refunded"] }, severity: "warn" },
        { regex: { column: "email", pattern: "[^@\\s]+@[^@\\s]+" } },
      ],
    },
    {
      stream: "orders",
      sink: "main",
      at: "post_load",
      checks: [
        { schema: { columns: { id: "integer", email: "string", total: "number" } }, at: "post_load" },
        { range: { column: "total", min: 0 }, at: "post_load" },
        { freshness: { column: "updated_at", max_age_hours: 26 }, at: "post_load" },
      ],
    },
    {
      table: "analytics.daily_orders",
      at: "post_load",
      checks: [{ row_count: { min: 1 } }, { name: "no_negative_revenue", sql: "select * from {table} where revenue < 0" }],
    },
  ],
  environment: (signal) => ({
    projectDir: dir.dir,
    landing: landed.landing,
    upstream: { ...landed.upstream, load_orders: load },
    taskId: "check_orders",
    warehouses: { main: warehouseFor(signal) },
  }),
});
