/**
 * `pipeline.schedule`: an Airflow preset or a 5-field cron expression, checked here so a
 * typo fails `validate` instead of the DAG import in Airflow. The cron grammar is
 * cron-parser's; on top of it we enforce what Airflow's croniter reads differently.
 */
import { createRequire } from "node:module";
import type { CronExpressionParser as Parser } from "cron-parser";
import { z } from "zod";
import { suggestName } from "../registry.js";

// cron-parser (with its date library) loads only for a pipeline whose schedule is a cron
// expression, not on every start of the CLI.
const require = createRequire(import.meta.url);
let parser: typeof Parser | undefined;
const cronParser = (): typeof Parser => (parser ??= (require("cron-parser") as { CronExpressionParser: typeof Parser }).CronExpressionParser);

/** The presets Airflow accepts as a schedule (`null` means manual runs only). */
export const SCHEDULE_PRESETS = [
  "@once",
  "@continuous",
  "@hourly",
  "@daily",
  "@weekly",
  "@monthly",
  "@quarterly",
  "@yearly",
  "@annually",
] as const;

const EXPECTED = 'expected a cron expression (minute hour day-of-month month day-of-week, e.g. "0 6 * * *") or an Airflow preset such as "@daily"';
const PRESETS: ReadonlySet<string> = new Set(SCHEDULE_PRESETS);
const FIELDS = ["minute", "hour", "day-of-month", "month", "day-of-week"] as const;

/** Why `value` is not a schedule Airflow accepts, or undefined when it is one. */
export function scheduleProblem(value: string): string | undefined {
  const text = value.trim();
  if (text === "") return "the schedule is empty (use null for manual runs only)";
  if (PRESETS.has(text)) return undefined;
  const suggestion = suggestName(text.startsWith("@") ? text : `@${text}`, SCHEDULE_PRESETS);
  if (text.startsWith("@")) return `unknown preset ${JSON.stringify(text)}${suggestion ? `; did you mean ${JSON.stringify(suggestion)}?` : ""}`;

  const fields = text.split(/\s+/);
  if (fields.length !== FIELDS.length) {
    const hint = fields.length === 1 && suggestion ? `; did you mean ${JSON.stringify(suggestion)}?` : "";
    return `found ${fields.length} field${fields.length === 1 ? "" : "s"}, expected 5${hint}`;
  }
  // croniter only expands Jenkins-style `H` with a hash id, which Airflow never passes.
  const hashed = fields.findIndex((f) => f.split(",").some((part) => /^H(?:$|[(/])/i.test(part)));
  if (hashed >= 0) return `${FIELDS[hashed]} ${JSON.stringify(fields[hashed])}: "H" (hashed) values are not supported by Airflow`;
  // "Last weekday of the month" is `L5` for croniter and `5L` for most other parsers; no day name contains an L.
  if (/L/i.test(fields[4]!)) return `day-of-week ${JSON.stringify(fields[4])}: "L" (last weekday of the month) is not supported`;
  try {
    cronParser().parse(text);
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  return undefined;
}

/** A schedule string (cron or preset) or null; the pipeline schema adds the default. */
export const scheduleSchema = z
  .string()
  .min(1, { error: `${EXPECTED}: the schedule is empty (use null for manual runs only)` })
  .check((ctx) => {
    if (ctx.value === "") return; // reported by min(1) above
    const problem = scheduleProblem(ctx.value);
    if (problem) ctx.issues.push({ code: "custom", message: `${EXPECTED}: ${problem}`, input: ctx.value });
  })
  .nullable();

/**
 * Runs when upstream pipelines have updated datasets: Airflow assets (datasets on Airflow 2),
 * named as `xo-foundry lineage --format json` lists a table, e.g. `duckdb://warehouse.duckdb/main.orders`.
 */
export const assetSchedule = z.strictObject({
  assets: z
    .array(
      z
        .string()
        .min(1)
        .regex(/^[a-z][a-z0-9+.-]*:\/\/[^\s]+$/, { message: "expected a dataset URI such as duckdb://warehouse.duckdb/main.orders" })
        .refine((uri) => !uri.startsWith("airflow://"), { message: "the airflow:// scheme is Airflow's own" }),
    )
    .min(1)
    .describe("Run once every one of these datasets was updated since the last run."),
});

/** `pipeline.schedule`: a time schedule, or the datasets a run waits for. */
export const pipelineSchedule = z.union([scheduleSchema, assetSchedule]);
