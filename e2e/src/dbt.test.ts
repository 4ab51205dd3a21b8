/**
 * Ingest -> dbt end to end with the built CLI: `xo-foundry run` of examples/shop-analytics.yaml
 * in a copy of the examples. Real: the CLI, the landing folder, DuckDB, and dbt-core 1.11 with
 * dbt-duckdb from the repository's .venv/dbt, found on PATH as a user's install would be.
 * Emulated: the shop API (the bundled loopback sample server).
 */
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { queryDuckDb, repo, run, sandbox, xo } from "./helpers.js";

const TOKEN = "dbt-e2e-token";
const DBT_BIN = path.join(repo, ".venv/dbt/bin");

interface SampleApi {
  url: string;
  close(): Promise<void>;
}

let api: SampleApi;
let project: Awaited<ReturnType<typeof sandbox>>;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  if (!existsSync(path.join(DBT_BIN, "dbt"))) throw new Error(`these tests need the dbt venv at ${DBT_BIN}; create it with \`bash tools/dbt/setup.sh\` (npm test does)`);
  const { startSampleApi } = (await import(path.join(repo, "examples/sample-api/server.mjs"))) as { startSampleApi(o: { token: string }): Promise<SampleApi> };
  api = await startSampleApi({ token: TOKEN });
  project = await sandbox({}, { copyExamples: true });
  env = {
    XO_CONN_SAMPLE_SHOP: JSON.stringify({ host: api.url, password: TOKEN }),
    PATH: `${DBT_BIN}${path.delimiter}${process.env.PATH ?? ""}`,
    DBT_SEND_ANONYMOUS_USAGE_STATS: "false",
  };
});
afterAll(async () => {
  await api?.close();
  await project?.remove();
});

const query = (sql: string) => queryDuckDb(path.join(project.dir, ".xo-foundry/analytics.duckdb"), sql);

