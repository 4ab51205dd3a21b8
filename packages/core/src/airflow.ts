/**
 * The one Airflow emitter: renders any task graph to a DAG file. Templates only build
 * graphs; every value from the pipeline file reaches Python through `pyLiteral`, names
 * through `uniqueIdentifiers`, header text through `pyComment`; the only code written
 * here is fixed text and safe ids checked below.
 */
import { createHash } from "node:crypto";
import { ENV_NAME_PATTERN, isSafeRelativePath, NAME_PATTERN } from "./config/schema.js";
import { isReservedRunnerEnv, pipelineConnections, type BashRunner, type KubernetesRunner, type PipelineConfig } from "./config/types.js";
import { connectionEnvVar } from "./connections.js";
import { parseDate } from "./dates.js";
import { xoError } from "./errors.js";
import {
  BUILTIN_STEPS,
  type AirflowArgument,
  type AirflowMessage,
  type AirflowNotifier,
  type AlertEvent,
  type ResolvedPipeline,
  type TaskSpec,
} from "./plugin.js";
import type { Registry } from "./registry.js";
import { durationMinutes } from "./config/quality.js";
import { compareCodePoints, pyComment, pyLiteral, uniqueIdentifiers } from "./python.js";

/** Everything the emitter needs to render one DAG file, already validated. */
export interface DagInput {
  readonly pipeline: ResolvedPipeline;
  readonly tasks: readonly TaskSpec[];
  readonly airflowVersion: 2 | 3;
  /** Lines for the file header, in order (generator and plugin versions, config hash). */
  readonly header: readonly string[];
  /** The pipeline's `alerts:` as Airflow notifiers (see `dagAlerts`). */
  readonly alerts?: readonly DagAlert[];
}

/** One `alerts:` entry, as the notifier of its channel renders it for each event. */
export interface DagAlert {
  readonly on: readonly AlertEvent[];
  readonly notifier: (message: AirflowMessage) => AirflowNotifier;
}

/** The pipeline's alerts with the notifiers of the installed channels. Validation made sure each channel exists. */
export function dagAlerts(pipeline: ResolvedPipeline, registry: Pick<Registry, "notifier">): DagAlert[] {
  return pipeline.config.alerts.flatMap((entry) => {
    const def = registry.notifier(entry.channel);
    if (!def) return [];
    return [{ on: entry.on, notifier: (message) => def.airflow({ options: entry.options, connection: entry.connection, message }) }];
  });
}

/**
 * The exit code with which `xo-foundry task` says "skipped" (a false `when:`, or a step
 * that asked to be skipped); tasks that can skip tell Airflow so with skip_on_exit_code.
 */
export const SKIP_EXIT_CODE = 99;

type AirflowVersion = 2 | 3;

const INDENT = 4;
const PAD = " ".repeat(INDENT);
const ARG_PAD = " ".repeat(INDENT * 2);

// Names this module binds itself; task variables must never shadow them, whichever
// runner the file uses, so a task keeps its variable name when the runner changes.
const ENV_VAR = "XO_ENV";
const MODULE_NAMES = [
  "Asset",
  "AsyncCallback",
  "BashOperator",
  "DAG",
  "Dataset",
  "DeadlineAlert",
  "DeadlineReference",
  "KubernetesPodOperator",
  "TaskGroup",
  "dag",
  "datetime",
  "k8s",
  "literal",
  "pendulum",
  ENV_VAR,
];

// Task ids end up as words of a bash command line, so they must hold nothing bash gives
// meaning to; pipeline file paths follow the rule validation checks (isSafeRelativePath).
const SAFE_TASK_ID = /^(?:[a-z0-9_]{1,200}\.)?[a-z0-9_]{1,200}$/;
const SAFE_CONNECTION_ID = new RegExp(NAME_PATTERN);
const SAFE_ENV_NAME = new RegExp(ENV_NAME_PATTERN);

const IMPORT = {
  dag: { 3: "from airflow.sdk import DAG", 2: "from airflow import DAG" },
  literal: { 3: "from airflow.sdk.definitions.template import literal", 2: "from airflow.utils.template import literal" },
  bash: { 3: "from airflow.providers.standard.operators.bash import BashOperator", 2: "from airflow.operators.bash import BashOperator" },
  group: { 3: "from airflow.sdk import TaskGroup", 2: "from airflow.utils.task_group import TaskGroup" },
  pod: "from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator",
  asset: { 3: "from airflow.sdk import Asset", 2: "from airflow.datasets import Dataset" },
  deadline: "from airflow.sdk import AsyncCallback, DeadlineAlert, DeadlineReference",
  k8sModels: "from kubernetes.client import models as k8s",
} as const;

