/**
 * Every CLI command discovers plugins, and most never touch the warehouse: making the
 * plugin, and handing a step its warehouse, must not load DuckDB's native binding.
 */
import { silentLogger } from "@xo-foundry/core";
import { expect, it, vi } from "vitest";
import { duckdb } from "./index.js";

const loaded = vi.hoisted(() => ({ native: false }));
vi.mock("@duckdb/node-api", async (importOriginal) => {
  loaded.native = true;
  return importOriginal();
});

it("loads DuckDB only when a warehouse method runs", async () => {
  const warehouse = duckdb().sinks![0]!.warehouse!({
    sink: "main",
    options: { database: ":memory:" },
    connection: undefined,
    projectDir: "/nonexistent",
    log: silentLogger,
    signal: new AbortController().signal,
  });
  expect(warehouse.dialect).toBe("duckdb");
  expect(loaded.native).toBe(false);
  await expect(warehouse.query("SELECT 1 AS one")).resolves.toEqual([{ one: 1 }]);
  expect(loaded.native).toBe(true);
});
