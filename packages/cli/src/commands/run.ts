import path from "node:path";
import pc from "picocolors";
import {
  addDays,
  findStream,
  isXoError,
  parseDate,
  pipelineConnections,
  resolveConnection,
  xoError,
  SKIP_EXIT_CODE,
  type Diagnostic,
  type CheckResult,
  type Manifest,
  type PipelineConfig,
} from "@xo-foundry/core";
import {
  consoleLogger,
  pipelineTasks,
  progressInterval,
  progressReporter,
  runPipeline,
  runTask,
  StepFailure,
  type RunSummary,
  type TaskOutcome,
  type TaskReport,
} from "@xo-foundry/runtime";
import { duration, output, progressDisplay, progressMode, symbols } from "../output.js";
import { Projects } from "../projects.js";

export interface RunCommandOptions {
  readonly date?: string;
  readonly runId?: string;
  readonly json?: boolean;
  readonly verbose?: boolean;
  readonly concurrency?: string;
}

/** Yesterday in UTC: the logical date Airflow gives today's daily run. */
export function defaultLogicalDate(now = new Date()): string {
  return addDays(now.toISOString().slice(0, 10), -1);
}

export async function runCommand(file: string, options: RunCommandOptions): Promise<number> {
  const out = output(Boolean(options.json));
  const logicalDate = options.date ?? defaultLogicalDate();
  parseDate(logicalDate);
  const intervalMs = progressInterval(process.env);
  const { pipeline, project, diagnostics } = await new Projects().load(file);
  if (!pipeline) {
    out.diagnostics(diagnostics);
    out.document({ ok: false, diagnostics });
    return 1;
  }
  const missing = connectionProblems(pipeline.config);
  if (missing.length) {
    // Every task would fail the same way: say it once per connection, before starting.
    out.diagnostics(missing);
    out.document({ ok: false, diagnostics: missing });
    return 1;
  }
  const name = pipeline.config.pipeline.name;
  out.line(`${pc.bold(name)}  logical date ${logicalDate}  ${pc.dim(path.relative(process.cwd(), pipeline.file))}`);

  const width = Math.max(...pipelineTasks(pipeline, project).map((t) => t.id.length)) + 2;
  const progress = progressDisplay(progressMode(Boolean(options.json), intervalMs), { intervalMs, taskWidth: width });
  // Lines printed while tasks run go above a live display, not through it.
  const running = output(Boolean(options.json), progress);
  const log = consoleLogger({ verbose: Boolean(options.verbose), write: options.json ? () => {} : (line) => progress.write("stderr", line) });
  let summary: RunSummary;
  try {
    summary = await runPipeline({
      pipeline,
      project,
      logicalDate,
      ...(options.runId ? { runId: options.runId } : {}),
      log: options.verbose ? log : consoleLogger({ write: () => {} }),
      concurrency: options.concurrency ? Number(options.concurrency) : 4,
      onTaskEnd: (r) => running.line(taskLine(r, width)),
      ...(progress.listener ? { progress: progress.listener } : {}),
    });
  } finally {
    progress.stop();
  }

  const failures = summary.tasks.filter((t) => t.state === "failed");
  for (const f of failures) {
    if (Array.isArray(f.error)) out.diagnostics(f.error as Diagnostic[]);
    else if (f.error) out.line(`${symbols.fail} ${f.task}: ${String(f.error)}`);
  }
  const streams = streamTable(pipeline.config, summary.tasks);
  if (streams.length) {
    out.line();
    const rows = [["stream", "rows", "files", "table", "rows in table"], ...streams.map((s) => [s.stream, s.rows === undefined ? "-" : String(s.rows), String(s.files), s.table ?? "-", s.rowsInTable === undefined ? "-" : String(s.rowsInTable)])];
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    rows.forEach((r, i) => {
      const text = r.map((c, j) => (j === 0 || j === 3 ? c.padEnd(widths[j]!) : c.padStart(widths[j]!))).join("  ");
      out.line(i === 0 ? pc.dim(text) : text);
    });
  }
  const checks = checkRows(summary.tasks);
  if (checks.length) {
    out.line();
    for (const line of checkLines(checks)) out.line(line);
  }
  out.line();
  out.line(
    summary.ok
      ? `${symbols.ok} ${name}: ${summary.tasks.filter((t) => t.state === "success").length} tasks succeeded${skippedText(summary.tasks)} in ${duration(summary.durationMs)}`
      : `${symbols.fail} ${name}: ${failures.length} of ${summary.tasks.length} tasks failed (${duration(summary.durationMs)})`,
  );
  out.document({ ...summary, streams, checks });
  return summary.ok ? 0 : 1;
}

