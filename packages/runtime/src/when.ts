/**
 * `when:` conditions, checked as a task starts. False means the task ends as skipped,
 * and Airflow's trigger rules decide what its downstream tasks do.
 */
import { parseDate, xoError, WEEKDAYS, type JsonValue, type SummaryCondition, type TaskSummary, type WhenCondition } from "@xo-foundry/core";

export type Verdict = { readonly run: true } | { readonly run: false; readonly reason: string };

export function checkWhen(
  when: WhenCondition | undefined,
  taskId: string,
  logicalDate: string,
  upstream: Readonly<Record<string, TaskSummary>>,
): Verdict {
  if (!when) return { run: true };
  const { y, m, d } = parseDate(logicalDate);
  const date = new Date(Date.UTC(y, m - 1, d));
  if (when.weekday) {
    // getUTCDay: 0 is Sunday.
    const day = WEEKDAYS[(date.getUTCDay() + 6) % 7]!;
    if (!when.weekday.includes(day)) return { run: false, reason: `${logicalDate} is a ${day}, not ${when.weekday.join("/")}` };
  }
  if (when.day_of_month) {
    const last = new Date(Date.UTC(y, m, 0)).getUTCDate();
    const matches = when.day_of_month.some((want) => (want === -1 ? d === last : d === want));
    if (!matches) return { run: false, reason: `${logicalDate} is day ${d} of the month, not ${when.day_of_month.join("/")}` };
  }
  for (const condition of when.summary ?? []) {
    const verdict = compare(condition, taskId, upstream);
    if (!verdict.run) return verdict;
  }
  return { run: true };
}

function compare(condition: SummaryCondition, taskId: string, upstream: Readonly<Record<string, TaskSummary>>): Verdict {
  const summary = upstream[condition.task];
  const name = `${condition.task}.${condition.field}`;
  if (!summary || summary.state === "skipped") return { run: false, reason: `${condition.task} did not run` };
  const actual = fieldAt(summary.summary, condition.field);
  if (actual === undefined) {
    throw xoError("XO_CONFIG_INVALID_VALUE", {
      detail: `task ${JSON.stringify(taskId)}: the summary of ${condition.task} has no field ${JSON.stringify(condition.field)}`,
      expected: `one of ${Object.keys(summary.summary).map((k) => JSON.stringify(k)).join(", ") || "(no fields)"}`,
    });
  }
  const want = condition.value;
  const holds = (() => {
    switch (condition.op) {
      case "==":
        return actual === want;
      case "!=":
        return actual !== want;
      case ">":
      case ">=":
      case "<":
      case "<=": {
        // Numbers compare as numbers, anything else as text (ISO dates order correctly as text).
        const [a, b] = typeof actual === "number" && typeof want === "number" ? [actual, want] : [String(actual), String(want)];
        return condition.op === ">" ? a > b : condition.op === ">=" ? a >= b : condition.op === "<" ? a < b : a <= b;
      }
    }
  })();
  return holds ? { run: true } : { run: false, reason: `${name} is ${JSON.stringify(actual)}, not ${condition.op} ${JSON.stringify(want)}` };
}

function fieldAt(value: JsonValue, dotted: string): JsonValue | undefined {
  let v: JsonValue | undefined = value;
  for (const key of dotted.split(".")) {
    if (v === null || typeof v !== "object" || Array.isArray(v)) return undefined;
    v = (v as Record<string, JsonValue>)[key];
  }
  return v;
}
