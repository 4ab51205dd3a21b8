/** The `duckdb` sink against the testkit's sink contract: a fresh database file per check, read back through its own warehouse. */
import { describeSink, testdir } from "@xo-foundry/testkit";
import { duckdb } from "./index.js";

describeSink({
  plugin: duckdb(),
  // The sink block and targets in the README.
  examples: [
    { options: { database: ".xo-foundry/warehouse.duckdb", schema: "raw" }, target: { keys: ["id"] } },
    { options: { database: ".xo-foundry/warehouse.duckdb", schema: "raw" }, target: {} },
    { options: { database: ".xo-foundry/warehouse.duckdb", schema: "raw" }, target: { table: "dim_products", mode: "replace" } },
  ],
  async place() {
    const dir = await testdir();
    return { projectDir: dir.dir, options: { database: "warehouse.duckdb", schema: "raw" }, cleanup: () => dir.remove() };
  },
});
