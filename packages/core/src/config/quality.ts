/**
 * The `checks:`, `alerts:` and `deadline:` blocks of a pipeline. The core owns their
 * grammar, so every pipeline reads the same; plugins run them: the step type that
 * `handles: "checks"` runs the checks, notifiers send the alerts.
 */
import { z } from "zod";
import { ALERT_EVENTS, type JsonObject, type JsonValue } from "../plugin.js";

export const CHECK_KINDS = ["row_count", "not_null", "unique", "accepted_values", "range", "regex", "schema", "freshness", "sql"] as const;
export type CheckKind = (typeof CHECK_KINDS)[number];

/** Before the load, on the landed files (a failing check stops the load); after it, on the table. */
export const CHECK_PHASES = ["pre_load", "post_load"] as const;
export type CheckPhase = (typeof CHECK_PHASES)[number];

export const SEVERITIES = ["warn", "fail"] as const;
export type CheckSeverity = (typeof SEVERITIES)[number];

/** The column types a `schema` check compares, as families every warehouse maps onto. */
export const COLUMN_TYPES = ["string", "integer", "number", "boolean", "date", "timestamp", "json", "any"] as const;
export type ColumnType = (typeof COLUMN_TYPES)[number];

const column = () => z.string().min(1).describe("A column name.");
const columns = () => z.array(column()).min(1);
const scalar = z.union([z.string(), z.number(), z.boolean()]);
const bound = z.union([z.number(), z.string()]);

const kinds = {
  row_count: z
    .strictObject({
      min: z.number().int().min(0).optional().describe("At least this many rows."),
      max: z.number().int().min(0).optional().describe("At most this many rows."),
      max_change_pct: z.number().positive().optional().describe("At most this change, in %, against the previous successful run's count."),
    })
    .refine((v) => v.min !== undefined || v.max !== undefined || v.max_change_pct !== undefined, { message: "row_count needs `min`, `max` or `max_change_pct`" })
    .describe("Row count bounds, or change against the previous run."),
  not_null: columns().describe("Columns that may not be null."),
  unique: columns().describe("Columns whose values, together, are unique."),
  accepted_values: z
    .strictObject({ column: column(), values: z.array(scalar).min(1).describe("The values allowed (null is allowed too).") })
    .describe("A column holds only these values."),
  range: z
    .strictObject({ column: column(), min: bound.optional(), max: bound.optional() })
    .refine((v) => v.min !== undefined || v.max !== undefined, { message: "range needs `min` or `max`" })
    .describe("A column's values are within [min, max] (numbers, or dates as YYYY-MM-DD)."),
  regex: z
    .strictObject({
      column: column(),
      pattern: z.string().min(1).refine(isRegex, { message: "not a valid regular expression" }).describe("The whole value must match."),
    })
    .describe("A column's values match a regular expression."),
  schema: z
    .strictObject({
      columns: z.record(column(), z.enum(COLUMN_TYPES)).describe("Expected columns and their type families."),
      allow_new: z.boolean().default(true).describe("Whether columns not listed are drift to report (true) or a failure (false)."),
    })
    .describe("Expected columns and types; missing columns fail, new ones are reported as drift."),
  freshness: z
    .strictObject({
      column: column(),
      max_age_hours: z.number().positive().describe("The newest value is at most this old at the end of the data window."),
    })
    .describe("The newest row is recent enough."),
  sql: z.string().min(1).describe("A query over `{table}` returning the failing rows, or one count of them."),
} satisfies Record<CheckKind, z.ZodType>;

/** One check as configured: exactly one kind, with its severity and phase. */
export const checkSchema = z
  .strictObject({
    ...Object.fromEntries(Object.entries(kinds).map(([k, v]) => [k, v.optional()])),
    name: z.string().regex(/^[a-z][a-z0-9_]{0,62}$/).optional().describe("A name for reports; by default the kind and its columns."),
    severity: z.enum(SEVERITIES).default("fail").describe("`fail` stops the pipeline; `warn` reports and goes on."),
    at: z.enum(CHECK_PHASES).optional().describe("`pre_load` (on the landed files; the default) or `post_load` (on the table)."),
  } as { [K in CheckKind]: z.ZodOptional<(typeof kinds)[K]> } & {
    name: z.ZodOptional<z.ZodString>;
    severity: z.ZodDefault<z.ZodEnum<{ warn: "warn"; fail: "fail" }>>;
    at: z.ZodOptional<z.ZodEnum<{ pre_load: "pre_load"; post_load: "post_load" }>>;
  })
  .check((ctx) => {
    const present = CHECK_KINDS.filter((k) => ctx.value[k] !== undefined);
    if (present.length === 1) return;
    ctx.issues.push({
      code: "custom",
      input: ctx.value,
      message: present.length === 0 ? `a check needs one of: ${CHECK_KINDS.join(", ")}` : `a check has one kind; found ${present.join(" and ")}`,
      params: { expected: `one of ${CHECK_KINDS.join(", ")}` },
    });
  });

