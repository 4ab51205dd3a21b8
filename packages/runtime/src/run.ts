/**
 * `xo-foundry run`: the pipeline's task graph executed locally, in dependency
 * order, independent tasks in parallel. It is the same graph and the same task
 * code that Airflow runs; only the scheduling is ours, and it follows Airflow's
 * trigger rules and skip propagation so a local run ends in the states Airflow's
 * would.
 */
import { durationMinutes, isXoError, zonedMidnight, type Diagnostic, type Logger, type Project, type ResolvedPipeline, type TaskSpec, type TriggerRule } from "@xo-foundry/core";
import { failureLines, sendAlerts, wantsAlert, type AlertContext } from "./alerts.js";
import type { ProgressListener } from "./progress.js";
import { pipelineTasks, runTask, StepFailure, type TaskOutcome } from "./task.js";

export type TaskState = "success" | "failed" | "upstream_failed" | "skipped";

export interface TaskReport {
  readonly task: string;
  readonly step: string;
  readonly stream?: string;
  readonly state: TaskState;
  readonly durationMs: number;
  readonly outcome?: TaskOutcome;
  readonly error?: readonly Diagnostic[] | string;
  /** Why the task was skipped. */
  readonly reason?: string;
}

export interface RunSummary {
  readonly pipeline: string;
  readonly logicalDate: string;
  readonly runId: string;
  readonly ok: boolean;
  readonly durationMs: number;
  readonly tasks: readonly TaskReport[];
}

export interface RunOptions {
  readonly pipeline: ResolvedPipeline;
  readonly project: Project;
  readonly logicalDate: string;
  readonly runId?: string;
  readonly log: Logger;
  /** Tasks running at once. */
  readonly concurrency?: number;
  readonly onTaskStart?: (task: TaskSpec) => void;
  readonly onTaskEnd?: (report: TaskReport) => void;
  /** Shows each running task's progress (rows, pages, bytes, elapsed time). */
  readonly progress?: ProgressListener;
  readonly env?: NodeJS.ProcessEnv;
  /** Send the pipeline's `alerts:` (failure, pipeline_failure, success, deadline_missed) as Airflow would; default true. */
  readonly alerts?: boolean;
}

export function localRunId(logicalDate: string): string {
  return `local__${logicalDate}`;
}

type Decision = "run" | "skipped" | "upstream_failed";

/**
 * What a task does once all of its upstream tasks have ended, by its trigger rule
 * (Airflow's semantics; `one_*` rules wait for every upstream task here, which ends
 * in the same state because a local run has no timeouts to race).
 */
export function decide(rule: TriggerRule, states: readonly TaskState[]): Decision {
  if (states.length === 0) return "run";
  const n = (s: TaskState) => states.filter((x) => x === s).length;
  const success = n("success");
  const failed = n("failed") + n("upstream_failed");
  const skipped = n("skipped");
  const all = states.length;
  switch (rule) {
    case "all_success":
      return success === all ? "run" : failed > 0 ? "upstream_failed" : "skipped";
    case "all_failed":
      return failed === all ? "run" : "skipped";
    case "all_done":
    case "always":
      return "run";
    case "all_skipped":
      return skipped === all ? "run" : "skipped";
    case "one_success":
      return success > 0 ? "run" : failed === all ? "upstream_failed" : "skipped";
    case "one_failed":
      return failed > 0 ? "run" : "skipped";
    case "one_done":
      return success + failed > 0 ? "run" : "skipped";
    case "none_failed":
      return failed > 0 ? "upstream_failed" : "run";
    case "none_failed_min_one_success":
      return failed > 0 ? "upstream_failed" : success > 0 ? "run" : "skipped";
    case "none_skipped":
      return skipped > 0 ? "skipped" : "run";
  }
}

