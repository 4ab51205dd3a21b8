// The N equivalent pipelines of the parse benchmark, written three ways (the "dbt" scenario
// adds a dbt step rendered per model, and compares xo-foundry with hand-written only):
//   xo-foundry  - a project (package.json + xo-foundry.yaml + one pipeline YAML each) that
//                 `xo-foundry generate-dags` turns into one DAG file per pipeline;
//   dag-factory - one dag-factory 1.1.0 YAML per pipeline plus the single loader .py that
//                 dag-factory needs in the DAGs folder;
//   hand-written - one plain Airflow 3 DAG file per pipeline, the way a person writes it.
// All three describe the same DAGs; measure_dagbag.py --fingerprint proves it after loading.
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";


/** Pipeline names p0000, p0001, ... (four digits, more if N > 10000). */
export function pipelineName(i, n) {
  return `p${String(i).padStart(Math.max(4, String(n - 1).length), "0")}`;
}

/**
 * The synthetic dbt project of the "dbt" scenario: `models` models m00, m01, ... where model
 * i > 0 selects from model (i - 1) / 2, a binary tree as wide as it is deep.
 */
export function dbtModelParents(models) {
  return Array.from({ length: models }, (_, i) => (i === 0 ? [] : [Math.floor((i - 1) / 2)]));
}

const modelName = (i) => `m${String(i).padStart(2, "0")}`;

/** What every variant must express for pipeline `name` (the shape of examples/sample-shop.yaml, plus `dbtModels` per-model dbt tasks). */
export function pipelineSpec(name, { dbtModels = 0 } = {}) {
  const task = (id, upstream, outlets = []) => ({
    id,
    upstream,
    // The command xo-foundry's ingest template emits for a task of `<name>.yaml`.
    bash: `xo-foundry task ${name}.yaml ${id} --logical-date "$XO_LOGICAL_DATE" --run-id "$XO_RUN_ID"`,
    // The tables it updates, as Airflow assets (xo-foundry declares them on loads and dbt models).
    outlets,
  });
  const table = (t) => `duckdb://.xo-foundry/warehouse.duckdb/main.${t}`;
  return {
    name,
    description: `Customers and orders from shop ${name}, loaded daily into DuckDB.`,
    schedule: "@daily",
    startDate: { year: 2026, month: 1, day: 1 },
    catchup: false,
    maxActiveRuns: 1,
    tags: ["bench", "shop"],
    owner: "data-platform",
    retries: 2,
    retryDelayMinutes: 5,
    env: {
      XO_CONN_SAMPLE_SHOP: "{{ conn.sample_shop.get_uri() }}",
      XO_LOGICAL_DATE: "{{ (dag_run.logical_date or dag_run.run_after) | ds }}",
      XO_LOG_URL: "{{ ti.log_url }}",
      XO_RUN_ID: "{{ run_id }}",
    },
    // Two streams -> extract/load each; each load waits only for its own extract.
    tasks: [
      task("extract_customers", []),
      task("load_customers", ["extract_customers"], [table(`${name}_customers`)]),
      task("extract_orders", []),
      task("load_orders", ["extract_orders"], [table(`${name}_orders`)]),
      // The dbt step after the loads, one task per model in its task group.
      ...dbtModelParents(dbtModels).map((parents, i) =>
        task(`dbt_build.${modelName(i)}`, parents.length ? parents.map((p) => `dbt_build.${modelName(p)}`) : ["load_customers", "load_orders"], [table(modelName(i))]),
      ),
    ],
  };
}

/** A compiled manifest.json for the synthetic dbt project (the fields render: per_model reads). */
export function dbtManifest(models) {
  const nodes = {};
  dbtModelParents(models).forEach((parents, i) => {
    const name = modelName(i);
    nodes[`model.bench.${name}`] = {
      unique_id: `model.bench.${name}`,
      resource_type: "model",
      name,
      package_name: "bench",
      fqn: ["bench", "marts", name],
      tags: [],
      original_file_path: `models/marts/${name}.sql`,
      config: { materialized: "table", enabled: true },
      depends_on: { nodes: parents.map((p) => `model.bench.${modelName(p)}`) },
    };
  });
  return { metadata: { dbt_version: "1.11.16" }, nodes, sources: {} };
}

// JSON string literals are valid YAML double-quoted scalars and valid Python literals for
// the plain ASCII text used here; refuse anything else rather than escape it wrongly.
function quote(text) {
  if (!/^[\x20-\x7e]*$/.test(text)) throw new Error(`fixture text must be printable ASCII: ${text}`);
  return JSON.stringify(text);
}

