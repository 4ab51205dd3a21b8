/**
 * `xo-foundry test [project]`: the one command a project's CI runs (docs/adr/0013).
 *
 * 1. every pipeline validates (as `validate-config`);
 * 2. every DAG is generated into a temporary folder and, with `--dags`, compared with
 *    the committed folder (as `generate-dags --check`: missing, stale, orphaned files);
 * 3. with `--airflow-venv`, every generated DAG is imported by that Airflow's DagBag;
 * 4. every pipeline with a fixture (`<pipeline>.test.yaml`) runs on the fixture's dates
 *    through the local runner, into a temporary landing folder and temporary warehouse
 *    files, and the row counts and task states are compared with the fixture's.
 *
 * Exit 0 only when all of it passes.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import pc from "picocolors";
import {
  connectionEnvVar,
  crossPipelineDiagnostics,
  diagnostic,
  findProjectDir,
  pluginOptions,
  registerSecret,
  resolveConnection,
  xoError,
  RESERVED_SINK_KEYS,
  type Diagnostic,
  type LoadedPipeline,
  type Project,
  type ResolvedPipeline,
  type SinkBlock,
  type Warehouse,
} from "@xo-foundry/core";
import { consoleLogger, pipelineTasks, progressInterval, progressReporter, runPipeline, type RunSummary } from "@xo-foundry/runtime";
import { pipelineFiles } from "../files.js";
import { renderDag, writeDags, type GeneratedDag } from "../generate.js";
import { projectName } from "../ownership.js";
import { duration, output, symbols, type Output } from "../output.js";
import { Projects } from "../projects.js";
import { fillPlaceholders, findFixtures, readFixture, startService, ServiceFailure, type Fixture, type FixtureCase, type RunningService } from "./test-fixtures.js";

export interface TestCommandOptions {
  readonly dags?: string;
  readonly airflowVenv?: string;
  readonly airflowVersion?: string;
  readonly json?: boolean;
}

interface PipelineReport {
  readonly file: string;
  valid: boolean;
  readonly diagnostics: Diagnostic[];
}

interface DagsReport {
  generated: number;
  /** The committed folder compared with, when one was given. */
  folder?: string;
  readonly files: { file: string; change: "missing" | "stale" | "orphaned" | "unchanged" }[];
  readonly diagnostics: Diagnostic[];
}

interface AirflowReport {
  readonly venv: string;
  version?: string;
  readonly dags: string[];
  readonly importErrors: Record<string, string>;
  readonly problems: string[];
}

interface FixtureReport {
  readonly fixture: string;
  readonly pipeline?: string;
  readonly test?: string;
  readonly dates: readonly string[];
  ok: boolean;
  durationMs: number;
  readonly tables: { table: string; expected: number; found: number | null }[];
  readonly tasks: { task: string; expected: string; found: string | null }[];
  readonly failures: string[];
  readonly diagnostics: Diagnostic[];
}

