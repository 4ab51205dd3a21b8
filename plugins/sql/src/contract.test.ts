/**
 * The `sql.run` step against the testkit's step contract. Its warehouse is the testkit's
 * scripted one, bound to the run's signal as the runtime binds a sink's warehouse.
 */
import { describeStep, scriptedWarehouse } from "@xo-foundry/testkit";
import { sql } from "./index.js";

describeStep({
  plugin: sql(),
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