// A Python single-quoted literal (what a person writes for a command with double quotes in it).
function pySingleQuoted(text) {
  if (!/^[\x20-\x7e]*$/.test(text) || /['\\]/.test(text)) throw new Error(`cannot single-quote: ${text}`);
  return `'${text}'`;
}

const pad2 = (n) => String(n).padStart(2, "0");
const isoDate = ({ year, month, day }) => `${year}-${pad2(month)}-${pad2(day)}`;

// ---------------------------------------------------------------------------------------
// xo-foundry

/** The project's package.json: the plugins are found through its dependencies only. */
export const XO_PACKAGE_JSON = {
  name: "xo-foundry-bench-parse",
  private: true,
  type: "module",
  dependencies: {
    "@xo-foundry/plugin-api": "*",
    "@xo-foundry/plugin-duckdb": "*",
    "@xo-foundry/template-ingest": "*",
  },
};

/** Project defaults, as in examples/xo-foundry.yaml (owner, retries, landing, sink). */
export function xoProjectYaml(spec) {
  return `# Project defaults shared by every benchmark pipeline (copied from examples/xo-foundry.yaml).
defaults:
  pipeline:
    owner: ${spec.owner}
    retries: ${spec.retries}
    retry_delay_minutes: ${spec.retryDelayMinutes}
    timezone: UTC
  landing:
    uri: file://.xo-foundry/landing
  sink:
    plugin: duckdb
    database: .xo-foundry/warehouse.duckdb
`;
}

/** One pipeline in the shape of examples/sample-shop.yaml: 2 streams -> 4 tasks. */
export function xoPipelineYaml(spec) {
  return `# Benchmark pipeline ${spec.name}: the shape of examples/sample-shop.yaml.
pipeline:
  name: ${spec.name}
  description: ${quote(spec.description)}
  schedule: ${quote(spec.schedule)}
  start_date: ${isoDate(spec.startDate)}
  tags: [${spec.tags.join(", ")}]
  load_strategy: incremental

source:
  plugin: api
  connection: sample_shop
  auth:
    type: bearer
  page_size: 100
  streams:
    - name: customers
      path: customers
      record_path: data
      pagination:
        type: offset
      target:
        table: ${spec.name}_customers   # each pipeline its own tables: two never load into one
        mode: merge
        keys: [id]

    - name: orders
      path: orders
      params:
        updated_since: "{window_start}"
        updated_before: "{window_end}"
      record_path: items
      pagination:
        type: cursor
        next_cursor_path: next_cursor
        limit_param: limit
      target:
        table: ${spec.name}_orders
        keys: [id]
`;
}

/** The dbt step of the "dbt" scenario: `dbt build` of the project in dbt/, one task per model. */
const XO_DBT_STEP = `
steps:
  - id: dbt_build
    uses: dbt.build
    after: ["load_*"]
    with: { project_dir: dbt, render: per_model }
`;

export async function writeXoProject(dir, specs, { dbtModels = 0 } = {}) {
  await mkdir(dir, { recursive: true });
  const pkg = dbtModels ? { ...XO_PACKAGE_JSON, dependencies: { ...XO_PACKAGE_JSON.dependencies, "@xo-foundry/plugin-dbt": "*" } } : XO_PACKAGE_JSON;
  await writeFile(path.join(dir, "package.json"), JSON.stringify(pkg, null, 2) + "\n");
  await writeFile(path.join(dir, "xo-foundry.yaml"), xoProjectYaml(specs[0]));
  if (dbtModels) {
    await mkdir(path.join(dir, "dbt/target"), { recursive: true });
    await writeFile(path.join(dir, "dbt/dbt_project.yml"), "name: bench\nversion: '1.0.0'\nconfig-version: 2\nprofile: bench\n");
    await writeFile(path.join(dir, "dbt/target/manifest.json"), JSON.stringify(dbtManifest(dbtModels)));
  }
  for (const spec of specs) await writeFile(path.join(dir, `${spec.name}.yaml`), xoPipelineYaml(spec) + (dbtModels ? XO_DBT_STEP : ""));
}

// ---------------------------------------------------------------------------------------
// dag-factory 1.1.0

/**
 * The one Python file dag-factory needs in the DAGs folder. dag-factory 1.x exports only
 * `load_yaml_dags`; given a folder it walks it for *.yaml / *.yml and builds every DAG into
 * this module's globals, where the DagBag finds them. Airflow's safe-mode discovery only opens
 * .py files that contain both "airflow" and "dag", which this docstring does.
 */
export const DAG_FACTORY_LOADER = `"""Build the Airflow DAGs described by the dag-factory YAML files in this folder."""

import os

from dagfactory import load_yaml_dags

HERE = os.path.dirname(os.path.abspath(__file__))

load_yaml_dags(globals_dict=globals(), dags_folder=HERE, defaults_config_path=HERE)
`;

/**
 * One DAG in dag-factory 1.1.0's YAML: the DAG id is the top-level key, tasks are a mapping
 * of task id -> config with the operator's full import path (on Airflow 3 the standard
 * provider's `airflow.providers.standard.operators.bash.BashOperator`), `dependencies` lists
 * upstream task ids, and a timedelta is built with dag-factory's `__type__` object syntax.
 * The env mapping is written once and reused through a YAML anchor.
 */
export function dagFactoryYaml(spec) {
  const lines = [
    `# Benchmark pipeline ${spec.name} for dag-factory 1.1.0.`,
    `${spec.name}:`,
    `  description: ${quote(spec.description)}`,
    `  schedule: ${quote(spec.schedule)}`,
    `  start_date: ${isoDate(spec.startDate)}`,
    `  catchup: ${spec.catchup}`,
    `  max_active_runs: ${spec.maxActiveRuns}`,
    `  tags: [${spec.tags.join(", ")}]`,
    `  default_args:`,
    `    owner: ${spec.owner}`,
    `    retries: ${spec.retries}`,
    `    retry_delay:`,
    `      __type__: datetime.timedelta`,
    `      minutes: ${spec.retryDelayMinutes}`,
    `  tasks:`,
  ];
  spec.tasks.forEach((task, index) => {
    lines.push(`    ${task.id}:`);
    lines.push(`      operator: airflow.providers.standard.operators.bash.BashOperator`);
    lines.push(`      bash_command: ${quote(task.bash)}`);
    if (index === 0) {
      lines.push(`      env: &env`);
      for (const [k, v] of Object.entries(spec.env)) lines.push(`        ${k}: ${quote(v)}`);
    } else {
      lines.push(`      env: *env`);
    }
    lines.push(`      append_env: true`);
    if (task.outlets.length) lines.push(`      outlets: [${task.outlets.map(quote).join(", ")}]`);
    if (task.upstream.length) lines.push(`      dependencies: [${task.upstream.join(", ")}]`);
  });
  return lines.join("\n") + "\n";
}

export async function writeDagFactoryFolder(dir, specs) {
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, "dag_factory_loader.py"), DAG_FACTORY_LOADER);
  for (const spec of specs) await writeFile(path.join(dir, `${spec.name}.yaml`), dagFactoryYaml(spec));
}

