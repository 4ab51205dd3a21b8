import { createRequire } from "node:module";
import { definePlugin, type SinkDefinition, type XoPlugin } from "@xo-foundry/core";
import { location, sinkOptions, targetKey, targetOptions, type SinkOptions, type TargetOptions } from "./options.js";

export { SnowflakeSinkError, type SnowflakeErrorCode } from "./errors.js";
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
};

export function snowflake(): XoPlugin {
  return definePlugin({ name: "@xo-foundry/plugin-snowflake", version, sinks: [snowflakeSink] });
}
