/**
 * `xo-foundry run`: the pipeline's task graph executed locally, in dependency
 * order, independent tasks in parallel. It is the same graph and the same task
 * code that Airflow runs; only the scheduling is ours.
 */
import { isXoError, type Diagnostic, type Logger, type Project, type ResolvedPipeline, type TaskSpec } from "@xo-foundry/core";
import { pipelineTasks, runTask, type TaskOutcome } from "./task.js";

export type TaskState = "success" | "failed" | "upstream_failed";

export interface TaskReport {
  readonly task: string;
  readonly kind: TaskSpec["kind"];
  readonly stream: string;
  readonly state: TaskState;
  readonly durationMs: number;
  readonly outcome?: TaskOutcome;
  readonly error?: readonly Diagnostic[] | string;
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
  /** Tasks running at once; loads additionally run one at a time (one warehouse writer). */
  readonly concurrency?: number;
  readonly onTaskStart?: (task: TaskSpec) => void;
  readonly onTaskEnd?: (report: TaskReport) => void;
  readonly env?: NodeJS.ProcessEnv;
}

export function localRunId(logicalDate: string): string {
  return `local__${logicalDate}`;
}

export async function runPipeline(options: RunOptions): Promise<RunSummary> {
  const started = performance.now();
  const tasks = pipelineTasks(options.pipeline, options.project);
  const runId = options.runId ?? localRunId(options.logicalDate);
  const concurrency = Math.max(1, options.concurrency ?? 4);
  const reports = new Map<string, TaskReport>();
  const running = new Map<string, Promise<void>>();
  let loadQueue: Promise<unknown> = Promise.resolve();

  const execute = async (task: TaskSpec): Promise<void> => {
    options.onTaskStart?.(task);
    const t0 = performance.now();
    const call = () =>
      runTask({
        pipeline: options.pipeline,
        project: options.project,
        taskId: task.id,
        logicalDate: options.logicalDate,
        runId,
        log: options.log,
        ...(options.env ? { env: options.env } : {}),
      });
    let report: TaskReport;
    try {
      // Warehouse files (DuckDB) take one writer at a time; queue loads behind each other.
      const result = task.kind === "load" ? (loadQueue = loadQueue.catch(() => undefined).then(call)) : call();
      const outcome = (await result) as TaskOutcome;
      report = { task: task.id, kind: task.kind, stream: task.stream, state: "success", durationMs: performance.now() - t0, outcome };
    } catch (e) {
      const error = isXoError(e) ? e.diagnostics : e instanceof Error ? e.message : String(e);
      report = { task: task.id, kind: task.kind, stream: task.stream, state: "failed", durationMs: performance.now() - t0, error };
    }
    reports.set(task.id, report);
    options.onTaskEnd?.(report);
  };

  const pending = new Set(tasks.map((t) => t.id));
  while (pending.size > 0 || running.size > 0) {
    for (const task of tasks) {
      if (!pending.has(task.id) || running.size >= concurrency) continue;
      const upstream = task.upstream.map((u) => reports.get(u));
      if (upstream.some((r) => r && r.state !== "success")) {
        pending.delete(task.id);
        const report: TaskReport = { task: task.id, kind: task.kind, stream: task.stream, state: "upstream_failed", durationMs: 0 };
        reports.set(task.id, report);
        options.onTaskEnd?.(report);
        continue;
      }
      if (upstream.every((r) => r?.state === "success")) {
        pending.delete(task.id);
        running.set(
          task.id,
          execute(task).finally(() => running.delete(task.id)),
        );
      }
    }
    if (running.size === 0 && pending.size > 0) {
      // Only reachable with a cycle; templates build acyclic graphs, but never spin.
      for (const id of pending) reports.set(id, { task: id, kind: "extract", stream: "", state: "upstream_failed", durationMs: 0 });
      break;
    }
    if (running.size > 0) await Promise.race(running.values());
  }

  const ordered = tasks.map((t) => reports.get(t.id)!).filter(Boolean);
  return {
    pipeline: options.pipeline.config.pipeline.name,
    logicalDate: options.logicalDate,
    runId,
    ok: ordered.every((r) => r.state === "success"),
    durationMs: performance.now() - started,
    tasks: ordered,
  };
}