export async function testCommand(projectArg: string, options: TestCommandOptions): Promise<number> {
  const out = output(Boolean(options.json));
  const projectDir = path.resolve(projectArg);
  if (!(await stat(projectDir).catch(() => undefined))?.isDirectory()) throw xoError("XO_CONFIG_NOT_FOUND", { file: projectArg });
  const airflowVersion = options.airflowVersion === undefined ? undefined : (Number(options.airflowVersion) as 2 | 3);
  const scratch = await mkdtemp(path.join(os.tmpdir(), "xo-foundry-test-"));
  const started = performance.now();
  try {
    out.line(`${pc.bold("xo-foundry test")}  ${display(projectDir)}`);

    // ------------------------------------------------------------ 1. validate
    out.line();
    out.line(pc.bold("pipelines"));
    const { files } = await pipelineFiles([projectDir]);
    const projects = new Projects();
    const pipelines: PipelineReport[] = [];
    const loaded: (LoadedPipeline & { pipeline?: ResolvedPipeline; report: PipelineReport; file: string })[] = [];
    for (const file of files) {
      const { diagnostics, pipeline, ...load } = await projects.load(file);
      const report = { file: display(file), valid: !diagnostics.some((d) => d.severity === "error"), diagnostics };
      pipelines.push(report);
      loaded.push({ ...load, ...(pipeline ? { pipeline } : {}), report, file });
    }
    for (const { load, diagnostic: d } of crossPipelineDiagnostics(loaded)) {
      load.report.diagnostics.push(d);
      load.report.valid = false;
    }
    for (const p of pipelines) {
      out.diagnostics(p.diagnostics);
      out.line(p.valid ? `${symbols.ok} ${p.file}` : `${symbols.fail} ${p.file}`);
    }
    const invalid = pipelines.filter((p) => !p.valid).length;
    if (pipelines.length === 0) out.line(`${symbols.fail} no pipeline files found in ${display(projectDir)}`);
    const valid = loaded.filter((l): l is typeof l & { pipeline: ResolvedPipeline } => l.report.valid && l.pipeline !== undefined);

    // ------------------------------------------------------------ 2. DAGs
    out.line();
    out.line(pc.bold("DAGs"));
    const dagsReport: DagsReport = { generated: 0, files: [], diagnostics: [] };
    let generatedDir: string | undefined;
    let dags: GeneratedDag[] = [];
    if (invalid || pipelines.length === 0) {
      out.line(`${symbols.skip} not generated: fix the pipelines above first`);
    } else {
      dags = valid.map((l) => renderDag(l.pipeline, l.project, { airflowVersion }));
      generatedDir = path.join(scratch, "dags");
      await writeDags(dags, generatedDir);
      dagsReport.generated = dags.length;
      if (options.dags !== undefined) await compareDags(dags, path.resolve(options.dags), [...new Set([projectDir, ...valid.map((l) => l.project.dir)].map((d) => projectName(findProjectDir(d))))], dagsReport, out);
      else out.line(`${symbols.skip} ${dags.length} DAG file(s) generated; not compared with a committed folder: pass --dags <dir>`);
    }

    // ------------------------------------------------------------ 3. Airflow
    let airflowReport: AirflowReport | undefined;
    if (options.airflowVenv !== undefined) {
      out.line();
      out.line(pc.bold("Airflow"));
      airflowReport = { venv: display(path.resolve(options.airflowVenv)), dags: [], importErrors: {}, problems: [] };
      if (!generatedDir) out.line(`${symbols.skip} not imported: no DAGs were generated`);
      else await importDags(path.resolve(options.airflowVenv), generatedDir, dags, scratch, airflowReport, out);
    }

    // ------------------------------------------------------------ 4. fixtures
    out.line();
    out.line(pc.bold("fixtures"));
    const fixtures: FixtureReport[] = [];
    const fixtureFiles = await findFixtures(projectDir);
    if (fixtureFiles.length === 0) out.line(`${symbols.skip} no fixtures (<pipeline>.test.yaml next to a pipeline): no pipeline was run`);
    const byFile = new Map(loaded.map((l) => [l.file, l]));
    for (const file of fixtureFiles) {
      const { fixture, diagnostics } = await readFixture(file, display(file), files);
      if (!fixture) {
        out.diagnostics(diagnostics);
        out.line(`${symbols.fail} ${display(file)}: invalid fixture`);
        fixtures.push(failedFixture(file, diagnostics));
        continue;
      }
      const target = fixture.pipeline ? byFile.get(fixture.pipeline) : undefined;
      if (!target?.pipeline || !target.report.valid) {
        const d = diagnostic(
          "XO_CONFIG_INVALID_VALUE",
          { detail: `${display(file)} was not run: its pipeline ${display(fixture.pipeline ?? file)} is invalid`, expected: "a valid pipeline (see its errors above)" },
          { file: display(file) },
        );
        out.diagnostics([d]);
        fixtures.push(failedFixture(file, [d]));
        continue;
      }
      fixtures.push(...(await runFixture(fixture, target.pipeline, target.project, out)));
    }

    // ------------------------------------------------------------ summary
    const dagProblems = dagsReport.diagnostics.length + dagsReport.files.filter((f) => f.change !== "unchanged").length;
    const airflowProblems = airflowReport ? airflowReport.problems.length + Object.keys(airflowReport.importErrors).length : 0;
    const failedFixtures = fixtures.filter((f) => !f.ok).length;
    const problems: string[] = [];
    if (pipelines.length === 0) problems.push("no pipelines");
    if (invalid) problems.push(`${invalid} invalid pipeline(s)`);
    if (dagProblems) problems.push(`${dagProblems} DAG file problem(s)`);
    if (airflowProblems) problems.push(`${airflowProblems} Airflow problem(s)`);
    if (failedFixtures) problems.push(`${failedFixtures} failed fixture test(s)`);
    const ok = problems.length === 0;
    out.line();
    const passed = [
      `${pipelines.length} pipeline(s) valid`,
      options.dags !== undefined ? "DAGs up to date" : `${dagsReport.generated} DAG(s) generated`,
      ...(airflowReport ? [`${airflowReport.dags.length} DAG(s) imported by Airflow${airflowReport.version ? ` ${airflowReport.version}` : ""}`] : []),
      `${fixtures.length} fixture test(s) passed`,
    ];
    out.line(
      ok
        ? `${symbols.ok} ${passed.join(", ")} (${duration(performance.now() - started)})`
        : `${symbols.fail} ${problems.join(", ")} (${duration(performance.now() - started)})`,
    );
    out.document({
      ok,
      project: projectDir,
      pipelines,
      dags: dagsReport,
      ...(airflowReport ? { airflow: airflowReport } : {}),
      fixtures,
    });
    return ok ? 0 : 1;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- DAGs

async function compareDags(dags: readonly GeneratedDag[], folder: string, projects: readonly string[], report: DagsReport, out: Output): Promise<void> {
  report.folder = display(folder);
  if (!(await stat(folder).catch(() => undefined))?.isDirectory()) {
    const d = diagnostic("XO_CONFIG_INVALID_VALUE", {
      detail: `--dags ${display(folder)}: no such folder`,
      expected: `the folder of the committed DAG files; create it with \`xo-foundry generate-dags <project> -o ${display(folder)}\` and commit it`,
    });
    report.diagnostics.push(d);
    out.diagnostics([d]);
    out.line(`${symbols.fail} ${display(folder)} not compared`);
    return;
  }
  const { files, conflicts } = await writeDags(dags, folder, { check: true, prune: projects });
  for (const c of conflicts) {
    const file = display(c.file);
    const d = diagnostic("XO_DAG_NOT_OURS", { file, pipeline: c.dag.source, project: c.dag.project, owner: c.owner }, { file });
    report.diagnostics.push(d);
    out.diagnostics([d]);
  }
  for (const f of files) {
    const change = f.change === "created" ? "missing" : f.change === "updated" ? "stale" : f.change === "removed" ? "orphaned" : "unchanged";
    report.files.push({ file: display(f.file), change });
    const why = { missing: "missing: not committed", stale: "stale: differs from what the pipeline generates", orphaned: "orphaned: no pipeline generates it any more", unchanged: "" }[change];
    out.line(change === "unchanged" ? `${symbols.ok} ${display(f.file)}` : `${symbols.fail} ${display(f.file)} ${why}`);
  }
  const bad = report.files.filter((f) => f.change !== "unchanged").length;
  if (bad) out.line(`  ${bad} of ${report.files.length} DAG file(s) differ: run \`xo-foundry generate-dags <project> -o ${display(folder)}\` and commit the result`);
  else if (!conflicts.length) out.line(`  ${files.length} DAG file(s) in ${display(folder)} up to date`);
}

// ---------------------------------------------------------------- Airflow

/**
 * Parses a DAG folder with Airflow's own DagBag (Airflow 3's home of it, else Airflow 2's)
 * and prints one JSON line. What Airflow and the DAG files print while loading goes to
 * stderr, so stdout stays JSON. No metadata database is needed to parse.
 */
const DAGBAG_SCRIPT = `
import inspect, json, os, sys
folder = sys.argv[1]
sys.stdout.flush()
saved = os.dup(1)
os.dup2(2, 1)
try:
    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:
        from airflow.models.dagbag import DagBag
    import airflow
    kwargs = {"dag_folder": folder}
    if "include_examples" in inspect.signature(DagBag.__init__).parameters:
        kwargs["include_examples"] = False
    bag = DagBag(**kwargs)
    result = {
        "version": airflow.__version__,
        "dags": {d: os.path.basename(bag.dags[d].fileloc) for d in sorted(bag.dags)},
        "import_errors": {os.path.basename(str(k)): str(v) for k, v in sorted(bag.import_errors.items())},
    }
finally:
    sys.stdout.flush()
    os.dup2(saved, 1)
    os.close(saved)
print(json.dumps(result))
`;

async function importDags(venv: string, folder: string, dags: readonly GeneratedDag[], scratch: string, report: AirflowReport, out: Output): Promise<void> {
  const python = path.join(venv, process.platform === "win32" ? "Scripts/python.exe" : "bin/python");
  if (!existsSync(python)) {
    report.problems.push(`no Python at ${display(python)}`);
    out.diagnostics([
      diagnostic("XO_CONFIG_INVALID_VALUE", {
        detail: `--airflow-venv ${display(venv)}: there is no ${display(python)}`,
        expected: "the folder of a Python venv with apache-airflow installed (e.g. python3 -m venv .venv/airflow && .venv/airflow/bin/pip install apache-airflow)",
      }),
    ]);
    return;
  }
  const home = path.join(scratch, "airflow-home");
  await mkdir(home, { recursive: true });
  const r = await runProcess(python, ["-c", DAGBAG_SCRIPT, folder], {
    ...process.env,
    AIRFLOW_HOME: home,
    AIRFLOW__CORE__DAGS_FOLDER: folder,
    AIRFLOW__CORE__LOAD_EXAMPLES: "False",
    AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT: "60",
    AIRFLOW__LOGGING__LOGGING_LEVEL: "WARNING",
    PYTHONWARNINGS: "ignore",
  });
  let result: { version: string; dags: Record<string, string>; import_errors: Record<string, string> } | undefined;
  try {
    result = JSON.parse(r.stdout.trim().split("\n").pop() ?? "") as typeof result;
  } catch {
    result = undefined;
  }
  if (r.code !== 0 || !result) {
    const tail = r.stderr.trim().split("\n").slice(-5).join("\n    ");
    report.problems.push(`Airflow could not be run (exit ${r.code})`);
    out.line(`${symbols.fail} ${display(python)} could not parse the DAGs with Airflow (exit ${r.code})${tail ? `:\n    ${tail}` : ""}`);
    out.line("  check that apache-airflow is installed in that venv");
    return;
  }
  report.version = result.version;
  report.dags.push(...Object.keys(result.dags));
  Object.assign(report.importErrors, result.import_errors);
  for (const dag of dags) {
    const error = result.import_errors[dag.fileName];
    if (error !== undefined) out.line(`${symbols.fail} ${dag.fileName}: import error\n    ${error.trim().split("\n").slice(-3).join("\n    ")}`);
    else if (result.dags[dag.dagId] !== dag.fileName) {
      report.problems.push(`${dag.fileName} defines no DAG ${dag.dagId}`);
      out.line(`${symbols.fail} ${dag.fileName}: Airflow found no DAG ${JSON.stringify(dag.dagId)} in it`);
    } else out.line(`${symbols.ok} ${dag.fileName}`);
  }
  out.line(`  Airflow ${result.version}: ${Object.keys(result.dags).length} DAG(s) imported, ${Object.keys(result.import_errors).length} import error(s)`);
}

function runProcess(command: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
    child.on("error", (e) => resolve({ code: -1, stdout, stderr: `${stderr}${e.message}` }));
    child.on("close", (code, signal) => resolve({ code: code ?? (signal ? 128 : -1), stdout, stderr }));
  });
}

