import { createRequire } from "node:module";
import { definePlugin, type XoPlugin } from "@xo-foundry/core";
import { sqlRun } from "./run.js";

export { sqlRun, sqlRunOptions, type SqlRunOptions } from "./run.js";

const { version } = createRequire(import.meta.url)("../package.json") as { version: string };

/** SQL steps: they use the `warehouse` service of a sink, so they run on any warehouse that offers one. */
export function sql(): XoPlugin {
  return definePlugin({
    name: "@xo-foundry/plugin-sql",
    version,
    steps: [sqlRun],
    errors: { XO_SQL_SUMMARY_EMPTY: "the summary query returned no row; make it return exactly one (e.g. an aggregate)" },
  });
}
