/**
 * Local runs started from the page: the code `xo-foundry run` runs (runtime's
 * `runPipeline`), with each task's start and end kept as events that any number of
 * Server-Sent Events streams replay and follow. One run per pipeline file at a time.
 */
import { randomUUID } from "node:crypto";
import {
  formatDiagnostic,
  isXoError,
  parseDate,
  redact,
  type Diagnostic,
  type Project,
  type ResolvedPipeline,
} from "@xo-foundry/core";
import { consoleLogger, runPipeline, type ProgressListener, type TaskProgress, type TaskReport } from "@xo-foundry/runtime";
import { connectionProblems } from "../commands/run.js";

export type RunEvent =
  | { readonly type: "start"; readonly pipeline: string; readonly logicalDate: string; readonly tasks: readonly string[] }
  | { readonly type: "task"; readonly task: string; readonly state: "running" | TaskReport["state"]; readonly durationMs?: number; readonly detail?: string }
  | { readonly type: "progress"; readonly task: string; readonly phase: string; readonly rows: number; readonly pages: number; readonly bytes: number; readonly files: number }
  | { readonly type: "log"; readonly line: string }
  | { readonly type: "summary"; readonly ok: boolean; readonly durationMs: number; readonly counts: Readonly<Record<string, number>>; readonly errors: readonly string[] };

/** How often the counters of running tasks (rows, pages, bytes) are sent while they change. */
const PROGRESS_INTERVAL_MS = 500;
/** Log lines kept per run: a chatty step cannot fill the server's memory or the page. */
const MAX_LOG_LINES = 2000;

interface Run {
  readonly id: string;
  readonly file: string;
  readonly events: RunEvent[];
  readonly listeners: Set<(e: RunEvent) => void>;
  done: boolean;
}

export class RunBusy extends Error {}

/** Finished runs kept for late listeners; older ones are forgotten. */
const KEEP_FINISHED = 20;

export class Runs {
  readonly #runs = new Map<string, Run>();
  readonly #byFile = new Map<string, Run>();