// ---------------------------------------------------------------- fixtures

function failedFixture(file: string, diagnostics: Diagnostic[]): FixtureReport {
  return { fixture: display(file), dates: [], ok: false, durationMs: 0, tables: [], tasks: [], failures: diagnostics.map((d) => d.message), diagnostics };
}

/** Runs every case of one fixture, with its services up for all of them. */
async function runFixture(fixture: Fixture, pipeline: ResolvedPipeline, project: Project, out: Output): Promise<FixtureReport[]> {
  const fileName = display(fixture.file);
  const checked = fixture.cases.map((c) => ({ c, diagnostics: checkCase(c, pipeline, project) }));
  const problems = checked.flatMap((x) => x.diagnostics);
  if (problems.length) {
    out.diagnostics(problems);
    out.line(`${symbols.fail} ${fileName}: its expectations do not fit ${pipeline.relativeFile}`);
    return [failedFixture(fixture.file, problems)];
  }
  const services = new Map<string, RunningService>();
  try {
    for (const spec of fixture.services) {
      for (const [key, value] of Object.entries(spec.env)) if (SECRET_NAME.test(key)) registerSecret(value);
      services.set(spec.name, await startService(spec, path.dirname(fixture.file)));
    }
  } catch (e) {
    await Promise.all([...services.values()].map((s) => s.stop()));
    if (!(e instanceof ServiceFailure)) throw e;
    const d = diagnostic(
      "XO_CONFIG_INVALID_VALUE",
      { detail: `service ${e.spec.name} ${e.detail}`, expected: "a command that prints a line matching `ready` once it serves (run it by hand in the fixture's folder to see why it does not)" },
      e.spec.where,
    );
    out.diagnostics([d]);
    out.line(`${symbols.fail} ${fileName}: service ${e.spec.name} did not start; no test of this file ran`);
    return [failedFixture(fixture.file, [d])];
  }
  const reports: FixtureReport[] = [];
  try {
    for (const c of fixture.cases) reports.push(await runCase(fixture, c, pipeline, project, services, out));
  } finally {
    await Promise.all([...services.values()].map((s) => s.stop()));
  }
  return reports;
}