/** Each connection the pipeline names, resolved now, so a missing one is reported once. */
export function connectionProblems(config: PipelineConfig): Diagnostic[] {
  const problems: Diagnostic[] = [];
  for (const id of pipelineConnections(config)) {
    try {
      resolveConnection(id);
    } catch (e) {
      if (!isXoError(e)) throw e;
      problems.push(...e.diagnostics);
    }
  }
  return problems;
}

function taskLine(r: TaskReport, width: number): string {
  const time = pc.dim(duration(r.durationMs).padStart(7));
  if (r.state === "upstream_failed") return `${symbols.skip} ${r.task.padEnd(width)} ${pc.yellow("not run: upstream failed")}`;
  if (r.state === "failed") return `${symbols.fail} ${r.task.padEnd(width)} ${pc.red("failed")} ${time}`;
  if (r.state === "skipped") return `${symbols.skip} ${r.task.padEnd(width)} ${pc.yellow(`skipped: ${r.reason ?? "by its trigger rule"}`)}`;
  const o = r.outcome!;
  const detail = o.load
    ? `${o.load.rowsLoaded} rows -> ${o.load.table}`
    : o.manifest
      ? landedText(o.manifest)
      : Array.isArray(o.summary.checks)
        ? checksText(o.summary)
        : summaryText(o.summary);
  return `${symbols.ok} ${r.task.padEnd(width)} ${detail.padEnd(40)} ${time}`;
}

/** Rows are counted for record pages; whole files copied as they are have no count until loaded. */
function landedText(manifest: Manifest): string {
  const files = `${manifest.files.length} file(s) landed`;
  return manifest.files.every((f) => f.rows !== undefined) ? `${manifest.rows} rows, ${files}` : files;
}

function skippedText(tasks: readonly TaskReport[]): string {
  const skipped = tasks.filter((t) => t.state === "skipped").length;
  return skipped ? `, ${skipped} skipped` : "";
}

/** A checks task's outcome in words: how many held, warned, failed. */
function checksText(summary: Readonly<Record<string, unknown>>): string {
  const n = (k: string) => (typeof summary[k] === "number" ? summary[k] : 0);
  return `${(summary.checks as unknown[]).length} checks: ${n("passed")} passed, ${n("warned")} warned, ${n("failed")} failed`;
}

