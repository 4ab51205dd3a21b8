import { createRequire } from "node:module";
import { definePlugin, type SinkDefinition, type Warehouse, type WarehouseContext, type XoPlugin } from "@xo-foundry/core";
import { SNOWFLAKE_ERRORS } from "./errors.js";
import { location, parseOptions, sinkOptions, targetKey, targetOptions, type SinkOptions, type TargetOptions } from "./options.js";

export { SNOWFLAKE_ERRORS, SnowflakeSinkError, type SnowflakeErrorCode } from "./errors.js";
export { LOAD_MODES, defaultMode, resolveTarget, sinkOptions, targetOptions } from "./options.js";
export type { LoadMode, ResolvedTarget, SinkOptions, TargetOptions } from "./options.js";
export { METADATA_COLUMNS, planApply, planCleanup, planColumns, planLoad, planStaging } from "./plan.js";
export type { Bind, PlanFile, PlanInput, Statement, Step } from "./plan.js";
export { normalizeName, qualify, quoteIdent, quoteLiteral } from "./sql.js";

const { version } = createRequire(import.meta.url)("../package.json") as { version: string };

export const snowflakeSink: SinkDefinition<SinkOptions, TargetOptions> = {
  id: "snowflake",
  description: "Loads landed files into Snowflake tables: PUT (or an external stage), COPY INTO a staging table, then an atomic swap, merge or delete+insert.",
  options: sinkOptions,
  target: targetOptions,
  connection: "required",
  // Validation refuses two streams in one table; unquoted Snowflake names are upper-cased.
  targetKey,
  location,
  // snowflake-sdk is heavy: it loads with the first load, not when the plugin is discovered.
  load: async (ctx) => (await import("./load.js")).load(ctx),
  warehouse: lazyWarehouse,
};

/** The warehouse service (warehouse.ts); like load, it brings in snowflake-sdk on its first call. */
function lazyWarehouse(ctx: WarehouseContext<SinkOptions>): Warehouse {
  // Bad options fail when a step asks for the warehouse, before anything connects.
  parseOptions(sinkOptions, ctx.options, `options of sink ${JSON.stringify(ctx.sink)}`);
  let warehouse: Promise<Warehouse> | undefined;
  const get = () => (warehouse ??= import("./warehouse.js").then((m) => m.snowflakeWarehouse(ctx)));
  return {
    dialect: "snowflake",
    query: async (sql, params) => (await get()).query(sql, params),
    execute: async (statements) => (await get()).execute(statements),
    exportQuery: async (sql, dir, format, options) => (await get()).exportQuery(sql, dir, format, options),
    describe: async (table) => (await get()).describe(table),
  };
}

export function snowflake(): XoPlugin {
  return definePlugin({ name: "@xo-foundry/plugin-snowflake", version, sinks: [snowflakeSink], errors: SNOWFLAKE_ERRORS });
}
