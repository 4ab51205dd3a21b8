/**
 * The dbt Core steps against the testkit's step contract, running the real dbt (from the
 * repository's .venv/dbt, put first on PATH as a user's install would be) on a copy of the
 * example project over the sample shop's DuckDB tables.
 */
import path from "node:path";
import { pathToFileURL } from "node:url";
import { fileLanding } from "@xo-foundry/runtime";
import { describeStep } from "@xo-foundry/testkit";
import { afterAll, beforeAll } from "vitest";
import { dbt } from "./index.js";
import { DBT_VENV, QUIET_DBT, requireDbt, shopProject, type ShopProject } from "./__fixtures__/shop.js";

let project: ShopProject;
beforeAll(async () => {
  requireDbt();
  process.env.PATH = `${path.join(DBT_VENV, "bin")}${path.delimiter}${process.env.PATH ?? ""}`;
  Object.assign(process.env, QUIET_DBT);
  project = await shopProject();
}, 60_000);
afterAll(async () => {
  await project?.dir.remove();
});

const environment = () => ({
  projectDir: project.dir.dir,
  pipeline: { sinks: { main: { plugin: "duckdb", database: project.database } } },
  landing: { root: pathToFileURL(project.dir.path("landing")).href, store: fileLanding() },
});

describeStep(
  {
    plugin: dbt(),
    step: "dbt.build",
    // The README's examples, narrowed to the staging models to keep each run short.
    examples: [
      { project_dir: "dbt", select: "stg_customers" },
      { project_dir: "dbt", select: ["stg_orders"], exclude: "test_type:singular", vars: { currency: "EUR" }, threads: 2, full_refresh: true },
    ],
    environment,
  },
  { timeout: 120_000 },
);

describeStep({ plugin: dbt(), step: "dbt.seed", examples: [{ project_dir: "dbt" }], environment }, { timeout: 120_000 });
