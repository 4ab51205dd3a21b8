import { createRequire } from "node:module";
import { definePlugin, type XoPlugin } from "@xo-foundry/core";
import { SQL_ERRORS } from "./errors.js";
import { sqlExport } from "./export.js";
import { sqlRun } from "./run.js";

export { SQL_ERRORS, SqlError, type SqlErrorCode } from "./errors.js";
export { EXPORT_FORMATS, sqlExport, sqlExportOptions, type SqlExportOptions } from "./export.js";
export { sqlRun, sqlRunOptions, type SqlRunOptions } from "./run.js";

const { version } = createRequire(import.meta.url)("../package.json") as { version: string };

/** SQL steps: they use the `warehouse` service of a sink, so they run on any warehouse that offers one. */
export function sql(): XoPlugin {
  return definePlugin({
    name: "@xo-foundry/plugin-sql",
    version,
    steps: [sqlRun, sqlExport],
    errors: SQL_ERRORS,
  });
}