const SECRET_NAME = /secret|token|passw|pwd|passphrase|key|credential|auth/i;

/** The fixture's expectations against the pipeline: known sinks, tasks that exist. */
function checkCase(c: FixtureCase, pipeline: ResolvedPipeline, project: Project): Diagnostic[] {
  const problems: Diagnostic[] = [];
  const sinks = Object.keys(pipeline.config.sinks);
  for (const key of Object.keys(c.tables)) {
    const target = tableTarget(key, sinks);
    if (typeof target === "string") {
      problems.push(diagnostic("XO_CONFIG_INVALID_VALUE", { detail: target, expected: `${sinks.length > 1 ? "`<sink>/<table>`" : "`<table>` or `<sink>/<table>`"}; the pipeline's sinks: ${sinks.map((s) => `\`${s}\``).join(", ")}` }, c.at(["expect", "tables", key])));
    }
  }
  const tasks = pipelineTasks(pipeline, project).map((t) => t.id);
  for (const task of Object.keys(c.tasks)) {
    if (!tasks.includes(task)) problems.push(diagnostic("XO_TASK_UNKNOWN", { task, available: tasks }, c.at(["expect", "tasks", task])));
  }
  return problems;
}

/** `[sink/]table` as written in a fixture: the sink block and the table, or why it names none. */
function tableTarget(key: string, sinks: readonly string[]): { sink: string; table: string } | string {
  const slash = key.indexOf("/");
  if (slash >= 0) {
    const sink = key.slice(0, slash);
    const table = key.slice(slash + 1);
    if (!sinks.includes(sink)) return `${JSON.stringify(key)}: the pipeline has no sink ${JSON.stringify(sink)}`;
    if (!table) return `${JSON.stringify(key)} names no table`;
    return { sink, table };
  }
  if (sinks.length !== 1) return `${JSON.stringify(key)}: the pipeline has ${sinks.length} sinks; write \`<sink>/${key}\``;
  return { sink: sinks[0]!, table: key };
}

async function runCase(
  fixture: Fixture,
  c: FixtureCase,
  pipeline: ResolvedPipeline,
  project: Project,
  services: ReadonlyMap<string, RunningService>,
  out: Output,
): Promise<FixtureReport> {
  const started = performance.now();
  const name = `${display(fixture.file)} ${c.name}`;
  const report: FixtureReport = {
    fixture: display(fixture.file),
    pipeline: pipeline.relativeFile,
    test: c.name,
    dates: c.dates,
    ok: false,
    durationMs: 0,
    tables: [],
    tasks: [],
    failures: [],
    diagnostics: [],
  };
  const finish = () => {
    report.ok = report.failures.length === 0 && report.diagnostics.length === 0;
    report.durationMs = Math.round(performance.now() - started);
    out.diagnostics(report.diagnostics);
    const time = pc.dim(duration(report.durationMs));
    if (report.ok) {
      out.line(`${symbols.ok} ${name}  ${c.dates.join(", ")}  ${report.tables.length} table(s), ${report.tasks.length} task state(s) as expected  ${time}`);
    } else {
      out.line(`${symbols.fail} ${name}  ${c.dates.join(", ")}  ${time}`);
      for (const f of report.failures) out.line(`    ${f}`);
    }
    return report;
  };

  // The environment of the run: the fixture's, with the services' values filled in.
  const env: Record<string, string> = {};
  for (const [key, raw] of Object.entries({ ...fixture.env, ...c.env })) {
    const { value, unknown } = fillPlaceholders(raw, services);
    for (const u of unknown) {
      report.diagnostics.push(
        diagnostic(
          "XO_CONFIG_INVALID_VALUE",
          { detail: `${u} in env ${key} names no value of a service`, expected: `\${<service>.<named group of its ready pattern>}, services: ${[...services.keys()].join(", ") || "none"}` },
          { file: display(fixture.file), path: `env.${key}` },
        ),
      );
    }
    env[key] = value;
    if (SECRET_NAME.test(key)) registerSecret(value);
  }
  const runEnv = { ...process.env, ...env };
  for (const key of Object.keys(env).filter((k) => k.startsWith("XO_CONN_"))) {
    // Registers the connection's secrets with the redactor before anything could print them.
    const id = key.slice("XO_CONN_".length).toLowerCase();
    if (connectionEnvVar(id) === key) {
      try {
        resolveConnection(id, runEnv);
      } catch {
        // An invalid connection fails the task that uses it, with its own diagnostic.
      }
    }
  }
  if (report.diagnostics.length) return finish();

  const scratch = await mkdtemp(path.join(os.tmpdir(), "xo-foundry-fixture-"));
  try {
    const isolated = isolate(pipeline, project, scratch);
    if (typeof isolated === "string") {
      report.failures.push(isolated);
      return finish();
    }
    let last: RunSummary | undefined;
    // As `run` without a terminal: a line per long-running task every interval, on stderr.
    const progress = progressReporter({ intervalMs: out.json ? 0 : progressInterval(process.env), write: (line) => process.stderr.write(`${line}\n`) });
    for (const date of c.dates) {
      try {
        last = await runPipeline({
          pipeline: isolated,
          project,
          logicalDate: date,
          log: consoleLogger({ write: () => {} }),
          concurrency: 4,
          env: runEnv,
          progress,
        });
      } finally {
        progress.stop();
      }
      if (!last.ok) {
        for (const t of last.tasks.filter((t) => t.state === "failed")) {
          const errors = Array.isArray(t.error) ? (t.error as Diagnostic[]).map((d) => `${d.code}: ${d.message}`) : [String(t.error ?? "failed")];
          report.failures.push(`${date} ${t.task} failed: ${errors.join("; ")}`);
        }
        return finish();
      }
    }
    for (const [task, expected] of Object.entries(c.tasks)) {
      const found = last?.tasks.find((t) => t.task === task)?.state ?? null;
      report.tasks.push({ task, expected, found });
      if (found !== expected) report.failures.push(`task ${task}: ${found ?? "did not run"}, expected ${expected} (on ${c.dates[c.dates.length - 1]})`);
    }
    const warehouses = new Map<string, Warehouse>();
    for (const [key, expected] of Object.entries(c.tables)) {
      const target = tableTarget(key, Object.keys(isolated.config.sinks)) as { sink: string; table: string };
      let found: number | null = null;
      try {
        let warehouse = warehouses.get(target.sink);
        if (!warehouse) warehouses.set(target.sink, (warehouse = openWarehouse(isolated, project, target.sink)));
        const described = await warehouse.describe(target.table);
        if (!described) report.failures.push(`${key}: no such table, expected ${expected} row(s)`);
        else if (described.rows === undefined) report.failures.push(`${key}: the warehouse reports no row count`);
        else {
          found = described.rows;
          if (found !== expected) report.failures.push(`${key}: ${found} row(s), expected ${expected}`);
        }
      } catch (e) {
        report.failures.push(`${key}: could not count the rows: ${(e as Error).message}`);
      }
      report.tables.push({ table: key, expected, found });
    }
    return finish();
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * The pipeline pointed at throwaway places: the landing zone (and with it the saved
 * state and locks) in a temporary folder, each sink's database file there too. A sink
 * without a `database` option (a warehouse service such as Snowflake) cannot be pointed
 * at a temporary file, so its pipeline cannot be run by a fixture.
 */
function isolate(pipeline: ResolvedPipeline, project: Project, scratch: string): ResolvedPipeline | string {
  const sinks: Record<string, SinkBlock> = {};
  for (const [name, block] of Object.entries(pipeline.config.sinks)) {
    const shape = (project.registry.sink(block.plugin)?.options as { shape?: Record<string, unknown> } | undefined)?.shape;
    if (!shape || !("database" in shape)) {
      return `sink ${name} (plugin ${block.plugin}) has no \`database\` option to point at a temporary file; fixtures run pipelines whose sinks write a local database file (DuckDB)`;
    }
    sinks[name] = {
      ...block,
      database: path.join(scratch, "warehouse", `${name}.duckdb`),
      ...("temp_directory" in block ? { temp_directory: path.join(scratch, "spill") } : {}),
    };
  }
  const { connection: _landingConnection, ...landing } = pipeline.config.landing;
  return {
    ...pipeline,
    config: { ...pipeline.config, landing: { ...landing, uri: pathToFileURL(path.join(scratch, "landing")).href }, sinks },
  };
}

function openWarehouse(pipeline: ResolvedPipeline, project: Project, sink: string): Warehouse {
  const block = pipeline.config.sinks[sink]!;
  const definition = project.registry.sink(block.plugin);
  if (!definition?.warehouse) throw new Error(`sink ${sink} (plugin ${block.plugin}) offers no warehouse to count rows with`);
  return definition.warehouse({
    sink,
    options: pluginOptions(block, RESERVED_SINK_KEYS),
    connection: undefined,
    projectDir: pipeline.projectDir,
    log: consoleLogger({ write: () => {} }),
    signal: new AbortController().signal,
  });
}

function display(file: string): string {
  return path.relative(process.cwd(), file) || file;
}