/** A step's summary on one line: `key=value` pairs, long values cut. */
function summaryText(summary: Readonly<Record<string, unknown>>): string {
  const text = Object.entries(summary)
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join(" ");
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function writeChecks(outcome: TaskOutcome): void {
  const rows = checkRows([{ task: outcome.task, outcome }]);
  if (rows.length) process.stderr.write(`${checkLines(rows).join("\n")}\n`);
}

/** One check of a checks task, flattened for the report (the task's summary has them all). */
interface CheckRow {
  readonly task: string;
  readonly name: string;
  readonly status: CheckResult["status"];
  readonly severity: CheckResult["severity"];
  readonly observed: unknown;
  readonly expected: string;
  readonly samples?: CheckResult["samples"];
}

/** The check results of every task that reported some (`summary.checks`), passed or failed. */
function checkRows(tasks: readonly { readonly task: string; readonly outcome?: TaskOutcome | undefined }[]): CheckRow[] {
  return tasks.flatMap((t) => {
    const results = t.outcome?.summary.checks;
    if (!Array.isArray(results)) return [];
    return (results as unknown as CheckResult[]).map((c) => ({
      task: t.task,
      name: c.name,
      status: c.status,
      severity: c.severity,
      observed: c.observed,
      expected: c.expected,
      ...(c.samples?.length ? { samples: c.samples } : {}),
    }));
  });
}

/** A table of checks: status, task, check, what was seen against what was expected; samples of failing rows below. */
function checkLines(rows: readonly CheckRow[]): string[] {
  const mark = { pass: symbols.ok, warn: pc.yellow("!"), fail: symbols.fail } as const;
  const cells = rows.map((r) => [r.task, r.name, typeof r.observed === "string" ? r.observed : JSON.stringify(r.observed), r.expected]);
  const widths = [0, 1].map((i) => Math.max(...cells.map((c) => c[i]!.length)));
  const lines = [pc.dim(`checks: ${rows.filter((r) => r.status === "pass").length} passed, ${rows.filter((r) => r.status === "warn").length} warned, ${rows.filter((r) => r.status === "fail").length} failed`)];
  rows.forEach((r, i) => {
    const [task, name, observed, expected] = cells[i]!;
    const seen = r.status === "pass" ? pc.dim(`${observed}`) : `${observed} ${pc.dim(`(expected ${expected})`)}`;
    lines.push(`${mark[r.status]} ${task!.padEnd(widths[0]!)}  ${name!.padEnd(widths[1]!)}  ${seen}`);
    for (const sample of r.samples?.slice(0, 3) ?? []) lines.push(pc.dim(`    ${JSON.stringify(sample)}`));
  });
  return lines;
}

interface StreamSummary {
  stream: string;
  /** Absent when the source landed whole files without counting their rows. */
  rows?: number;
  files: number;
  table?: string;
  rowsInTable?: number;
}

/** Per stream: what was landed, and what its own sink's load left in the table. */
function streamTable(config: PipelineConfig, tasks: readonly TaskReport[]): StreamSummary[] {
  const byStream = new Map<string, StreamSummary>();
  for (const t of tasks) {
    const o = t.outcome;
    if (t.state !== "success" || !o?.stream) continue;
    const s: StreamSummary = byStream.get(o.stream) ?? { stream: o.stream, files: 0 };
    if (o.step === "extract" && o.manifest) {
      if (o.manifest.files.every((f) => f.rows !== undefined)) s.rows = o.manifest.rows;
      s.files = o.manifest.files.length;
    } else if (o.load && findStream(config, o.stream)?.sink === o.sink) {
      s.table = o.load.table;
      if (o.load.rowsInTable !== undefined) s.rowsInTable = o.load.rowsInTable;
    }
    byStream.set(o.stream, s);
  }
  return [...byStream.values()].sort((a, b) => (a.stream < b.stream ? -1 : 1));
}

export interface TaskCommandOptions {
  readonly logicalDate: string;
  readonly runId: string;
  readonly projectDir?: string;
  readonly verbose?: boolean;
}

/** One step as an Airflow task runs it; the last stdout line is the manifest summary (XCom). */
export async function taskCommand(file: string, taskId: string, options: TaskCommandOptions): Promise<number> {
  if (!options.logicalDate) throw xoError("XO_DATE_INVALID", { value: "" });
  parseDate(options.logicalDate);
  const base = options.projectDir ?? process.env.XO_FOUNDRY_PROJECT_DIR ?? process.cwd();
  const { pipeline, project, diagnostics } = await new Projects().load(path.resolve(base, file));
  const out = output(false);
  if (!pipeline) {
    out.diagnostics(diagnostics);
    return 1;
  }
  // Airflow keeps stderr as the task log: plain lines there, terminal or not, so a long task is never silent.
  const progress = progressReporter({ intervalMs: progressInterval(process.env), write: (line) => process.stderr.write(`${line}\n`) });
  let outcome: TaskOutcome;
  try {
    outcome = await runTask({
      pipeline,
      project,
      taskId,
      logicalDate: options.logicalDate,
      runId: options.runId,
      log: consoleLogger({ verbose: Boolean(options.verbose) }),
      progress,
    });
  } catch (e) {
    // Failed checks: their table goes to the task log above the error.
    if (e instanceof StepFailure) writeChecks(e.outcome);
    throw e;
  } finally {
    progress.stop();
  }
  writeChecks(outcome);
  // The last stdout line is the task's XCom: small, no data, no file contents.
  const xcom = {
    task: outcome.task,
    step: outcome.step,
    state: outcome.state,
    ...(outcome.stream !== undefined ? { stream: outcome.stream } : {}),
    summary: outcome.summary,
    ...(outcome.manifest
      ? { files: outcome.manifest.files.map((f) => ({ uri: f.uri, rows: f.rows, bytes: f.bytes, sha256: f.sha256 })) }
      : {}),
    ...(outcome.skipReason !== undefined ? { skip_reason: outcome.skipReason } : {}),
  };
  process.stdout.write(`${JSON.stringify(xcom)}\n`);
  // Airflow ends a task whose command exits with this code as skipped (skip_on_exit_code).
  return outcome.state === "skipped" ? SKIP_EXIT_CODE : 0;
}
