import { createRequire } from "node:module";
import { definePlugin, type SinkDefinition, type Warehouse, type WarehouseContext, type XoPlugin } from "@xo-foundry/core";
import { DUCKDB_ERRORS } from "./errors.js";
import { location, parseOptions, sinkOptions, targetKey, targetOptions, type SinkOptions, type TargetOptions } from "./options.js";

export { DUCKDB_ERRORS, DuckDbSinkError, type DuckDbErrorCode } from "./errors.js";
export { DEFAULT_DATABASE, LOAD_MODES, defaultMode, sinkOptions, targetOptions } from "./options.js";
export type { LoadMode, SinkOptions, TargetOptions } from "./options.js";
export { quoteIdent, quoteLiteral } from "./sql.js";

const { version } = createRequire(import.meta.url)("../package.json") as { version: string };

export const duckdbSink: SinkDefinition<SinkOptions, TargetOptions> = {
  id: "duckdb",
  description: "Bulk-loads landed files into tables of a local DuckDB database file (the embedded default warehouse).",
  options: sinkOptions,
  target: targetOptions,
  // The embedded default warehouse: a pipeline without a `sink:` block loads here.
  isDefault: true,
  // Validation refuses two streams in one table; DuckDB compares names case-insensitively.
  targetKey,
  location,
  // Named by the database file as the config writes it, so generated DAGs declare the same
  // Airflow asset on every machine; `:memory:` tables are named too, though nothing can wait on them.
  dataset: (input) => ({ namespace: `duckdb://${input.options.database.replace(/^\.\//, "")}`, name: targetKey(input) }),
  // The native DuckDB binding loads with the first load or warehouse call, not when the plugin is discovered.
  load: async (ctx) => (await import("./load.js")).load(ctx),
  warehouse: lazyWarehouse,
};

function lazyWarehouse(ctx: WarehouseContext<SinkOptions>): Warehouse {
  // Bad options fail when a step asks for the warehouse, before anything is opened.
  parseOptions(sinkOptions, ctx.options, `options of sink ${JSON.stringify(ctx.sink)}`);
  let warehouse: Promise<Warehouse> | undefined;
  const get = () => (warehouse ??= import("./warehouse.js").then((m) => m.duckdbWarehouse(ctx)));
  return {
    dialect: "duckdb",
    query: async (sql, params) => (await get()).query(sql, params),
    execute: async (statements) => (await get()).execute(statements),
    exportQuery: async (sql, dir, format, options) => (await get()).exportQuery(sql, dir, format, options),
    describe: async (table) => (await get()).describe(table),
  };
}

export function duckdb(): XoPlugin {
  return definePlugin({ name: "@xo-foundry/plugin-duckdb", version, sinks: [duckdbSink], errors: DUCKDB_ERRORS });
}
