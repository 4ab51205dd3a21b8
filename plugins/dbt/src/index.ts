import { createRequire } from "node:module";
import { definePlugin, type XoPlugin } from "@xo-foundry/core";
import { dbtCloudRun } from "./cloud.js";
import { coreStep } from "./core.js";
import { DBT_ERRORS } from "./errors.js";
import { CORE_COMMANDS } from "./options.js";

export { DBT_ERRORS, DbtError, type DbtErrorCode } from "./errors.js";
export { coreOptions, CORE_COMMANDS, type CoreCommand, type CoreOptions } from "./options.js";
export { cloudOptions, dbtCloudRun, type CloudOptions } from "./cloud.js";
export { artifactsUri, coreStep, dbtArguments, runVars } from "./core.js";
export { planSources, sourcesYaml, SOURCES_FILE, SOURCES_HEADER, type DeclaredTable, type LoadedTable, type SourcesPlan } from "./sources.js";
export { failureReport, parseRunResults, runSummary, writtenDatasets, type NodeResult, type RunResults } from "./results.js";

const { version } = createRequire(import.meta.url)("../package.json") as { version: string };

/** dbt Core steps (`dbt.build`, `dbt.run`, `dbt.test`, `dbt.seed`, `dbt.snapshot`) and dbt Cloud jobs (`dbt_cloud.run`). */
export function dbt(): XoPlugin {
  return definePlugin({ name: "@xo-foundry/plugin-dbt", version, steps: [...CORE_COMMANDS.map(coreStep), dbtCloudRun], errors: DBT_ERRORS });
}
