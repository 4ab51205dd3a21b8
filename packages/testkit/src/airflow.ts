/**
 * Real Apache Airflow for tests of generated DAGs: import a DAG folder with Airflow's own
 * DagBag, or run `airflow dags test` and read how every task ended. Each call gets a
 * throwaway AIRFLOW_HOME (SQLite metadata database, no example DAGs, no default
 * connections) and removes it afterwards. The venv is yours: any venv with
 * apache-airflow 2 or 3 installed.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

export interface AirflowInput {
  /** A Python venv with apache-airflow installed (its `bin/python` and `bin/airflow` are used). */
  readonly venv: string;
  /** The DAGs folder. */
  readonly folder: string;
  /** Extra environment for Airflow and the tasks, e.g. `AIRFLOW_CONN_*` connections. */
  readonly env?: Readonly<Record<string, string>>;
  /** Milliseconds before the call is killed; 300,000 by default. */
  readonly timeoutMs?: number;
}

export interface ImportedDags {
  /** Airflow's version, e.g. `3.3.2`. */
  readonly version: string;
  /** Each DAG id with its task ids, sorted. */
  readonly dags: Readonly<Record<string, readonly string[]>>;
  /** File -> Airflow's import error. */
  readonly importErrors: Readonly<Record<string, string>>;
}

const DAGBAG = `
import json, sys
try:
    from airflow.dag_processing.dagbag import DagBag
except ImportError:
    from airflow.models.dagbag import DagBag
import airflow
# Example DAGs are off through AIRFLOW__CORE__LOAD_EXAMPLES (Airflow 3 has no include_examples).
bag = DagBag(dag_folder=sys.argv[1])
print(json.dumps({
    "version": airflow.__version__,
    "dags": {dag_id: sorted(dag.task_ids) for dag_id, dag in sorted(bag.dags.items())},
    "importErrors": {str(k): str(v) for k, v in sorted(bag.import_errors.items())},
}))
`;

/** Imports every DAG file of the folder with the venv's DagBag, as the scheduler would parse it. */
export async function importDags(input: AirflowInput): Promise<ImportedDags> {
  return withAirflowHome(input, async (env) => {
    const r = await exec(python(input.venv), ["-c", DAGBAG, input.folder], env, input.timeoutMs);
    if (r.code !== 0) throw new Error(`Airflow's DagBag failed on ${input.folder} (exit ${r.code}):\n${tail(r.stderr)}`);
    return JSON.parse(lastLine(r.stdout)) as ImportedDags;
  });
}

export interface DagsTestInput extends AirflowInput {
  readonly dagId: string;
  /** `YYYY-MM-DD`. */
  readonly logicalDate: string;
  /** Pools the DAG's tasks use, with their slots (a task in a missing pool never runs). */
  readonly pools?: Readonly<Record<string, number>>;
}

export interface DagsTestResult {
  /** The exit code of `airflow dags test`. */
  readonly exitCode: number;
  /** Task id -> its final state (`success`, `failed`, `skipped`, `upstream_failed`, ...). */
  readonly tasks: Readonly<Record<string, string>>;
  /** Airflow's whole output, for assertions and for reading when a test fails. */
  readonly log: string;
}

const TASK_STATES = `
import json, os, sqlite3, sys
db = sqlite3.connect(os.path.join(os.environ["AIRFLOW_HOME"], "airflow.db"))
rows = db.execute("select task_id, state from task_instance where dag_id = ? order by task_id", (sys.argv[1],)).fetchall()
print(json.dumps(dict(rows)))
`;

/**
 * Runs one DAG run in-process with `airflow dags test` (no scheduler or workers) and
 * reports each task's state from the metadata database. Give tasks no retries: a failing
 * task with retries makes `dags test` wait out the retry delay.
 */
export async function dagsTest(input: DagsTestInput): Promise<DagsTestResult> {
  return withAirflowHome(input, async (env) => {
    const airflow = path.join(input.venv, "bin", "airflow");
    const migrate = await exec(airflow, ["db", "migrate"], env, input.timeoutMs);
    if (migrate.code !== 0) throw new Error(`airflow db migrate failed (exit ${migrate.code}):\n${tail(migrate.stdout + migrate.stderr)}`);
    for (const [pool, slots] of Object.entries(input.pools ?? {})) {
      const r = await exec(airflow, ["pools", "set", pool, String(slots), "created by @xo-foundry/testkit"], env, input.timeoutMs);
      if (r.code !== 0) throw new Error(`airflow pools set ${pool} failed (exit ${r.code}):\n${tail(r.stdout + r.stderr)}`);
    }
    const run = await exec(airflow, ["dags", "test", input.dagId, input.logicalDate], env, input.timeoutMs);
    const states = await exec(python(input.venv), ["-c", TASK_STATES, input.dagId], env, input.timeoutMs);
    if (states.code !== 0) throw new Error(`could not read the task states (exit ${states.code}):\n${tail(states.stderr)}`);
    return { exitCode: run.code, tasks: JSON.parse(lastLine(states.stdout)) as Record<string, string>, log: run.stdout + run.stderr };
  });
}

async function withAirflowHome<T>(input: AirflowInput, fn: (env: NodeJS.ProcessEnv) => Promise<T>): Promise<T> {
  if (!existsSync(python(input.venv))) {
    throw new Error(`no Python at ${python(input.venv)}: pass the folder of a venv with apache-airflow installed`);
  }
  const home = await mkdtemp(path.join(os.tmpdir(), "xo-testkit-airflow-"));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    AIRFLOW_HOME: home,
    AIRFLOW__CORE__DAGS_FOLDER: path.resolve(input.folder),
    AIRFLOW__CORE__LOAD_EXAMPLES: "False",
    AIRFLOW__DATABASE__LOAD_DEFAULT_CONNECTIONS: "False",
    PYTHONWARNINGS: "ignore",
    // Airflow 2's `dags test` starts `airflow` again by name.
    PATH: `${path.join(input.venv, "bin")}${path.delimiter}${process.env.PATH ?? ""}`,
    ...input.env,
  };
  try {
    return await fn(env);
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

export const python = (venv: string) => path.join(venv, "bin", "python");

/** Runs a command to its end, collecting its output; `stdin` is written to it when given. */
export function exec(command: string, args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs = 300_000, stdin?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ["pipe", "pipe", "pipe"], timeout: timeoutMs, killSignal: "SIGKILL" });
    child.stdin.end(stdin ?? "");
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr }));
  });
}

const lastLine = (text: string) => text.trim().split("\n").at(-1) ?? "";
const tail = (text: string) => text.trim().split("\n").slice(-15).join("\n");
