/**
 * `quality.check`: the step type that runs a pipeline's `checks:` (`handles: "checks"`), and
 * any explicit checks step. Each check is one result in the summary and one log line; checks
 * of severity `warn` that do not hold become warnings (the task succeeds, `check_warning`
 * alerts go out), checks of severity `fail` that do not hold, or cannot run, become the
 * task's failure, after the summary is saved.
 */
import { checkKind, redact, stepStateKey, type CheckResult, type CheckSpec, type JsonObject, type StepContext, type StepResult, type StepType } from "@xo-foundry/core";
import { CheckProblem, defaultName, measure, type Measurement } from "./checks.js";
import { landedTarget } from "./landed.js";
import { checkStepOptions, type CheckOptions } from "./options.js";
import { tableTarget } from "./table.js";
import type { CheckTarget } from "./target.js";

/** What `max_change_pct` compares with: the row count of the last run whose downstream succeeded. */
interface CountState extends JsonObject {
  readonly rows: number;
}

export const qualityCheck: StepType<CheckOptions> = {
  id: "quality.check",
  description:
    "Data quality checks (row counts, nulls, uniqueness, accepted values, ranges, patterns, schema, freshness, custom SQL) on a stream's landed files before the load, or on a table after it.",
  options: checkStepOptions,
  handles: "checks",
  canSkip: false,
  async run(ctx) {
    ctx.signal.throwIfAborted();
    const { at, stream } = ctx.options;
    const opened = at === "pre_load" ? await landedTarget(ctx, stream!) : await tableTarget(ctx);
    const reads = "partition" in opened ? [{ uri: opened.partition }] : "dataset" in opened && opened.dataset ? [opened.dataset] : [];
    const target = opened.target;
    let results: Outcome[];
    try {
      results = await runChecks(ctx, target);
    } finally {
      await target.close();
    }
    return report(ctx, target, results, reads);
  },
};

interface Outcome {
  readonly result: CheckResult;
  /** What was found, in words. */
  readonly detail: string;
  readonly rows?: number;
}

async function runChecks(ctx: StepContext<CheckOptions>, target: CheckTarget): Promise<Outcome[]> {
  const stateKey = stepStateKey("checks", ctx.taskId);
  const needsPrevious = ctx.options.checks.some((c) => c.row_count?.max_change_pct !== undefined);
  const saved = needsPrevious ? await ctx.state.get(stateKey) : undefined;
  const previousRows = typeof saved?.value.rows === "number" ? saved.value.rows : undefined;
  const names = uniqueNames(ctx.options.checks);
  const outcomes: Outcome[] = [];
  for (const [i, check] of ctx.options.checks.entries()) {
    ctx.signal.throwIfAborted();
    const name = names[i]!;
    let measured: Measurement | { problem: string };
    try {
      measured = await measure(check, { target, windowEnd: ctx.window.end, timeZone: ctx.window.timezone, previousRows });
    } catch (error) {
      if (ctx.signal.aborted) throw ctx.signal.reason;
      measured = { problem: error instanceof CheckProblem ? error.message : `it could not run: ${error instanceof Error ? error.message : String(error)}` };
    }
    const outcome = outcomeOf(check, name, ctx.options.at, measured);
    const line = `check ${name} on ${target.label}: ${outcome.result.status} (${outcome.detail})`;
    if (outcome.result.status === "fail") ctx.log.warn(line);
    else ctx.log.info(line);
    outcomes.push(outcome);
  }
  return outcomes;
}

function outcomeOf(check: CheckSpec, name: string, at: CheckOptions["at"], measured: Measurement | { problem: string }): Outcome {
  const base = { name, kind: checkKind(check), severity: check.severity, at };
  if ("problem" in measured) {
    // A check that cannot run proves nothing about the data: it fails whatever its severity.
    const detail = redact(measured.problem);
    return { result: { ...base, status: "fail", observed: { error: detail }, expected: "the check to run" }, detail };
  }
  const result: CheckResult = {
    ...base,
    status: measured.held ? "pass" : check.severity === "warn" ? "warn" : "fail",
    observed: measured.observed,
    expected: redact(measured.expected),
    ...(measured.failingRows !== undefined ? { failing_rows: measured.failingRows } : {}),
    ...(measured.samples?.length ? { samples: measured.samples } : {}),
  };
  return { result, detail: redact(measured.detail), ...(measured.rows !== undefined ? { rows: measured.rows } : {}) };
}

function report(ctx: StepContext<CheckOptions>, target: CheckTarget, outcomes: readonly Outcome[], reads: StepResult["reads"]): StepResult {
  const count = (status: CheckResult["status"]) => outcomes.filter((o) => o.result.status === status).length;
  const summary = { checks: outcomes.map((o) => o.result) as unknown as JsonObject[], passed: count("pass"), warned: count("warn"), failed: count("fail") };
  const lineOf = (o: Outcome) => `check ${o.result.name} on ${target.label}: ${o.detail}`;
  const warnings = outcomes.filter((o) => o.result.status === "warn").map(lineOf);
  const failed = outcomes.filter((o) => o.result.status === "fail");
  ctx.log.info(`${outcomes.length} check(s) on ${target.label}: ${summary.passed} passed, ${summary.warned} warned, ${summary.failed} failed`);
  const rows = outcomes.find((o) => o.rows !== undefined)?.rows;
  const counted: CountState | undefined = rows === undefined ? undefined : { rows };
  return {
    summary,
    ...(reads?.length ? { reads } : {}),
    ...(warnings.length ? { warnings } : {}),
    ...(failed.length
      ? {
          failure: {
            code: "XO_CHECK_FAILED",
            message:
              failed.length === 1
                ? lineOf(failed[0]!)
                : `${failed.length} checks failed on ${target.label}:\n${failed.map((o) => `  - ${o.result.name}: ${o.detail}`).join("\n")}`,
          },
        }
      : {}),
    // The count becomes the next run's baseline once the tasks after this one succeeded.
    ...(counted && failed.length === 0 ? { state: { [stepStateKey("checks", ctx.taskId)]: counted } } : {}),
  };
}

/** Each check's name for reports: its own, or its kind and columns, numbered when two would read the same. */
function uniqueNames(checks: readonly CheckSpec[]): string[] {
  const seen = new Map<string, number>();
  return checks.map((check) => {
    const base = check.name ?? defaultName(check);
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    return n === 1 ? base : `${base} #${n}`;
  });
}
