/**
 * The dbt Core steps against the real dbt-core 1.11 with dbt-duckdb (tools/dbt/setup.sh), on a
 * copy of the example project (examples/dbt) over a DuckDB file with the sample shop's tables.
 * Nothing is emulated here.
 */
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { rejectionOf } from "@xo-foundry/testkit";
import { artifactsUri } from "./core.js";
import { dbt } from "./index.js";
import { DBT, dbtContext, requireDbt, shopProject, type ShopProject } from "./__fixtures__/shop.js";
import { fileURLToPath } from "node:url";
import type { StepType } from "@xo-foundry/core";

const step = (id: string) => dbt().steps!.find((s) => s.id === id)! as StepType;
const build = step("dbt.build");
let project: ShopProject;

beforeAll(() => requireDbt());
afterEach(async () => {
  await project?.dir.remove();
});

describe("dbt.build", () => {
  it("builds the project with a profile generated from the DuckDB sink, and keeps the artifacts with the run", async () => {
    project = await shopProject();
    const ctx = dbtContext(project, { project_dir: "dbt" });
    const result = await build.run(ctx);

    expect(result.summary).toMatchObject({ command: "build", nodes: 11, success: 3, pass: 8, failed: [], warned: [] });
    expect(project.query("select count(*) from main.customer_orders")).toEqual([[250]]);
    // The mart counts orders up to the logical date the step passed as a var.
    expect(project.query("select sum(orders) from main.customer_orders")).toEqual(project.query("select count(*) from main.orders where created_at < '2026-01-16'"));
    expect(result.writes?.map((w) => w.uri)).toEqual(["customer_orders", "stg_customers", "stg_orders"].map((t) => `duckdb://${project.dir.path("warehouse.duckdb")}#main.${t}`));
    const artifacts = fileURLToPath(artifactsUri(ctx));
    const runResults = JSON.parse(await readFile(`${artifacts}/run_results.json`, "utf8")) as { results: unknown[] };
    expect(runResults.results).toHaveLength(11);
    expect(existsSync(`${artifacts}/manifest.json`)).toBe(true);
    // dbt's own lines reach the task log.
    expect(ctx.log.infos.some((l) => /Completed successfully/.test(l))).toBe(true);
  });

  it("passes the run's window and logical date as vars", async () => {
    project = await shopProject();
    await build.run(dbtContext(project, { project_dir: "dbt", select: "+customer_orders" }, { logicalDate: "2026-01-10" }));
    expect(project.query("select sum(orders) from main.customer_orders")).toEqual(project.query("select count(*) from main.orders where created_at < '2026-01-11'"));
  });

  it("fails with the failing test's name and dbt's message", async () => {
    project = await shopProject();
    await writeFile(project.dir.path("dbt/tests/no_orders_from_the_future.sql"), "select * from {{ ref('stg_orders') }} where created_at > timestamp '2026-01-16'\n");
    const error = await rejectionOf(() => build.run(dbtContext(project, { project_dir: "dbt" })));
    expect(error).toMatchObject({ code: "XO_DBT_FAILED" });
    expect(error.message).toContain("dbt build failed: 1 of 12 nodes failed");
    expect(error.message).toMatch(/- test no_orders_from_the_future \(fail\): Got \d+ results?, configured to fail if != 0/);
  });

  it("honours select and exclude", async () => {
    project = await shopProject();
    const result = await build.run(dbtContext(project, { project_dir: "dbt", select: ["stg_customers", "stg_orders"], exclude: "test_type:singular" }));
    // Two views and their five generic tests; not the mart, not the singular test.
    expect(result.summary).toMatchObject({ nodes: 7, success: 2, pass: 5 });
    expect(project.query("select count(*) from information_schema.tables where table_name = 'customer_orders'")).toEqual([[0]]);
  });

  it("honours target with the user's own profiles.yml", async () => {
    project = await shopProject();
    await project.dir.write(
      "profiles/profiles.yml",
      ["shop_analytics:", "  target: dev", "  outputs:", `    dev: { type: duckdb, path: ${project.dir.path("dev.duckdb")} }`, `    prod: { type: duckdb, path: ${project.dir.path("warehouse.duckdb")} }`, ""].join("\n"),
    );
    const result = await build.run(dbtContext(project, { project_dir: "dbt", profiles_dir: "profiles", target: "prod", select: "stg_customers" }));
    expect(result.summary).toMatchObject({ success: 1 });
    expect(project.query("select count(*) from main.stg_customers")).toEqual([[250]]);
    expect(existsSync(project.dir.path("dev.duckdb"))).toBe(false);
  });

  it("re-running changes nothing", async () => {
    project = await shopProject();
    const first = await build.run(dbtContext(project, { project_dir: "dbt" }));
    const before = project.query("select * from main.customer_orders order by customer_id");
    const second = await build.run(dbtContext(project, { project_dir: "dbt" }));
    expect(project.query("select * from main.customer_orders order by customer_id")).toEqual(before);
    expect({ ...second.summary, elapsed_seconds: 0 }).toEqual({ ...first.summary, elapsed_seconds: 0 });
  });

  it("finds the dbt project without project_dir when one subfolder holds it", async () => {
    project = await shopProject();
    const result = await step("dbt.run").run(dbtContext(project, { select: "stg_orders" }));
    expect(result.summary).toMatchObject({ command: "run", nodes: 1, success: 1 });
  });

  it("cancels dbt when the task is aborted", async () => {
    project = await shopProject();
    const controller = new AbortController();
    const reason = new Error("task killed");
    const running = build.run(dbtContext(project, { project_dir: "dbt" }, { signal: controller.signal }));
    setTimeout(() => controller.abort(reason), 1500);
    await expect(running).rejects.toBe(reason);
  });

  it("names a missing executable and how to fix it", async () => {
    project = await shopProject();
    const error = await rejectionOf(() => build.run(dbtContext(project, { project_dir: "dbt", dbt: "./no/such/dbt" })));
    expect(error).toMatchObject({ code: "XO_DBT_EXECUTABLE_NOT_FOUND" });
    expect(error.message).toContain(`${project.dir.dir}/no/such/dbt`);
    expect(DBT).toContain(".venv/dbt/bin/dbt");
  });

  it("reports a project error with dbt's last lines", async () => {
    project = await shopProject();
    await writeFile(project.dir.path("dbt/models/marts/broken.sql"), "select * from {{ ref('no_such_model') }}\n");
    const error = await rejectionOf(() => build.run(dbtContext(project, { project_dir: "dbt" })));
    expect(error).toMatchObject({ code: "XO_DBT_ERROR" });
    expect(error.message).toMatch(/no_such_model/);
  });
});
