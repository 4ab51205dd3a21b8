import path from "node:path";
import pc from "picocolors";
import { addDays, isXoError, parseDate, pipelineConnections, resolveConnection, xoError, type Diagnostic, type PipelineConfig } from "@xo-foundry/core";
import { consoleLogger, runPipeline, runTask, type TaskReport } from "@xo-foundry/runtime";
import { duration, output, symbols } from "../output.js";
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
  const log = consoleLogger({ verbose: Boolean(options.verbose), write: options.json ? () => {} : undefined });
  const name = pipeline.config.pipeline.name;
  out.line(`${pc.bold(name)}  logical date ${logicalDate}  ${pc.dim(path.relative(process.cwd(), pipeline.file))}`);

  const width = Math.max(...pipeline.config.source.streams.map((st) => `extract_${st.name}`.length)) + 2;
  const summary = await runPipeline({
    pipeline,
    project,
    logicalDate,
    ...(options.runId ? { runId: options.runId } : {}),
    log: options.verbose ? log : consoleLogger({ write: () => {} }),
    concurrency: options.concurrency ? Number(options.concurrency) : 4,
    onTaskEnd: (r) => out.line(taskLine(r, width)),
  });

  const failures = summary.tasks.filter((t) => t.state === "failed");
  for (const f of failures) {
    if (Array.isArray(f.error)) out.diagnostics(f.error as Diagnostic[]);
    else if (f.error) out.line(`${symbols.fail} ${f.task}: ${String(f.error)}`);
  }
  const streams = streamTable(summary.tasks);
  if (streams.length) {
    out.line();
    const rows = [["stream", "rows", "files", "table", "rows in table"], ...streams.map((s) => [s.stream, String(s.rows), String(s.files), s.table ?? "-", s.rowsInTable === undefined ? "-" : String(s.rowsInTable)])];
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    rows.forEach((r, i) => {
      const text = r.map((c, j) => (j === 0 || j === 3 ? c.padEnd(widths[j]!) : c.padStart(widths[j]!))).join("  ");
      out.line(i === 0 ? pc.dim(text) : text);
    });
  }
  out.line();
  out.line(
    summary.ok
      ? `${symbols.ok} ${name}: ${summary.tasks.length} tasks succeeded in ${duration(summary.durationMs)}`
      : `${symbols.fail} ${name}: ${failures.length} of ${summary.tasks.length} tasks failed (${duration(summary.durationMs)})`,
  );
  out.document({ ...summary, streams });
  return summary.ok ? 0 : 1;
}

/** Each connection the pipeline names, resolved now, so a missing one is reported once. */
function connectionProblems(config: PipelineConfig): Diagnostic[] {
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
  if (r.state === "upstream_failed") return `${symbols.skip} ${r.task.padEnd(width)} ${pc.yellow("skipped: upstream failed")}`;
  if (r.state === "failed") return `${symbols.fail} ${r.task.padEnd(width)} ${pc.red("failed")} ${time}`;
  const o = r.outcome!;
  const detail =
    o.kind === "extract"
      ? `${o.manifest.rows} rows, ${o.manifest.files.length} file(s) landed`
      : `${o.load.rowsLoaded} rows -> ${o.load.table}`;
  return `${symbols.ok} ${r.task.padEnd(width)} ${detail.padEnd(40)} ${time}`;
}

interface StreamSummary {
  stream: string;
  rows: number;
  files: number;
  table?: string;
  rowsInTable?: number;
}

function streamTable(tasks: readonly TaskReport[]): StreamSummary[] {
  const byStream = new Map<string, StreamSummary>();
  for (const t of tasks) {
    if (t.state !== "success" || !t.outcome) continue;
    const s = byStream.get(t.stream) ?? { stream: t.stream, rows: 0, files: 0 };
    if (t.outcome.kind === "extract") {
      s.rows = t.outcome.manifest.rows;
      s.files = t.outcome.manifest.files.length;
    } else {
      s.table = t.outcome.load.table;
      if (t.outcome.load.rowsInTable !== undefined) s.rowsInTable = t.outcome.load.rowsInTable;
    }
    byStream.set(t.stream, s);
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
  const outcome = await runTask({
    pipeline,
    project,
    taskId,
    logicalDate: options.logicalDate,
    runId: options.runId,
    log: consoleLogger({ verbose: Boolean(options.verbose) }),
  });
  const xcom = {
    task: outcome.task,
    stream: outcome.stream,
    partition: outcome.manifest.partition,
    rows: outcome.manifest.rows,
    files: outcome.manifest.files.map((f) => ({ uri: f.uri, rows: f.rows, bytes: f.bytes, sha256: f.sha256 })),
    ...(outcome.kind === "load" ? { table: outcome.load.table, rows_loaded: outcome.load.rowsLoaded } : {}),
  };
  process.stdout.write(`${JSON.stringify(xcom)}\n`);
  return 0;
}