  /** Starts a run; throws RunBusy when this file's last run has not ended. */
  start(pipeline: ResolvedPipeline, project: Project, logicalDate: string, tasks: readonly string[]): string {
    parseDate(logicalDate);
    const busy = this.#byFile.get(pipeline.file);
    if (busy && !busy.done) throw new RunBusy(`a run of this pipeline is in progress (${busy.id})`);
    const run: Run = { id: randomUUID(), file: pipeline.file, events: [], listeners: new Set(), done: false };
    this.#runs.set(run.id, run);
    this.#byFile.set(pipeline.file, run);
    const emit = (e: RunEvent) => {
      run.events.push(e);
      for (const l of run.listeners) l(e);
    };
    emit({ type: "start", pipeline: pipeline.config.pipeline.name, logicalDate, tasks });
    void execute(pipeline, project, logicalDate, emit).finally(() => {
      run.done = true;
      run.listeners.clear();
      const finished = [...this.#runs.values()].filter((r) => r.done);
      for (const old of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED))) this.#runs.delete(old.id);
    });
    return run.id;
  }

  /** Replays a run's events to `listener`, then follows it; returns false when there is no such run. */
  follow(id: string, listener: (e: RunEvent) => void, ended: () => void): { stop(): void } | undefined {
    const run = this.#runs.get(id);
    if (!run) return undefined;
    for (const e of run.events) listener(e);
    if (run.done) {
      ended();
      return { stop() {} };
    }
    const l = (e: RunEvent) => {
      listener(e);
      if (e.type === "summary") ended();
    };
    run.listeners.add(l);
    return { stop: () => run.listeners.delete(l) };
  }

  /** Waits for every run to end (for shutdown and tests). */
  async settle(): Promise<void> {
    while ([...this.#runs.values()].some((r) => !r.done)) await new Promise((r) => setTimeout(r, 20));
  }
}

async function execute(pipeline: ResolvedPipeline, project: Project, logicalDate: string, emit: (e: RunEvent) => void): Promise<void> {
  const started = performance.now();
  const missing = connectionProblems(pipeline.config);
  if (missing.length) {
    // Every task would fail the same way: say it once per connection, as `run` does.
    emit({ type: "summary", ok: false, durationMs: 0, counts: {}, errors: missing.map((d) => redact(formatDiagnostic(d))) });
    return;
  }
  const live = liveProgress(emit);
  let logLines = 0;
  try {
    const summary = await runPipeline({
      pipeline,
      project,
      logicalDate,
      // What `xo-foundry run` prints of the steps' logs, redacted, up to a limit.
      log: consoleLogger({
        write: (line) => {
          if (++logLines <= MAX_LOG_LINES) emit({ type: "log", line: redact(line) });
          else if (logLines === MAX_LOG_LINES + 1) emit({ type: "log", line: `… more log lines than ${MAX_LOG_LINES}; run \`xo-foundry run\` to see them all` });
        },
      }),
      progress: live.listener,
      onTaskStart: (t) => emit({ type: "task", task: t.id, state: "running" }),
      onTaskEnd: (r) => emit({ type: "task", task: r.task, state: r.state, durationMs: Math.round(r.durationMs), ...detail(r) }),
    });
    const counts: Record<string, number> = {};
    for (const t of summary.tasks) counts[t.state] = (counts[t.state] ?? 0) + 1;
    emit({ type: "summary", ok: summary.ok, durationMs: Math.round(summary.durationMs), counts, errors: summary.tasks.flatMap((t) => errorLines(t)) });
  } catch (e) {
    const errors = isXoError(e) ? e.diagnostics.map((d) => redact(formatDiagnostic(d))) : [redact(e instanceof Error ? e.message : String(e))];
    emit({ type: "summary", ok: false, durationMs: Math.round(performance.now() - started), counts: {}, errors });
  } finally {
    live.stop();
  }
}

/**
 * The counters of the running tasks, sent every PROGRESS_INTERVAL_MS when they changed and
 * once more when a task ends: the runtime updates them in place as pages and rows arrive.
 */
function liveProgress(emit: (e: RunEvent) => void): { listener: ProgressListener; stop(): void } {
  const running = new Set<Readonly<TaskProgress>>();
  const last = new Map<string, string>();
  const send = (p: Readonly<TaskProgress>) => {
    const event = { type: "progress" as const, task: p.task, phase: p.phase, rows: p.rows, pages: p.pages, bytes: p.bytes, files: p.files };
    const key = JSON.stringify(event);
    if (last.get(p.task) === key) return;
    last.set(p.task, key);
    emit(event);
  };
  const timer = setInterval(() => running.forEach(send), PROGRESS_INTERVAL_MS);
  timer.unref();
  return {
    listener: {
      taskStarted: (p) => void running.add(p),
      taskEnded: (p) => {
        running.delete(p);
        send(p);
      },
    },
    stop: () => clearInterval(timer),
  };
}

function detail(r: TaskReport): { detail?: string } {
  if (r.state === "skipped") return { detail: `skipped: ${r.reason ?? "by its trigger rule"}` };
  if (r.state === "upstream_failed") return { detail: "not run: upstream failed" };
  if (r.state === "failed") return { detail: "failed" };
  const o = r.outcome;
  if (o?.load) return { detail: `${o.load.rowsLoaded} rows -> ${o.load.table}` };
  if (o?.manifest) return { detail: `${o.manifest.rows} rows, ${o.manifest.files.length} file(s) landed` };
  return {};
}

function errorLines(t: TaskReport): string[] {
  if (t.state !== "failed" || !t.error) return [];
  if (Array.isArray(t.error)) return (t.error as Diagnostic[]).map((d) => redact(formatDiagnostic(d)));
  return [redact(`${t.task}: ${String(t.error)}`)];
}
