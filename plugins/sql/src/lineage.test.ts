import { describe, expect, it } from "vitest";
import type { PipelineConfig } from "@xo-foundry/core";
import { sqlExportLineage, sqlRunLineage, sqlTables } from "./lineage.js";
import { sqlExportOptions } from "./export.js";
import { sqlRunOptions } from "./run.js";

const pipeline = { pipeline: { name: "shop" } } as unknown as PipelineConfig;

describe("SQL lineage", () => {
  it("reads the tables after from and join, and writes what statements create or change", () => {
    expect(
      sqlTables([
        `-- from comments_are_not_tables
         create or replace table revenue_eur as
         with latest as (select * from raw.shop_orders where note <> 'from strings_either')
         select * from latest o join "Fx Rates" r on r.currency = o.currency, read_csv('x.csv')`,
        "insert into audit.log select count(*) from revenue_eur",
      ]),
    ).toEqual({ reads: ["Fx Rates", "raw.shop_orders"], writes: ["audit.log", "revenue_eur"] });
  });

  it("names tables by the step's sink, and an export's files by its stage folder", () => {
    const run = sqlRunLineage({ stepId: "revenue", pipeline, projectDir: "/p", options: sqlRunOptions.parse({ sink: "warehouse", sql: "create table t as select * from s", summary: "select count(*) from t" }) });
    expect(run).toEqual({ reads: [{ namespace: "xo-sink://warehouse", name: "table/s" }], writes: [{ namespace: "xo-sink://warehouse", name: "table/t" }] });
    const exported = sqlExportLineage({ stepId: "changed_orders", pipeline, projectDir: "/p", options: sqlExportOptions.parse({ table: "orders" }) });
    expect(exported).toEqual({ reads: [{ namespace: "xo-sink://", name: "table/orders" }], writes: [{ namespace: "xo-landing://", name: "stage/shop/_steps/changed_orders" }] });
  });
});
