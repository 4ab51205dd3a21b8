import { afterEach, describe, expect, it } from "vitest";
import { testdir, type TestDir } from "@xo-foundry/testkit";
import type { PipelineConfig } from "@xo-foundry/core";
import { dbtLineage } from "./lineage.js";
import { coreOptions } from "./options.js";

let dir: TestDir | undefined;
afterEach(async () => {
  await dir?.remove();
  dir = undefined;
});

const pipeline = { pipeline: { name: "shop" }, sinks: { main: { plugin: "duckdb", database: "w.duckdb" } } } as unknown as PipelineConfig;
const PROJECT = {
  "dbt/dbt_project.yml": "name: shop\nprofile: shop\nmodel-paths: [models]\n",
  "dbt/models/staging/sources.yml": "version: 2\nsources:\n  - name: raw\n    schema: main\n    tables:\n      - name: orders\n      - name: people\n        identifier: customers\n",
  "dbt/models/staging/stg_orders.sql": "select * from {{ source('raw', 'orders') }}",
  "dbt/models/staging/stg_customers.sql": "{# ref('not_a_parent') #}\nselect * from {{ source(\"raw\", \"people\") }}",
  "dbt/models/marts/mart.sql": "select * from {{ ref('stg_orders') }} join {{ ref('stg_customers') }} using (id) join {{ ref('codes') }} using (code)",
  "dbt/seeds/codes.csv": "code\n1\n",
};
const table = (name: string) => ({ namespace: "xo-sink://", name: `table/${name}` });

describe("dbt lineage", () => {
  it("reads ref() and source() from the models' SQL when there is no manifest", async () => {
    dir = await testdir(PROJECT);
    const lineage = dbtLineage("build", { stepId: "dbt", pipeline, projectDir: dir.dir, options: coreOptions.parse({ project_dir: "dbt" }) })!;
    expect(lineage.writes).toEqual([table("main.mart"), table("main.stg_customers"), table("main.stg_orders")]);
    expect(lineage.reads).toEqual([table("main.codes"), table("main.customers"), table("main.orders")]);
    expect(lineage.edges!.map((e) => `${e.from.name} -> ${e.to.name}`)).toEqual([
      "table/main.codes -> table/main.mart",
      "table/main.customers -> table/main.stg_customers",
      "table/main.orders -> table/main.stg_orders",
      "table/main.stg_customers -> table/main.mart",
      "table/main.stg_orders -> table/main.mart",
    ]);
  });

  it("keeps to the selection: a model's selected parents are its inputs, the others are read", async () => {
    dir = await testdir(PROJECT);
    const options = coreOptions.parse({ project_dir: "dbt", select: "mart", schema: "analytics" });
    const lineage = dbtLineage("run", { stepId: "dbt", pipeline, projectDir: dir.dir, options })!;
    expect(lineage.writes).toEqual([table("analytics.mart")]);
    expect(lineage.reads).toEqual([table("analytics.codes"), table("analytics.stg_customers"), table("analytics.stg_orders")]);
    expect(dbtLineage("test", { stepId: "dbt", pipeline, projectDir: dir.dir, options })).toEqual({ reads: [table("analytics.mart")], writes: [] });
    expect(dbtLineage("seed", { stepId: "dbt", pipeline, projectDir: dir.dir, options })).toBeUndefined();
  });

  it("takes schemas and aliases from the compiled manifest when there is one", async () => {
    const manifest = {
      nodes: {
        "model.shop.stg_orders": { unique_id: "model.shop.stg_orders", resource_type: "model", name: "stg_orders", package_name: "shop", fqn: ["shop", "staging", "stg_orders"], schema: "dev_staging", alias: "orders_v2", config: { materialized: "view" }, depends_on: { nodes: ["source.shop.raw.orders"] } },
        "test.shop.not_null": { unique_id: "test.shop.not_null", resource_type: "test", name: "not_null", package_name: "shop", depends_on: { nodes: ["model.shop.stg_orders"] } },
      },
      sources: { "source.shop.raw.orders": { unique_id: "source.shop.raw.orders", resource_type: "source", name: "orders", identifier: "ORDERS_RAW", schema: "landing", package_name: "shop", fqn: ["shop", "raw", "orders"] } },
    };
    dir = await testdir({ ...PROJECT, "dbt/target/manifest.json": JSON.stringify(manifest) });
    const lineage = dbtLineage("build", { stepId: "dbt", pipeline, projectDir: dir.dir, options: coreOptions.parse({ project_dir: "dbt", sink: "main" }) })!;
    const named = (name: string) => ({ namespace: "xo-sink://main", name: `table/${name}` });
    expect(lineage).toEqual({ reads: [named("landing.ORDERS_RAW")], writes: [named("dev_staging.orders_v2")], edges: [{ from: named("landing.ORDERS_RAW"), to: named("dev_staging.orders_v2") }] });
  });
});