export async function runPipeline(options: RunOptions): Promise<RunSummary> {
  const started = performance.now();
  const tasks = pipelineTasks(options.pipeline, options.project);
  const runId = options.runId ?? localRunId(options.logicalDate);
  const concurrency = Math.max(1, options.concurrency ?? 4);
  const reports = new Map<string, TaskReport>();
  const running = new Map<string, Promise<void>>();
  const streamOf = (task: TaskSpec) => (task.stream !== undefined ? { stream: task.stream } : {});

  const alerting: AlertContext | undefined =
    options.alerts === false ? undefined : { config: options.pipeline.config, project: options.project, env: options.env ?? process.env, log: options.log };
  const alertsSent: Promise<unknown>[] = [];
  const alert = (facts: Omit<Parameters<typeof sendAlerts>[1], "logicalDate" | "runId">) => {
    if (alerting && wantsAlert(alerting.config, facts.event)) alertsSent.push(sendAlerts(alerting, { ...facts, logicalDate: options.logicalDate, runId }));
  };
  const deadline = alerting ? deadlineTimer(options, () => alert({ event: "deadline_missed", lines: [`the run of ${options.logicalDate} had not finished by its deadline`] })) : undefined;

  const finish = (report: TaskReport) => {
    reports.set(report.task, report);
    options.onTaskEnd?.(report);
    if (report.state === "failed") alert({ event: "failure", task: report.task, lines: failureLines(report.error) });
  };

  const execute = async (task: TaskSpec): Promise<void> => {
    options.onTaskStart?.(task);
    const t0 = performance.now();
    const base = { task: task.id, step: task.step, ...streamOf(task) };
    try {
      const outcome = await runTask({
        pipeline: options.pipeline,
        project: options.project,
        taskId: task.id,
        logicalDate: options.logicalDate,
        runId,
        log: options.log,
        ...(options.env ? { env: options.env } : {}),
        ...(options.progress ? { progress: options.progress } : {}),
      });
      finish({
        ...base,
        state: outcome.state,
        durationMs: performance.now() - t0,
        outcome,
        ...(outcome.skipReason !== undefined ? { reason: outcome.skipReason } : {}),
      });
    } catch (e) {
      const error = isXoError(e) ? e.diagnostics : e instanceof Error ? e.message : String(e);
      // A step that failed with its summary (failed checks) keeps it for the report.
      const outcome = e instanceof StepFailure ? { outcome: e.outcome } : {};
      finish({ ...base, state: "failed", durationMs: performance.now() - t0, error, ...outcome });
    }
  };

  const pending = new Set(tasks.map((t) => t.id));
  while (pending.size > 0 || running.size > 0) {
    for (const task of tasks) {
      if (!pending.has(task.id) || running.size >= concurrency) continue;
      const upstream = task.upstream.map((u) => reports.get(u));
      if (upstream.some((r) => r === undefined)) continue;
      pending.delete(task.id);
      const decision = decide(task.triggerRule ?? "all_success", upstream.map((r) => r!.state));
      if (decision === "run") {
        running.set(
          task.id,
          execute(task).finally(() => running.delete(task.id)),
        );
      } else {
        finish({ task: task.id, step: task.step, ...streamOf(task), state: decision, durationMs: 0, reason: `trigger rule ${task.triggerRule ?? "all_success"}` });
      }
    }
    if (running.size === 0 && pending.size > 0) {
      // Only reachable with a cycle; the graph is checked to be acyclic, but never spin.
      for (const id of pending) finish({ task: id, step: "", state: "upstream_failed", durationMs: 0 });
      break;
    }
    if (running.size > 0) await Promise.race(running.values());
  }

  const ordered = tasks.map((t) => reports.get(t.id)!).filter(Boolean);
  // As Airflow decides a DAG run's state: by its leaves, where skipped counts as done.
  const ok = ordered.filter((r) => !tasks.some((t) => t.upstream.includes(r.task))).every((r) => r.state === "success" || r.state === "skipped");
  const durationMs = performance.now() - started;
  deadline?.stop();
  const failed = ordered.filter((r) => r.state === "failed").map((r) => r.task);
  alert(
    ok
      ? { event: "success", lines: [`${ordered.filter((r) => r.state === "success").length} tasks succeeded in ${Math.round(durationMs / 1000)}s`] }
      : { event: "pipeline_failure", lines: failed.length ? [`failed: ${failed.join(", ")}`] : ["tasks did not run"] },
  );
  await Promise.all(alertsSent);
  return { pipeline: options.pipeline.config.pipeline.name, logicalDate: options.logicalDate, runId, ok, durationMs, tasks: ordered };
}

/**
 * The pipeline's `deadline:` for a local run: `after_queued` counts from the start of the
 * run, `after_logical_date` from the logical date's midnight in the pipeline's time zone
 * (as Airflow's DAGRUN_LOGICAL_DATE reference does). It fires once, if the run is still going.
 */
function deadlineTimer(options: RunOptions, fire: () => void): { stop(): void } | undefined {
  const d = options.pipeline.config.deadline;
  if (!d) return undefined;
  const minutes = durationMinutes(d.after_queued ?? d.after_logical_date ?? "");
  if (minutes === undefined) return undefined;
  const from = d.after_queued !== undefined ? Date.now() : Date.parse(zonedMidnight(options.logicalDate, options.pipeline.config.pipeline.timezone));
  const timer = setTimeout(fire, Math.max(0, from + minutes * 60_000 - Date.now()));
  timer.unref();
  return { stop: () => clearTimeout(timer) };
}
