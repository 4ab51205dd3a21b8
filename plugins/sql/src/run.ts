/**
 * `sql.run`: statements on a warehouse, in one transaction, and an optional query whose
 * single row becomes the step's summary, so later steps can decide on it (`when:`).
 */
import { z } from "zod";
import type { StepType } from "@xo-foundry/core";
import { SqlError } from "./errors.js";
import { sqlRunLineage } from "./lineage.js";

export const sqlRunOptions = z
  .object({
    sql: z
      .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
      .optional()
      .describe("A statement, or a list of them, run in one transaction: all take effect or none."),
    summary: z
      .string()
      .min(1)
      .optional()
      .describe("A query returning one row; its columns become the step's summary (e.g. `select count(*) as orders from orders`)."),
    sink: z
      .string()
      .regex(/^[a-z][a-z0-9_]{0,62}$/)
      .optional()
      .describe("The sink whose warehouse runs the SQL; the pipeline's only sink when unset."),
  })
  .refine((o) => o.sql !== undefined || o.summary !== undefined, { message: "give `sql`, `summary`, or both" });

export type SqlRunOptions = z.infer<typeof sqlRunOptions>;

export const sqlRun: StepType<SqlRunOptions> = {
  id: "sql.run",
  description: "Run SQL statements on a sink's warehouse in one transaction; optionally report one row as the step's summary.",
  options: sqlRunOptions,
  lineage: sqlRunLineage,
  async run(ctx) {
    const warehouse = ctx.services.warehouse(ctx.options.sink);
    const statements = ctx.options.sql === undefined ? [] : Array.isArray(ctx.options.sql) ? ctx.options.sql : [ctx.options.sql];
    if (statements.length > 0) {
      await warehouse.execute(statements);
      ctx.log.info(`ran ${statements.length} statement(s) on ${warehouse.dialect}`);
    }
    if (ctx.options.summary === undefined) return { summary: { statements: statements.length } };
    const rows = await warehouse.query(ctx.options.summary);
    const first = rows[0];
    if (first === undefined) {
      throw new SqlError(
        "XO_SQL_SUMMARY_EMPTY",
        `the summary query of ${ctx.taskId} returned no row`,
        "make the summary query return exactly one row, e.g. an aggregate such as count(*)",
      );
    }
    return { summary: { statements: statements.length, ...first } };
  },
};
