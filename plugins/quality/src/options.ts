/**
 * The `with:` block of `quality.check`. The graph fills it for a pipeline's `checks:` (a
 * stream and the checks of one phase); a user writes it for an explicit step, e.g. checks
 * of a dbt model's table (`table:`, `at: post_load`).
 */
import { z } from "zod";
import { CHECK_PHASES, checkPhase, checkSchema, NAME_PATTERN } from "@xo-foundry/core";

const name = () => z.string().regex(new RegExp(NAME_PATTERN));

export const checkStepOptions = z
  .object({
    stream: name()
      .optional()
      .describe("The stream whose data is checked: its landed files before the load (`pre_load`), the table its load wrote after it (`post_load`)."),
    table: z
      .string()
      .min(1)
      .optional()
      .describe("Instead of `stream`, for `post_load`: a table of the sink's warehouse, e.g. a dbt model (`analytics.daily_orders`)."),
    sink: name().optional().describe("The sink whose warehouse holds the table (`post_load`); the pipeline's only sink when unset."),
    at: z.enum(CHECK_PHASES).default("pre_load").describe("`pre_load`: on the stream's landed files, before the load; `post_load`: on the table."),
    checks: z.array(checkSchema).min(1).describe("The checks, as in a pipeline's `checks:` block."),
  })
  .superRefine((o, ctx) => {
    if (o.stream !== undefined && o.table !== undefined) ctx.addIssue({ code: "custom", path: ["table"], message: "give `stream` or `table`, not both" });
    if (o.at === "pre_load" && o.stream === undefined) {
      ctx.addIssue({ code: "custom", path: ["stream"], message: "`pre_load` checks run on a stream's landed files: name the `stream` (or check a `table` with `at: post_load`)" });
    }
    if (o.at === "post_load" && o.stream === undefined && o.table === undefined) ctx.addIssue({ code: "custom", path: ["table"], message: "`post_load` checks need a `stream` or a `table`" });
    if (o.at === "pre_load" && o.sink !== undefined) ctx.addIssue({ code: "custom", path: ["sink"], message: "`sink` is for `post_load` checks; `pre_load` checks read the landed files" });
    o.checks.forEach((check, i) => {
      if (check.at !== undefined && checkPhase(check) !== o.at) {
        ctx.addIssue({ code: "custom", path: ["checks", i, "at"], message: `this check says \`at: ${check.at}\`, but the step runs \`at: ${o.at}\`` });
      }
    });
  });

export type CheckOptions = z.output<typeof checkStepOptions>;