// ---------------------------------------------------------------------------------------
// Hand-written Airflow 3 DAG: the floor.

export function handWrittenDag(spec) {
  const { year, month, day } = spec.startDate;
  const env = Object.entries(spec.env)
    .map(([k, v]) => `    ${quote(k)}: ${quote(v)},`)
    .join("\n");
  // A task `group.name` is `name` inside `with TaskGroup("group"):`, as a person writes it.
  const variable = (id) => id.replace(".", "__");
  const operator = (t, indent) => `${indent}${variable(t.id)} = BashOperator(
${indent}    task_id=${quote(t.id.includes(".") ? t.id.split(".")[1] : t.id)},
${indent}    bash_command=${pySingleQuoted(t.bash)},
${indent}    env=ENV,
${indent}    append_env=True,
${t.outlets.length ? `${indent}    outlets=[${t.outlets.map((u) => `Asset(${quote(u)})`).join(", ")}],\n` : ""}${indent})`;
  const groups = [...new Set(spec.tasks.filter((t) => t.id.includes(".")).map((t) => t.id.split(".")[0]))];
  const tasks = [
    ...spec.tasks.filter((t) => !t.id.includes(".")).map((t) => operator(t, "    ")),
    ...groups.map((g) => `    with TaskGroup(${quote(g)}):\n${spec.tasks.filter((t) => t.id.startsWith(`${g}.`)).map((t) => operator(t, "        ")).join("\n")}`),
  ].join("\n");
  const deps = spec.tasks
    .flatMap((t) => t.upstream.map((u) => `    ${variable(u)} >> ${variable(t.id)}`))
    .join("\n");
  return `import datetime

import pendulum
from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG, Asset${groups.length ? ", TaskGroup" : ""}

ENV = {
${env}
}

with DAG(
    dag_id=${quote(spec.name)},
    description=${quote(spec.description)},
    schedule=${quote(spec.schedule)},
    start_date=pendulum.datetime(${year}, ${month}, ${day}, tz="UTC"),
    catchup=${spec.catchup ? "True" : "False"},
    max_active_runs=${spec.maxActiveRuns},
    tags=[${spec.tags.map(quote).join(", ")}],
    default_args={
        "owner": ${quote(spec.owner)},
        "retries": ${spec.retries},
        "retry_delay": datetime.timedelta(minutes=${spec.retryDelayMinutes}),
    },
):
${tasks}

${deps}
`;
}

export async function writeHandWrittenFolder(dir, specs) {
  await mkdir(dir, { recursive: true });
  for (const spec of specs) await writeFile(path.join(dir, `${spec.name}.py`), handWrittenDag(spec));
}
