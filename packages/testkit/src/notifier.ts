/**
 * Real Apache Airflow for tests of notifiers: build the Airflow notifier a NotifierDefinition's
 * `airflow()` names, from the provider installed in a venv, with its kwargs as a generated DAG
 * passes them (plain text made inert for Jinja, the core's templates as they are), and call it
 * with a task-callback context, so Airflow renders the templates and the provider's hook reads
 * the connection from `AIRFLOW_CONN_<ID>` and sends. Each call gets a throwaway AIRFLOW_HOME.
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { jinjaInert, type AirflowArgument, type AirflowNotifier } from "@xo-foundry/core";
import { exec, python } from "./airflow.js";

/** Fails with what to do when the venv has no Python. */
export function requireVenv(venv: string): void {
  if (!existsSync(python(venv))) throw new Error(`no Python at ${python(venv)}: pass the folder of a venv with apache-airflow and the notifier's provider installed`);
}

export interface CallbackContext {
  readonly dagId: string;
  readonly taskId: string;
  /** `YYYY-MM-DD`. */
  readonly logicalDate: string;
  readonly runId: string;
  readonly tryNumber?: number;
  readonly logUrl?: string;
  /** The failure, as Airflow passes it to failure callbacks. */
  readonly exception?: string;
  /** For a deadline callback: when the run was due, ISO 8601. */
  readonly deadlineTime?: string;
}

export interface NotifyInput {
  readonly venv: string;
  readonly notifier: AirflowNotifier;
  /** Connection id -> Airflow's JSON form of it. */
  readonly connections: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  readonly context: CallbackContext;
  readonly timeoutMs?: number;
}

export interface NotifyResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

const HARNESS = String.raw`
import datetime, importlib, json, sys, types
spec = json.load(sys.stdin)
module = importlib.import_module(spec["module"])
notifier = getattr(module, spec["name"])(**spec["kwargs"])
try:
    from airflow.sdk import DAG
except ImportError:
    from airflow import DAG
c = spec["context"]
start = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
dag = DAG(dag_id=c["dagId"], schedule=None, start_date=start)
logical = datetime.datetime.fromisoformat(c["logicalDate"]).replace(tzinfo=datetime.timezone.utc)
ti = types.SimpleNamespace(task_id=c["taskId"], dag_id=c["dagId"], try_number=c.get("tryNumber", 1), log_url=c.get("logUrl"))
dag_run = types.SimpleNamespace(dag_id=c["dagId"], run_id=c["runId"], dag_run_id=c["runId"], logical_date=logical, run_after=logical)
context = {"dag": dag, "ti": ti, "task_instance": ti, "dag_run": dag_run, "run_id": c["runId"], "ds": c["logicalDate"], "logical_date": logical}
if c.get("exception") is not None:
    context["exception"] = RuntimeError(c["exception"])
if c.get("deadlineTime") is not None:
    context["deadline"] = types.SimpleNamespace(deadline_time=datetime.datetime.fromisoformat(c["deadlineTime"]))
notifier(context)
print("NOTIFIED")
`;

/** Builds the notifier in the venv's Airflow and calls it with the context; resolves with the exit code and output. */
export async function airflowNotify(input: NotifyInput): Promise<NotifyResult> {
  requireVenv(input.venv);
  const home = await mkdtemp(path.join(os.tmpdir(), "xo-notify-airflow-"));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    AIRFLOW_HOME: home,
    AIRFLOW__CORE__LOAD_EXAMPLES: "False",
    AIRFLOW__CORE__UNIT_TEST_MODE: "False",
    PYTHONWARNINGS: "ignore",
    // No proxy from the test machine's environment between Airflow and the loopback receiver.
    NO_PROXY: "*",
    no_proxy: "*",
  };
  for (const [id, conn] of Object.entries(input.connections)) env[`AIRFLOW_CONN_${id.toUpperCase()}`] = JSON.stringify(conn);
  const spec = { module: input.notifier.module, name: input.notifier.name, kwargs: pythonValue({ dict: input.notifier.kwargs }), context: input.context };
  try {
    return await exec(python(input.venv), ["-c", HARNESS], env, input.timeoutMs ?? 120_000, JSON.stringify(spec));
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

/** An AirflowArgument as the value the emitted DAG passes: what `core/airflow.ts` writes as a Python literal. */
export function pythonValue(value: AirflowArgument): unknown {
  if (typeof value === "string") return jinjaInert(value);
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return (value as readonly AirflowArgument[]).map(pythonValue);
  if ("jinja" in value) return (value as { jinja: string }).jinja;
  return Object.fromEntries(Object.entries((value as { dict: Record<string, AirflowArgument> }).dict).map(([k, v]) => [k, pythonValue(v)]));
}

/** Runs a Python snippet in the venv with the connections as `AIRFLOW_CONN_<ID>`; for reading what Airflow makes of a connection. */
export async function airflowPython(venv: string, code: string, connections: NotifyInput["connections"] = {}, args: readonly string[] = []): Promise<NotifyResult> {
  requireVenv(venv);
  const home = await mkdtemp(path.join(os.tmpdir(), "xo-notify-airflow-"));
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, AIRFLOW_HOME: home, AIRFLOW__CORE__LOAD_EXAMPLES: "False", PYTHONWARNINGS: "ignore" };
  for (const [id, conn] of Object.entries(connections)) env[`AIRFLOW_CONN_${id.toUpperCase()}`] = JSON.stringify(conn);
  try {
    return await exec(python(venv), ["-c", code, ...args], env, 120_000);
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}
