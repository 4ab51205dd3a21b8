/**
 * The SQL steps against the testkit's step contract. Their warehouse is the testkit's
 * scripted one, bound to the run's signal as the runtime binds a sink's warehouse; the
 * export publishes into a real file landing zone.
 */
import { pathToFileURL } from "node:url";
import { afterAll } from "vitest";
import { fileLanding } from "@xo-foundry/runtime";
import { describeStep, scriptedWarehouse, testdir } from "@xo-foundry/testkit";
import { sql } from "./index.js";

const project = await testdir();
afterAll(() => project.remove());

describeStep({
  plugin: sql(),
  step: "sql.run",
  // The `with:` block in the README, and the other shapes it documents.
  examples: [
    {
      sql: ["create or replace table daily_revenue as select cast(created_at as date) as day, sum(total) as revenue from orders group by 1"],
      summary: "select count(*) as days from daily_revenue",
    },
    { sql: "delete from orders where total < 0" },
    { summary: "select count(*) as orders from orders", sink: "main" },
  ],
  environment: (signal) => ({ warehouses: { main: scriptedWarehouse({ signal, rows: [{ days: 31 }] }) } }),
});

describeStep({
  plugin: sql(),
  step: "sql.export",
  // The README's examples. The scripted warehouse has no rows, so no watermark moves.
  examples: [
    { query: "select id, customer_id, status, total, updated_at from orders", watermark: { column: "updated_at" }, format: "csv" },
    { query: "select * from orders where cast(updated_at as date) = $ds", format: "parquet", max_file_mb: 100 },
    { table: "raw.orders", format: "ndjson", sink: "main", watermark: { column: "id", initial: 0 } },
  ],
  environment: (signal) => ({
    warehouses: { main: scriptedWarehouse({ signal }) },
    landing: { root: pathToFileURL(project.path("landing")).href, store: fileLanding() },
  }),
});
