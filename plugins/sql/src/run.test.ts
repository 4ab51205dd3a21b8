import { describe, expect, it } from "vitest";
import type { JsonObject, Warehouse } from "@xo-foundry/core";
import { rejectionOf, stepContext } from "@xo-foundry/testkit";
import { sql, sqlRun, sqlRunOptions, type SqlRunOptions } from "./index.js";

/** A warehouse that records what it is asked and answers from a script. */
function scripted(rows: JsonObject[]): Warehouse & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    dialect: "test",
    query: async (q) => (calls.push(`query ${q}`), rows),
    execute: async (statements) => void calls.push(`execute ${statements.join("; ")}`),
    exportQuery: async () => [],
    describe: async () => undefined,
  };
}

const run = (options: SqlRunOptions, warehouse: Warehouse, name = "main") =>
  sqlRun.run(stepContext({ options: sqlRunOptions.parse(options), warehouses: { [name]: warehouse } }));

describe("sql.run", () => {
  it("runs the statements in one call and reports how many", async () => {
    const w = scripted([]);
    expect(await run({ sql: ["create table a (x int)", "insert into a values (1)"] }, w)).toEqual({ summary: { statements: 2 } });
    expect(w.calls).toEqual(["execute create table a (x int); insert into a values (1)"]);
  });

  it("makes the summary query's one row the step's summary", async () => {
    const w = scripted([{ orders: 23, revenue: 1234.5 }]);
    expect(await run({ sql: "update t set x = 1", summary: "select count(*) as orders from t" }, w)).toEqual({
      summary: { statements: 1, orders: 23, revenue: 1234.5 },
    });
  });

  it("uses the sink it names", async () => {
    const w = scripted([{ n: 1 }]);
    expect(await run({ summary: "select 1 as n", sink: "archive" }, w, "archive")).toEqual({ summary: { statements: 0, n: 1 } });
  });

  it("fails with its own code when the summary query returns nothing", async () => {
    const e = await rejectionOf(() => run({ summary: "select * from t where false" }, scripted([])));
    expect(e).toMatchObject({ code: "XO_SQL_SUMMARY_EMPTY" });
    expect(sql().errors).toHaveProperty("XO_SQL_SUMMARY_EMPTY");
  });

  it("needs `sql` or `summary`", () => {
    expect(sqlRunOptions.safeParse({}).success).toBe(false);
    expect(sqlRunOptions.strict().safeParse({}).success).toBe(false);
  });
});