/**
 * How bash_command is kept out of Jinja. Airflow 3 skips rendering a literal().
 * Airflow 2's BashOperator calls str methods on the unrendered value and fails on
 * a literal(), so there the command is written as a template that renders to
 * itself: every `{` that would open a tag becomes `{{ '{' }}`.
 */
const COMMAND: Readonly<Record<AirflowVersion, { readonly code: (command: string) => string; readonly why: readonly string[] }>> = {
  3: {
    code: (command) => `literal(${pyLiteral(command)})`,
    why: [
      "# literal(): Airflow does not render bash_command, so neither a config value nor",
      "# a run's conf can put a template or a command into it. Run-time values come",
    ],
  },
  2: {
    code: (command) => pyLiteral(jinjaInert(command)),
    why: [
      "# bash_command renders to exactly the configured command: a `{` that would open a",
      "# Jinja tag is written as {{ '{' }}, so neither a config value nor a run's conf",
      "# can put a template or a command into it. Run-time values come",
    ],
  },
};

/** Text that Jinja renders back to itself. */
export function jinjaInert(text: string): string {
  return text.replace(/\{(?=[{%#])/g, "{{ '{' }}");
}

export function emitDag(input: DagInput): string {
  const { config, relativeFile } = input.pipeline;
  if (!isSafeRelativePath(relativeFile)) throw xoError("XO_CONFIG_UNSAFE_PATH", { value: relativeFile });
  const tasks = checkTasks(input.tasks);
  const groups = [...new Set(tasks.flatMap((t) => (t.group === undefined ? [] : [t.group])))];
  const alerts = alertCode(input);
  const names = uniqueIdentifiers([...tasks.map((t) => t.id), ...groups.map(groupVariable)], [...MODULE_NAMES, ...alerts.classes]);
  const runner =
    config.runner.type === "kubernetes"
      ? kubernetesRunner(config.runner, input.airflowVersion, config, relativeFile)
      : bashRunner(config.runner, input.airflowVersion, config, relativeFile);

  const sections = [
    [
      ...input.header.map(pyComment),
      pyLiteral(`Airflow DAG ${config.pipeline.dag_id}, generated by xo-foundry from ${relativeFile}.`),
    ].join("\n"),
    [
      "import datetime",
      "",
      "import pendulum",
      ...[
        ...new Set([
          ...runner.imports,
          ...(groups.length ? [IMPORT.group[input.airflowVersion]] : []),
          ...(usesAssets(config, tasks) ? [IMPORT.asset[input.airflowVersion]] : []),
          ...alerts.imports,
        ]),
      ].sort(compareCodePoints),
    ].join("\n"),
    runner.env,
    dagSection(input, tasks, names, runner, alerts),
  ];
  return `${sections.join("\n\n")}\n`;
}

/**
 * Ids are safe and unique, and every upstream exists. Tasks are written in the order
 * the graph lists them: templates list them in a stable order, steps follow the config.
 */
function checkTasks(tasks: readonly TaskSpec[]): readonly TaskSpec[] {
  const ids = new Set<string>();
  for (const task of tasks) {
    if (!SAFE_TASK_ID.test(task.id) || (task.group !== undefined && !task.id.startsWith(`${task.group}.`))) {
      throw xoError("XO_CONFIG_UNSAFE_NAME", { what: "task id", value: task.id, pattern: SAFE_TASK_ID.source });
    }
    if (ids.has(task.id)) throw xoError("XO_CONFIG_DUPLICATE_NAME", { what: "task id", value: task.id, firstPath: "tasks" });
    ids.add(task.id);
  }
  for (const task of tasks) {
    for (const up of task.upstream) {
      if (!ids.has(up)) throw xoError("XO_TASK_UNKNOWN", { task: up, available: [...ids].sort(compareCodePoints) });
    }
  }
  return tasks;
}

/** A group's Python variable is named after its id, apart from task variables. */
function groupVariable(group: string): string {
  return `${group}_group`;
}

/** The id a task has inside its group (Airflow prefixes the group id itself). */
function localTaskId(task: TaskSpec): string {
  return task.group === undefined ? task.id : task.id.slice(task.group.length + 1);
}

/** Tasks that may end as skipped: a `when:` condition, or a plugin step that can ask for it. */
function maySkip(task: TaskSpec): boolean {
  return task.when !== undefined || (task.canSkip !== false && !(BUILTIN_STEPS as readonly string[]).includes(task.step));
}

/** Arguments every runner adds the same way: pool, trigger rule, skip code. */
function commonArgs(task: TaskSpec, airflowVersion: AirflowVersion): [string, string][] {
  const args: [string, string][] = [];
  // Downstream pipelines scheduled on these datasets run once this task has updated them.
  if (task.outlets?.length) args.push(["outlets", assetList(task.outlets, airflowVersion)]);
  // `pool` is not a templated field; pool names are safe names.
  if (task.pool !== undefined) args.push(["pool", pyLiteral(task.pool)]);
  if (task.triggerRule !== undefined && task.triggerRule !== "all_success") args.push(["trigger_rule", pyLiteral(task.triggerRule)]);
  if (task.description !== undefined) args.push(["doc_md", pyLiteral(docMd(task.description))]);
  return args;
}

/**
 * Airflow 3 runs triggered without a logical date have no `ds`; their date is the
 * day they run after. Airflow 2 always has a logical date, so `or` never reaches run_after.
 */
export const LOGICAL_DATE = "{{ (dag_run.logical_date or dag_run.run_after) | ds }}";
const RUN_ID = "{{ run_id }}";
const LOG_URL = "{{ ti.log_url }}";

/** What a task needs at run time, as the Airflow templates that fill XO_ENV. */
function runTemplates(config: PipelineConfig): Record<string, string> {
  // XO_LOG_URL: where alerts the task sends itself (check warnings) point to.
  const env: Record<string, string> = { XO_LOGICAL_DATE: LOGICAL_DATE, XO_LOG_URL: LOG_URL, XO_RUN_ID: RUN_ID };
  for (const id of connectionIds(config)) env[connectionEnvVar(id)] = `{{ conn.${id}.get_uri() }}`;
  return env;
}

function connectionIds(config: PipelineConfig): string[] {
  const ids = pipelineConnections(config);
  for (const id of ids) {
    // The id lands inside a Jinja expression, where only a plain name is inert.
    if (!SAFE_CONNECTION_ID.test(id)) throw xoError("XO_CONFIG_UNSAFE_NAME", { what: "connection id", value: id, pattern: NAME_PATTERN });
  }
  return ids;
}

/** The parts of the file that depend on how tasks run. */
interface RunnerCode {
  readonly imports: readonly string[];
  /** The module-level XO_ENV assignment, with its comment. */
  readonly env: string;
  /** Comment lines put above the first task, saying how its values are kept out of Jinja. */
  readonly why: readonly string[];
  readonly task: (task: TaskSpec, variable: string) => string;
}

function bashRunner(runner: BashRunner, airflowVersion: AirflowVersion, config: PipelineConfig, relativeFile: string): RunnerCode {
  const command = COMMAND[airflowVersion];
  return {
    imports: airflowVersion === 3 ? [IMPORT.dag[3], IMPORT.bash[3], IMPORT.literal[3]] : [IMPORT.dag[2], IMPORT.bash[2]],
    env: [
      "# Airflow renders these when the task runs; credentials come from its connection",
      "# store, so none is ever written to this file.",
      `${ENV_VAR} = ${pyLiteral(runTemplates(config), { indent: INDENT })}`,
    ].join("\n"),
    // Not params: Airflow merges a run's conf into params, so whoever may trigger
    // the DAG could replace a value that bash_command pulls in through Jinja.
    why: [...command.why, `# only through ${ENV_VAR}, which holds fixed text.`],
    task: (task, variable) => {
      // The runner command is the config author's own bash, passed as written; the rest is
      // safe ids and fixed text, and run-time values come in through the environment.
      const line = `${runner.command} task ${relativeFile} ${task.id} --logical-date "$XO_LOGICAL_DATE" --run-id "$XO_RUN_ID"`;
      return callCode(variable, "BashOperator", [
        ["task_id", pyLiteral(localTaskId(task))],
        ["bash_command", command.code(line)],
        ["env", ENV_VAR],
        // Without it the task would see only XO_ENV and lose PATH and the worker's settings.
        ["append_env", "True"],
        ...commonArgs(task, airflowVersion),
        ...(maySkip(task) ? ([["skip_on_exit_code", pyLiteral(SKIP_EXIT_CODE)]] as [string, string][]) : []),
      ]);
    },
  };
}

/**
 * Each task is a pod. Config text goes into the operator's templated fields wrapped in
 * literal(), which Airflow (3, and 2 since 2.8) hands over without rendering; checked with
 * the cncf-kubernetes provider, which resolves literal() inside the env_vars, labels and
 * container_resources dicts too. Fields the operator does not template get plain values,
 * because a literal() there would reach Kubernetes as an object. Run-time values are
 * fixed templates (see `podTemplate`).
 */
function kubernetesRunner(
  runner: KubernetesRunner,
  airflowVersion: AirflowVersion,
  config: PipelineConfig,
  relativeFile: string,
): RunnerCode {
  const text = (value: string) => `literal(${pyLiteral(value)})`;
  const env: [string, string][] = Object.entries(runTemplates(config)).map(([k, v]) => [k, pyLiteral(podTemplate(v))]);
  for (const [name, value] of Object.entries(runner.env)) {
    // Names are rendered as templates too (KubernetesPodOperator turns the dict into
    // V1EnvVar objects first), so only a plain name is safe.
    if (!SAFE_ENV_NAME.test(name)) throw xoError("XO_CONFIG_UNSAFE_NAME", { what: "runner env name", value: name, pattern: ENV_NAME_PATTERN });
    if (isReservedRunnerEnv(name)) {
      throw xoError("XO_CONFIG_INVALID_VALUE", { detail: "runner.env may not set a variable xo-foundry sets itself", found: name });
    }
    env.push([name, text(value)]);
  }
  if (runner.kubernetes_conn_id !== undefined && !SAFE_CONNECTION_ID.test(runner.kubernetes_conn_id)) {
    throw xoError("XO_CONFIG_UNSAFE_NAME", { what: "kubernetes connection id", value: runner.kubernetes_conn_id, pattern: NAME_PATTERN });
  }
  const resources = podResources(runner, text);
  const imports: string[] = [IMPORT.dag[airflowVersion], IMPORT.pod, IMPORT.literal[airflowVersion]];
  if (resources !== undefined) imports.push(IMPORT.k8sModels);
  const dagId = config.pipeline.dag_id;

  return {
    imports,
    env: [
      "# Airflow renders these when the task runs; credentials come from its connection",
      "# store, so none is ever written to this file. A `$` in a run id or connection",
      "# URI is doubled so that Kubernetes does not expand $(VAR) in it; literal() values",
      "# are runner.env, passed to the pod as written.",
      `${ENV_VAR} = ${dictCode(env, 0)}`,
    ].join("\n"),
    why: [
      "# literal(): Airflow passes the runner's image, namespace, command, env and labels",
      "# as written, so neither a config value nor a run's conf can put a template into",
      `# them. Run-time values come only through the arguments and ${ENV_VAR}, which hold`,
      "# fixed text.",
    ],
    task: (task, variable) => {
      const args: [string, string][] = [
        ["task_id", pyLiteral(localTaskId(task))],
        ["name", pyLiteral(podName(dagId, task.id))],
        ["namespace", text(runner.namespace)],
        ["image", text(runner.image)],
      ];
      if (runner.image_pull_policy !== undefined) args.push(["image_pull_policy", pyLiteral(runner.image_pull_policy)]);
      args.push(
        ["cmds", listCode(runner.command.map(text))],
        [
          "arguments",
          pyLiteral(["task", relativeFile, task.id, "--logical-date", LOGICAL_DATE, "--run-id", podTemplate(RUN_ID)], {
            indent: INDENT,
            level: 2,
          }),
        ],
        ["env_vars", ENV_VAR],
      );
      if (resources !== undefined) args.push(["container_resources", resources]);
      if (Object.keys(runner.labels).length > 0) {
        args.push(["labels", dictCode(Object.entries(runner.labels).map(([k, v]) => [k, text(v)]), 2)]);
      }
      if (runner.service_account_name !== undefined) args.push(["service_account_name", pyLiteral(runner.service_account_name)]);
      if (runner.kubernetes_conn_id !== undefined) args.push(["kubernetes_conn_id", pyLiteral(runner.kubernetes_conn_id)]);
      if (runner.in_cluster !== undefined) args.push(["in_cluster", pyLiteral(runner.in_cluster)]);
      if (runner.config_file !== undefined) args.push(["config_file", text(runner.config_file)]);
      if (runner.startup_timeout_seconds !== undefined) args.push(["startup_timeout_seconds", pyLiteral(runner.startup_timeout_seconds)]);
      args.push(...commonArgs(task, airflowVersion));
      if (maySkip(task)) args.push(["skip_on_exit_code", pyLiteral(SKIP_EXIT_CODE)]);
      args.push(
        ["get_logs", pyLiteral(runner.get_logs)],
        ["on_finish_action", pyLiteral(runner.on_finish_action)],
        // The pod spec holds the connection URIs from XO_ENV; keep it out of the task log.
        ["log_pod_spec_on_failure", "False"],
      );
      return callCode(variable, "KubernetesPodOperator", args);
    },
  };
}

/**
 * Kubernetes expands `$(VAR)` in a container's args and env values and reads `$$` as
 * one `$`. The run id and connection URIs are text that neither the config nor this
 * file chose, so `{{ expr }}` becomes a template whose output has each `$` doubled and
 * reaches the CLI unchanged. The logical date renders as YYYY-MM-DD and stays as it is.
 */
function podTemplate(template: string): string {
  if (template === LOGICAL_DATE) return template;
  const match = /^\{\{ (.+) \}\}$/.exec(template);
  if (!match) throw new Error(`not a single Jinja expression: ${template}`);
  const expr = match[1]!;
  // A filter binds tighter than any operator, so only a plain name or call chain goes without parentheses.
  return `{{ ${/^[\w.()]+$/.test(expr) ? expr : `(${expr})`} | replace('$', '$$') }}`;
}

function podResources(runner: KubernetesRunner, text: (value: string) => string): string | undefined {
  const sides: string[] = [];
  for (const side of ["limits", "requests"] as const) {
    const quantities = Object.entries(runner.resources[side]).flatMap(([k, v]) => (v === undefined ? [] : [[k, text(v)] as const]));
    if (quantities.length > 0) sides.push(`${" ".repeat(INDENT * 3)}${side}=${dictCode(quantities, 3)},`);
  }
  if (sides.length === 0) return undefined;
  return ["k8s.V1ResourceRequirements(", ...sides, `${ARG_PAD})`].join("\n");
}

// KubernetesPodOperator appends `-` and 8 random characters and cuts the whole name
// at 63; at most 54 of ours means none of them is cut.
const POD_NAME_MAX = 54;
const DNS_LABEL = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?$/;

/**
 * The pod's name: `<dag_id>-<task_id>` with `_` as `-`, which is what `kubectl get pods`
 * shows. An id Kubernetes would not take as it is, or one too long, is cut down to a
 * valid prefix followed by a hash of both ids, so tasks keep distinct names.
 */
export function podName(dagId: string, taskId: string): string {
  const plain = `${dagId}-${taskId}`.replaceAll("_", "-");
  if (plain.length <= POD_NAME_MAX && DNS_LABEL.test(plain)) return plain;
  const hash = createHash("sha256").update(JSON.stringify([dagId, taskId])).digest("hex").slice(0, 8);
  const prefix = plain
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .slice(0, POD_NAME_MAX - hash.length - 1)
    .replace(/^-+|-+$/g, "");
  return `${prefix === "" ? "xo" : prefix}-${hash}`;
}

function dagSection(input: DagInput, tasks: readonly TaskSpec[], names: ReadonlyMap<string, string>, runner: RunnerCode, alerts: AlertCode): string {
  const p = input.pipeline.config.pipeline;
  const args: [string, string][] = [["dag_id", pyLiteral(p.dag_id)]];
  if (p.description !== undefined) args.push(["description", pyLiteral(p.description)]);
  args.push(
    ["schedule", p.schedule !== null && typeof p.schedule === "object" ? assetList(p.schedule.assets, input.airflowVersion) : pyLiteral(p.schedule)],
    ["start_date", pendulumDate(p.start_date, p.timezone)],
  );
  if (p.end_date !== undefined) args.push(["end_date", pendulumDate(p.end_date, p.timezone)]);
  args.push(
    ["catchup", pyLiteral(p.catchup)],
    ["tags", pyLiteral(p.tags)],
    ["max_active_runs", pyLiteral(p.max_active_runs)],
    [
      "default_args",
      dictCode(
        [
          ["owner", pyLiteral(p.owner)],
          ["retries", pyLiteral(p.retries)],
          ["retry_delay", `datetime.timedelta(minutes=${pyLiteral(p.retry_delay_minutes)})`],
          ...alerts.defaultArgs,
        ],
        1,
      ),
    ],
    ...alerts.dagArgs,
  );
  if (p.description !== undefined) args.push(["doc_md", pyLiteral(docMd(p.description))]);

  const lines = ["with DAG(", ...args.map(([k, v]) => `${PAD}${k}=${v},`), ") as dag:"];
  const body: string[] = [];
  const written = new Set<string>();
  for (const task of tasks) {
    if (written.has(task.id)) continue;
    if (task.group === undefined) {
      body.push(runner.task(task, names.get(task.id)!));
      written.add(task.id);
      continue;
    }
    // A group is written where its first task is, with all of its tasks inside.
    const members = tasks.filter((t) => t.group === task.group);
    const inner = members.map((t) => indent(runner.task(t, names.get(t.id)!)));
    body.push([`${PAD}with TaskGroup(group_id=${pyLiteral(task.group)}) as ${names.get(groupVariable(task.group))!}:`, inner.join("\n\n")].join("\n"));
    for (const t of members) written.add(t.id);
  }
  if (body.length > 0) body[0] = [...runner.why.map((line) => `${PAD}${line}`), body[0]].join("\n");
  const edges = tasks.flatMap((task) =>
    [...task.upstream].sort(compareCodePoints).map((up) => `${PAD}${names.get(up)!} >> ${names.get(task.id)!}`),
  );
  if (body.length === 0) body.push(`${PAD}pass`);
  if (edges.length > 0) body.push([`${PAD}# Each task waits only for the tasks it depends on.`, ...edges].join("\n"));
  return `${lines.join("\n")}\n${body.join("\n\n")}`;
}

/** Code one level deeper, for the body of a `with TaskGroup(...)` block. */
function indent(code: string): string {
  return code
    .split("\n")
    .map((line) => (line === "" ? line : `${PAD}${line}`))
    .join("\n");
}

/** `variable = Operator(...)` inside the DAG block, one keyword argument per line, in the given order. */
function callCode(variable: string, operator: string, args: readonly (readonly [string, string])[]): string {
  return `${PAD}${variable} = ${callExpressionRaw(operator, args, 1, false)}`;
}

/** A list display whose items are already Python code. */
function listCode(items: readonly string[]): string {
  return `[${items.join(", ")}]`;
}

function pendulumDate(date: string, timezone: string): string {
  const { y, m, d } = parseDate(date);
  return `pendulum.datetime(${pyLiteral(y)}, ${pyLiteral(m)}, ${pyLiteral(d)}, tz=${pyLiteral(timezone)})`;
}

/**
 * Airflow treats a doc_md that ends in `.md` as a path and reads that file while
 * parsing the DAG; a trailing newline keeps it text and renders the same Markdown.
 */
function docMd(description: string): string {
  return description.endsWith(".md") ? `${description}\n` : description;
}

/** A dict display whose values are already Python code, keys in code-point order. */
function dictCode(entries: readonly (readonly [string, string])[], level: number): string {
  const pad = " ".repeat(INDENT * (level + 1));
  const items = [...entries]
    .sort(([a], [b]) => compareCodePoints(a, b))
    .map(([k, v]) => `${pad}${pyLiteral(k)}: ${v},`);
  return ["{", ...items, `${" ".repeat(INDENT * level)}}`].join("\n");
}

// ---------------------------------------------------------------- assets and alerts

function usesAssets(config: PipelineConfig, tasks: readonly TaskSpec[]): boolean {
  return (config.pipeline.schedule !== null && typeof config.pipeline.schedule === "object") || tasks.some((t) => (t.outlets?.length ?? 0) > 0);
}

/** Datasets as Airflow assets (datasets on Airflow 2), in code-point order. */
function assetList(uris: readonly string[], airflowVersion: AirflowVersion): string {
  const cls = airflowVersion === 3 ? "Asset" : "Dataset";
  return listCode([...new Set(uris)].sort(compareCodePoints).map((uri) => `${cls}(${pyLiteral(uri)})`));
}

interface AlertCode {
  readonly imports: readonly string[];
  /** Notifier class names, which task variables must not shadow. */
  readonly classes: readonly string[];
  readonly defaultArgs: readonly [string, string][];
  readonly dagArgs: readonly [string, string][];
}

const PY_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const PY_MODULE = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*$/;

/** When Airflow calls a notifier for each event, and with which message. */
const CALLBACKS: Readonly<Record<Exclude<AlertEvent, "check_warning" | "deadline_missed">, { readonly arg: string; readonly on: "task" | "dag" }>> = {
  failure: { arg: "on_failure_callback", on: "task" },
  retry: { arg: "on_retry_callback", on: "task" },
  pipeline_failure: { arg: "on_failure_callback", on: "dag" },
  success: { arg: "on_success_callback", on: "dag" },
};

/** `{{ x }}` when the context has it, else `fallback`: DAGs render with StrictUndefined. */
function ifDefined(expr: string, fallback: string): string {
  const root = expr.split(".")[0]!;
  return `{{ ${expr} if ${root} is defined and ${root} else ${pyLiteral(fallback)} }}`;
}

/**
 * The message of an event as Airflow templates, with the same titles as the alerts the
 * runtime sends itself (runtime/alerts.ts). The pipeline name is a safe name; the rest is
 * fixed text and Airflow's own context.
 */
export function airflowMessage(event: AlertEvent, pipeline: string, dagId: string, airflowVersion: AirflowVersion = 3): AirflowMessage {
  const date = LOGICAL_DATE;
  const inert = jinjaInert(pipeline);
  const [title, text, task, logUrl, logicalDate, runId]: string[] =
    event === "deadline_missed" && airflowVersion === 2
      ? // Airflow 2 calls an sla_miss_callback with the DAG and the missed SLAs, not a run's context.
        [`${inert}: a run missed its SLA`, "tasks of a run had not finished within the SLA; see the DAG's SLA misses", "", "", "", ""]
      : event === "deadline_missed"
      ? [
          `${inert}: run missed its deadline ({{ dag_run.logical_date or dag_run.run_after }})`,
          "run {{ dag_run.dag_run_id }} had not finished by {{ deadline.deadline_time }}",
          "",
          "",
          "{{ dag_run.logical_date or dag_run.run_after }}",
          "{{ dag_run.dag_run_id }}",
        ]
      : [
          event === "failure"
            ? `${inert}: task {{ ti.task_id }} failed (${date})`
            : event === "retry"
              ? `${inert}: task {{ ti.task_id }} is up for retry (${date})`
              : event === "pipeline_failure"
                ? `${inert}: run failed (${date})`
                : `${inert}: run succeeded (${date})`,
          event === "success"
            ? "run {{ run_id }} succeeded"
            : event === "pipeline_failure"
              ? `run {{ run_id }} failed: ${ifDefined("reason", "a task failed")}`
              : `try {{ ti.try_number }}: ${ifDefined("exception", "see the task log")}`,
          CALLBACKS[event as keyof typeof CALLBACKS]?.on === "task" ? "{{ ti.task_id }}" : "",
          ifDefined("ti.log_url", ""),
          date,
          "{{ run_id }}",
        ];
  const fields: AirflowMessage["fields"] = {
    event,
    pipeline,
    dag_id: dagId,
    task: task === "" ? null : { jinja: task! },
    logical_date: logicalDate === "" ? null : { jinja: logicalDate! },
    run_id: runId === "" ? null : { jinja: runId! },
    title: { jinja: title! },
    text: { jinja: text! },
    log_url: logUrl === "" ? null : { jinja: logUrl! },
  };
  return { title: { jinja: title! }, text: { jinja: logUrl === "" ? text! : `${text}\nlog: ${logUrl}` }, fields };
}

function alertCode(input: DagInput): AlertCode {
  const config = input.pipeline.config;
  const imports = new Set<string>();
  const classes = new Set<string>();
  const render = (event: AlertEvent, alert: DagAlert): AirflowNotifier => {
    const n = alert.notifier(airflowMessage(event, config.pipeline.name, config.pipeline.dag_id, input.airflowVersion));
    if (!PY_MODULE.test(n.module) || !PY_IDENTIFIER.test(n.name) || MODULE_NAMES.includes(n.name)) {
      throw xoError("XO_CONFIG_UNSAFE_NAME", { what: "notifier class", value: `${n.module}.${n.name}`, pattern: PY_MODULE.source });
    }
    imports.add(`from ${n.module} import ${n.name}`);
    classes.add(n.name);
    return n;
  };
  const call = (n: AirflowNotifier, level: number) => callExpression(n.name, Object.entries(n.kwargs), level);
  const listeners = (event: AlertEvent) => (input.alerts ?? []).filter((a) => a.on.includes(event));

  const defaultArgs: [string, string][] = [];
  const dagArgs: [string, string][] = [];
  for (const [event, { arg, on }] of Object.entries(CALLBACKS) as [keyof typeof CALLBACKS, (typeof CALLBACKS)[keyof typeof CALLBACKS]][]) {
    const alerts = listeners(event);
    if (alerts.length === 0) continue;
    const level = on === "task" ? 2 : 1;
    const items = alerts.map((a) => `${" ".repeat(INDENT * (level + 1))}${call(render(event, a), level + 1)},`);
    (on === "task" ? defaultArgs : dagArgs).push([arg, ["[", ...items, `${" ".repeat(INDENT * level)}]`].join("\n")]);
  }
  const late = listeners("deadline_missed");
  const deadline = config.deadline;
  if (late.length > 0 && deadline !== undefined) {
    const minutes = durationMinutes(deadline.after_queued ?? deadline.after_logical_date ?? "")!;
    const interval = `datetime.timedelta(minutes=${pyLiteral(minutes)})`;
    const notifiers = late.map((a) => render("deadline_missed", a));
    if (input.airflowVersion === 3) {
      // Deadline Alerts (Airflow 3.1+): the triggerer calls the notifier once the run is late.
      imports.add(IMPORT.deadline);
      const reference = deadline.after_queued !== undefined ? "DeadlineReference.DAGRUN_QUEUED_AT" : "DeadlineReference.DAGRUN_LOGICAL_DATE";
      const alerts = notifiers.map((n) => {
        const kwargs = `${" ".repeat(INDENT * 4)}kwargs=${dictCode(Object.entries(n.kwargs).map(([k, v]) => [k, airflowArgument(v, 5)]), 4)},`;
        const callback = [`AsyncCallback(`, `${" ".repeat(INDENT * 4)}${n.name},`, kwargs, `${" ".repeat(INDENT * 3)})`].join("\n");
        return `${" ".repeat(INDENT * 2)}${callExpressionRaw("DeadlineAlert", [["reference", reference], ["interval", interval], ["callback", callback]], 2)},`;
      });
      dagArgs.push(["deadline", ["[", ...alerts, `${PAD}]`].join("\n")]);
    } else {
      // Airflow 2 has SLAs instead: measured from the end of the data interval, for scheduled runs only.
      defaultArgs.push(["sla", interval]);
      dagArgs.push(["sla_miss_callback", ["[", ...notifiers.map((n) => `${" ".repeat(INDENT * 2)}${call(n, 2)},`), `${PAD}]`].join("\n")]);
    }
  }
  return { imports: [...imports], classes: [...classes], defaultArgs, dagArgs };
}

/** Python code for a notifier argument: text that renders to itself, or a template the core wrote. */
function airflowArgument(value: AirflowArgument, level: number): string {
  if (typeof value === "string") return pyLiteral(jinjaInert(value));
  if (value === null || typeof value !== "object") return pyLiteral(value);
  if (Array.isArray(value)) return listCode((value as readonly AirflowArgument[]).map((v) => airflowArgument(v, level + 1)));
  if ("jinja" in value) return pyLiteral((value as { jinja: string }).jinja);
  return dictCode(Object.entries((value as { dict: Record<string, AirflowArgument> }).dict).map(([k, v]) => [k, airflowArgument(v, level + 1)]), level);
}

/** `Name(key=value, ...)` over several lines, its arguments one level deeper than `level`. */
function callExpression(name: string, kwargs: readonly (readonly [string, AirflowArgument])[], level: number): string {
  return callExpressionRaw(name, kwargs.map(([k, v]) => [k, airflowArgument(v, level + 1)]), level);
}

/** `Name(key=value, ...)`, one argument per line one level deeper than `level`; sorted by name unless asked to keep their order. */
function callExpressionRaw(name: string, args: readonly (readonly [string, string])[], level: number, sorted = true): string {
  for (const [k] of args) if (!PY_IDENTIFIER.test(k)) throw xoError("XO_CONFIG_UNSAFE_NAME", { what: "keyword argument", value: k, pattern: PY_IDENTIFIER.source });
  const pad = " ".repeat(INDENT * (level + 1));
  const ordered = sorted ? [...args].sort(([a], [b]) => compareCodePoints(a, b)) : args;
  return [`${name}(`, ...ordered.map(([k, v]) => `${pad}${k}=${v},`), `${" ".repeat(INDENT * level)})`].join("\n");
}