export type CheckSpec = z.output<typeof checkSchema>;

/** The kind of a parsed check. */
export function checkKind(check: CheckSpec): CheckKind {
  return CHECK_KINDS.find((k) => check[k] !== undefined)!;
}

/** Where a check runs: `post_load` when asked, else before the load. */
export function checkPhase(check: CheckSpec): CheckPhase {
  return check.at ?? "pre_load";
}

/** `checks:`: per stream of the pipeline, its checks. */
export const checksBlock = z.record(z.string().regex(/^[a-z][a-z0-9_]{0,62}$/), z.array(checkSchema).min(1)).describe("Data quality checks, per stream.");

/**
 * What the checks step gets in its `with:`: the stream (its landed files before the load,
 * its table after) or a table of a sink, and the checks of that phase.
 */
export interface CheckStepOptions {
  readonly stream?: string;
  /** A table of `sink`, for checks on tables no stream of the pipeline loads (a dbt model). */
  readonly table?: string;
  readonly sink?: string;
  readonly at: CheckPhase;
  readonly checks: readonly CheckSpec[];
}

/** One check's outcome, as the checks step reports it in its summary (`summary.checks`). */
export interface CheckResult {
  readonly name: string;
  readonly kind: CheckKind;
  readonly severity: CheckSeverity;
  readonly at: CheckPhase;
  /** `pass`; `warn` or `fail` when it did not hold, by its severity. */
  readonly status: "pass" | "warn" | "fail";
  /** What was measured: a count, the newest value, the columns found. */
  readonly observed: JsonValue;
  /** What was expected, in words. */
  readonly expected: string;
  /** Rows that broke the check, when it counts rows. */
  readonly failing_rows?: number;
  /** A few of those rows (at most 5), with secret-looking values redacted. */
  readonly samples?: readonly JsonObject[];
}

// ---------------------------------------------------------------- alerts

/**
 * An `alerts:` entry as the core checks it: `on` and one channel key; the channel's
 * block is checked against its notifier's schema (config/load.ts).
 */
export const alertEntry = z
  .looseObject({
    on: z.array(z.enum(ALERT_EVENTS)).min(1).describe(`When to send: ${ALERT_EVENTS.join(", ")}.`),
  })
  .describe("Where to send alerts, and on which events.");

export interface AlertEntry {
  readonly on: readonly (typeof ALERT_EVENTS)[number][];
  /** The notifier id (`slack`), its options and connection. */
  readonly channel: string;
  readonly connection?: string;
  readonly options: Readonly<Record<string, unknown>>;
}

// ---------------------------------------------------------------- deadline

const DURATION = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?$/;

/** Minutes in a duration such as `2h`, `90m`, `1d12h`; undefined when it is not one. */
export function durationMinutes(text: string): number | undefined {
  const m = DURATION.exec(text);
  if (!m || text === "") return undefined;
  const [d, h, min] = [m[1], m[2], m[3]].map((x) => Number(x ?? 0));
  return d! * 1440 + h! * 60 + min!;
}

const duration = () =>
  z
    .string()
    .refine((v) => (durationMinutes(v) ?? 0) > 0, { message: "expected a duration such as 30m, 2h or 1d12h" })
    .refine((v) => (durationMinutes(v) ?? 0) <= 366 * 1440, { message: "a deadline is at most 366d" });

/** `deadline:`: when a run that has not finished is late (Airflow Deadline Alerts; SLAs on Airflow 2). */
export const deadlineBlock = z
  .strictObject({
    after_queued: duration().optional().describe("Late this long after the run was queued."),
    after_logical_date: duration().optional().describe("Late this long after the logical date (the data interval's start)."),
  })
  .check((ctx) => {
    const n = [ctx.value.after_queued, ctx.value.after_logical_date].filter((v) => v !== undefined).length;
    if (n !== 1) ctx.issues.push({ code: "custom", input: ctx.value, message: "a deadline needs exactly one of `after_queued` and `after_logical_date`" });
  })
  .describe("When a run is late; `deadline_missed` alerts are sent then.");

export interface Deadline {
  readonly after_queued?: string;
  readonly after_logical_date?: string;
}

function isRegex(pattern: string): boolean {
  try {
    new RegExp(pattern, "u");
    return true;
  } catch {
    return false;
  }
}
