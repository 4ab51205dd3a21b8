import { createRequire } from "node:module";
import { definePlugin, type SinkDefinition, type XoPlugin } from "@xo-foundry/core";
import { sinkOptions, targetOptions, type SinkOptions, type TargetOptions } from "./options.js";

export { DuckDbSinkError, type DuckDbErrorCode } from "./errors.js";
export { DEFAULT_DATABASE, LOAD_MODES, defaultMode, sinkOptions, targetOptions } from "./options.js";
export type { LoadMode, SinkOptions, TargetOptions } from "./options.js";
export { quoteIdent, quoteLiteral } from "./sql.js";

const { version } = createRequire(import.meta.url)("../package.json") as { version: string };

export const duckdbSink: SinkDefinition<SinkOptions, TargetOptions> = {
  id: "duckdb",
  description: "Bulk-loads landed files into tables of a local DuckDB database file (the embedded default warehouse).",
  options: sinkOptions,
  target: targetOptions,
  // The native DuckDB binding loads with the first load, not when the plugin is discovered.
  load: async (ctx) => (await import("./load.js")).load(ctx),
};

export function duckdb(): XoPlugin {
  return definePlugin({ name: "@xo-foundry/plugin-duckdb", version, sinks: [duckdbSink] });
}