describe("the ingest -> dbt example", () => {
  it("loads the shop's tables, then builds the dbt project over them; a re-run of the date changes nothing", async () => {
    const first = await xo(["run", "shop-analytics.yaml", "--date", "2026-01-15", "--json"], { cwd: project.dir, env });
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    const report = JSON.parse(first.stdout) as { tasks: { task: string; state: string; outcome?: { summary: Record<string, unknown>; writes: { uri: string }[] } }[] };
    const dbtTask = report.tasks.find((t) => t.task === "dbt_build")!;
    expect(dbtTask.state).toBe("success");
    expect(dbtTask.outcome?.summary).toMatchObject({ command: "build", nodes: 11, success: 3, pass: 8, failed: [] });
    expect(dbtTask.outcome?.writes.map((w) => w.uri.replace(/^.*#/, ""))).toEqual(["main.customer_orders", "main.stg_customers", "main.stg_orders"]);
    const mart = await query("select count(*)::int as customers, sum(orders)::int as orders from main.customer_orders");
    expect(mart).toEqual([{ customers: 250, orders: Number((await query("select count(*)::int as n from main.orders where created_at < '2026-01-16'"))[0]!.n) }]);

    const again = await xo(["run", "shop-analytics.yaml", "--date", "2026-01-15", "--json"], { cwd: project.dir, env });
    expect(again.code).toBe(0);
    expect(await query("select count(*)::int as customers, sum(orders)::int as orders from main.customer_orders")).toEqual(mart);
    // The artifacts of the run are kept in the landing zone, next to the task summaries.
    const runs = path.join(project.dir, ".xo-foundry/landing/runs/sample_shop_analytics");
    const [run] = readdirSync(runs);
    expect(readdirSync(path.join(runs, run!, "dbt_build")).sort()).toEqual(["manifest.json", "run_results.json"]);
  });

  it("fails the step naming the failing dbt test", async () => {
    await writeFile(path.join(project.dir, "dbt/tests/no_big_orders.sql"), "select * from {{ ref('stg_orders') }} where amount > 100\n");
    const result = await xo(["run", "shop-analytics.yaml", "--date", "2026-01-15"], { cwd: project.dir, env });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/XO_DBT_FAILED/);
    expect(result.stderr).toMatch(/test no_big_orders \(fail\): Got \d+ results?, configured to fail if != 0/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});

describe("render: per_model and generate-dags --check", () => {
  it("finds the DAG stale when the dbt project's manifest changes", async () => {
    const own = await sandbox({}, { copyExamples: true });
    try {
      const parse = async () => {
        const r = await run(path.join(DBT_BIN, "dbt"), ["parse", "--project-dir", path.join(own.dir, "dbt"), "--profiles-dir", own.dir], { env: { ...env, PATH: process.env.PATH } });
        expect(r.code).toBe(0);
      };
      await writeFile(path.join(own.dir, "profiles.yml"), "shop_analytics:\n  target: dev\n  outputs:\n    dev: { type: duckdb, path: parse-only.duckdb }\n");
      await parse();
      const file = path.join(own.dir, "shop-analytics.yaml");
      await writeFile(file, (await readFile(file, "utf8")).replace("      project_dir: dbt\n", "      project_dir: dbt\n      render: per_model\n"));
      const dags = path.join(own.dir, "dags");
      expect((await xo(["generate-dags", file, "-o", dags], { cwd: own.dir })).code).toBe(0);
      expect((await xo(["generate-dags", file, "-o", dags, "--check"], { cwd: own.dir })).code).toBe(0);
      // dbt steps never ask to skip: every non-zero exit of a model's task is a failure.
      const dag = await readFile(path.join(dags, "sample_shop_analytics.py"), "utf8");
      expect(dag).toMatch(/with TaskGroup\(group_id="dbt_build"\)[\s\S]*task_id="customer_orders"/);
      expect(dag).not.toContain("skip_on_exit_code");

      await writeFile(path.join(own.dir, "dbt/models/marts/country_revenue.sql"), "select country, sum(amount) as amount from {{ ref('customer_orders') }} group by 1\n");
      await parse();
      const check = await xo(["generate-dags", file, "-o", dags, "--check"], { cwd: own.dir });
      expect(check.code).toBe(1);
      expect(check.stdout + check.stderr).toMatch(/sample_shop_analytics\.py/);
      expect((await xo(["generate-dags", file, "-o", dags], { cwd: own.dir })).code).toBe(0);
      expect(await readFile(path.join(dags, "sample_shop_analytics.py"), "utf8")).toContain('"country_revenue"');
    } finally {
      await own.remove();
    }
  });
});

describe("xo-foundry dbt sources", () => {
  it("writes the sources dbt does not declare, which dbt parses, reports sources no pipeline loads, and --check finds it stale", async () => {
    const own = await sandbox({}, { copyExamples: true });
    try {
      // The dbt project declares customers (and a refunds table nothing loads); orders is left to xo-foundry.
      await writeFile(
        path.join(own.dir, "dbt/models/staging/sources.yml"),
        "version: 2\nsources:\n  - name: shop\n    schema: main\n    tables:\n      - name: customers\n      - name: refunds\n",
      );
      await writeFile(
        path.join(own.dir, "dbt/models/staging/stg_orders.sql"),
        (await readFile(path.join(own.dir, "dbt/models/staging/stg_orders.sql"), "utf8")).replace("source('shop', 'orders')", "source('sample_shop_analytics', 'orders')"),
      );
      const first = await xo(["dbt", "sources", "--json"], { cwd: own.dir });
      expect(first.code).toBe(0);
      const report = JSON.parse(first.stdout) as { change: string; generated: { table: string }[]; declared: { table: { table: string }; by: { source: string } }[]; unloaded: { table: string }[] };
      expect(report.change).toBe("written");
      expect(report.generated.map((t) => t.table)).toEqual(["orders"]);
      expect(report.declared.map((d) => [d.table.table, d.by.source])).toEqual([["customers", "shop"]]);
      expect(report.unloaded.map((t) => t.table)).toEqual(["refunds"]);
      const file = path.join(own.dir, "dbt/models/_xo_foundry_sources.yml");
      expect(await readFile(file, "utf8")).toContain("- name: sample_shop_analytics\n");

      // dbt itself reads the generated file: the model that selects from it parses.
      // In a hidden folder: pipeline discovery would read a profiles.yml in the project folder as a pipeline.
      await mkdir(path.join(own.dir, ".profiles"));
      await writeFile(path.join(own.dir, ".profiles/profiles.yml"), "shop_analytics:\n  target: dev\n  outputs:\n    dev: { type: duckdb, path: parse-only.duckdb }\n");
      const parse = await run(path.join(DBT_BIN, "dbt"), ["parse", "--project-dir", path.join(own.dir, "dbt"), "--profiles-dir", path.join(own.dir, ".profiles")], { env: { ...env, PATH: process.env.PATH } });
      expect(parse.code, parse.stdout).toBe(0);

      expect((await xo(["dbt", "sources", "--check"], { cwd: own.dir })).code).toBe(0);
      const pipeline = path.join(own.dir, "shop-analytics.yaml");
      await writeFile(pipeline, (await readFile(pipeline, "utf8")).replace("        table: orders\n", "        table: orders_v2\n"));
      const stale = await xo(["dbt", "sources", "--check"], { cwd: own.dir });
      expect(stale.code).toBe(1);
      expect(stale.stdout).toContain("dbt/models/_xo_foundry_sources.yml is stale: run `xo-foundry dbt sources` and commit the result");

      // A file of that name that xo-foundry did not write is never replaced.
      await writeFile(file, "version: 2\n# mine\n");
      const refused = await xo(["dbt", "sources"], { cwd: own.dir });
      expect(refused.code).toBe(1);
      expect(refused.stdout).toContain("exists and was not written by xo-foundry");
      expect(await readFile(file, "utf8")).toBe("version: 2\n# mine\n");
    } finally {
      await own.remove();
    }
  });
});
