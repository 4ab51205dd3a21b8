import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";
import type { DagInput, TaskSpec } from "@xo-foundry/core";
import { afterAll, describe, expect, it } from "vitest";
import { LOGICAL_DATE, jinjaInert, podName, emitDag } from "@xo-foundry/core";
import { caseInput, fixtureConfig, kubernetesRunner, renderInput, resolved, type CaseInput } from "./__fixtures__/pipeline.js";
import { inspectDags, pythonParseErrors, scratch, type PodTask } from "./__fixtures__/python.js";

const CASES = fileURLToPath(new URL("./__fixtures__/cases/", import.meta.url));
const caseNames = readdirSync(CASES).sort();
const loadCase = (name: string) => JSON.parse(readFileSync(path.join(CASES, name, "pipeline.json"), "utf8")) as CaseInput;

const tmp = scratch();
afterAll(() => tmp.dispose());

describe("golden cases", () => {
  it.each(caseNames)("%s renders byte for byte as expected.py", (name) => {
    const actual = emitDag(caseInput(loadCase(name)));
    const expectedFile = path.join(CASES, name, "expected.py");
    if (process.env.UPDATE_GOLDEN === "1") writeFileSync(expectedFile, actual);
    expect(existsSync(expectedFile), `${expectedFile} is missing; run with UPDATE_GOLDEN=1`).toBe(true);
    expect(actual).toBe(readFileSync(expectedFile, "utf8"));
  });

  it("every output is valid Python", () => {
    const files = caseNames.map((name) => tmp.write(`${name}.py`, emitDag(caseInput(loadCase(name)))));
    files.push(tmp.write("no_connections.py", emitDag(renderInput(resolved(fixtureConfig({ sourceConnection: undefined }))))));
    files.push(tmp.write("no_tasks.py", emitDag({ ...renderInput(resolved(fixtureConfig())), tasks: [] })));
    expect(pythonParseErrors(files)).toEqual([]);
  });
});

describe("emitDag", () => {
  const input = renderInput(resolved(fixtureConfig({ streams: ["orders", "customers", "refunds"] })));

  it("is byte-identical for the same input, whatever order the streams are written in", () => {
    const first = emitDag(input);
    expect(emitDag(input)).toBe(first);
    const reordered = renderInput(resolved(fixtureConfig({ streams: ["refunds", "orders", "customers"] })));
    expect(emitDag(reordered)).toBe(first);
  });

  it("writes a tidy ASCII file with no machine-specific content", () => {
    const text = emitDag(input);
    expect(text).toMatch(/^[\x20-\x7e\n]*$/);
    expect(text.endsWith("\n")).toBe(true);
    expect(text.endsWith("\n\n")).toBe(false);
    expect(text).not.toContain("/project");
    expect(text).not.toMatch(/ +$/m);
  });

  it("wires each stream's extract to its load and nothing else", () => {
    const file = tmp.write("edges.py", emitDag(input));
    const [dag] = inspectDags([file]);
    expect(dag!.edges).toEqual([
      ["extract_customers", "load_customers"],
      ["extract_orders", "load_orders"],
      ["extract_refunds", "load_refunds"],
    ]);
    expect(dag!.tasks.map((t) => t.task_id)).toEqual([
      "extract_customers",
      "load_customers",
      "extract_orders",
      "load_orders",
      "extract_refunds",
      "load_refunds",
    ]);
  });

  it("imports Airflow 3's SDK by default and Airflow 2's modules when asked", () => {
    const v3 = tmp.write("v3.py", emitDag(input));
    const v2 = tmp.write("v2.py", emitDag({ ...input, airflowVersion: 2 }));
    const [a3, a2] = inspectDags([v3, v2]);
    expect(a3!.imports).toEqual([
      "import datetime",
      "import pendulum",
      "from airflow.providers.standard.operators.bash import BashOperator",
      "from airflow.sdk import DAG",
      "from airflow.sdk.definitions.template import literal",
    ]);
    expect(a2!.imports).toEqual([
      "import datetime",
      "import pendulum",
      "from airflow import DAG",
      "from airflow.operators.bash import BashOperator",
    ]);
    // Top level only imports, binds literals and builds the DAG: nothing that does I/O.
    expect(a3!.top_level).toEqual(["Expr", "Import", "Import", "ImportFrom", "ImportFrom", "ImportFrom", "Assign", "With"]);
    expect(a2!.top_level).toEqual(["Expr", "Import", "Import", "ImportFrom", "ImportFrom", "Assign", "With"]);
  });

  it("names each connection once, as an Airflow template the worker resolves", () => {
    const shared = renderInput(resolved(fixtureConfig({ sourceConnection: "shared", sinkConnection: "shared" })));
    const [dag] = inspectDags([tmp.write("conn.py", emitDag(shared))]);
    expect(dag!.tasks[0]!.env.value).toEqual({
      XO_CONN_SHARED: "{{ conn.shared.get_uri() }}",
      XO_LOGICAL_DATE: "{{ (dag_run.logical_date or dag_run.run_after) | ds }}",
      XO_LOG_URL: "{{ ti.log_url }}",
        XO_RUN_ID: "{{ run_id }}",
    });
  });

  it("keeps task variables clear of the module's own names", () => {
    const tasks: TaskSpec[] = [
      { id: "dag", step: "extract", with: {}, stream: "a", upstream: [] },
      { id: "datetime", step: "load", with: {}, stream: "a", upstream: ["dag"] },
      { id: "literal", step: "extract", with: {}, stream: "b", upstream: [] },
    ];
    const [dag] = inspectDags([tmp.write("names.py", emitDag({ ...input, tasks }))]);
    // Core reserves `dag` and `datetime` itself (hence `_`); `literal` only this template does.
    expect(dag!.tasks.map((t) => t.variable)).toEqual(["dag_", "datetime_", "literal_2"]);
    expect(dag!.edges).toEqual([["dag", "datetime"]]);
  });

  it("refuses inputs that would put unchecked text into code", () => {
    const withFile = (relativeFile: string): DagInput => ({ ...input, pipeline: { ...input.pipeline, relativeFile } });
    for (const bad of ["../x.yaml", "a/../x.yaml", "/etc/x.yaml", "-rf.yaml", "a b.yaml", "{{ x }}.yaml", "a;b.yaml", "x.yaml\n"]) {
      expect(() => emitDag(withFile(bad)), bad).toThrow(/XO_CONFIG_UNSAFE_PATH|unsafe|path/i);
    }
    const withTask = (id: string): DagInput => ({ ...input, tasks: [{ id, step: "extract", with: {}, stream: "s", upstream: [] }] });
    for (const bad of ["Extract", "a-b", "a b", "{{x}}", "", "x;y"]) {
      expect(() => emitDag(withTask(bad)), bad).toThrow();
    }
    expect(() => emitDag({ ...input, tasks: [{ id: "load_x", step: "load", with: {}, stream: "x", upstream: ["nope"] }] })).toThrow();
    const badConn = renderInput(resolved(fixtureConfig({ sourceConnection: "a.b" })));
    expect(() => emitDag(badConn)).toThrow();
  });

  it("keeps a description ending in .md from being read as a file by Airflow", () => {
    const config = fixtureConfig({ pipeline: { description: "/etc/secrets.md" } });
    const [dag] = inspectDags([tmp.write("docmd.py", emitDag(renderInput(resolved(config))))]);
    expect(dag!.dag.description).toBe("/etc/secrets.md");
    expect(dag!.dag.doc_md).toBe("/etc/secrets.md\n");
  });
});

describe("emitDag with a kubernetes runner", () => {
  const podInput = (runner = kubernetesRunner(), airflowVersion: 2 | 3 = 3) =>
    renderInput(resolved(fixtureConfig({ runner, pipeline: { airflow_version: airflowVersion } })));
  const inspectPods = (name: string, input: DagInput) => inspectDags<PodTask>([tmp.write(name, emitDag(input))])[0]!;

  it("imports the provider's operator, and Kubernetes' models only when resources are set", () => {
    const bare = inspectPods("pod_bare.py", podInput());
    expect(bare.imports).toEqual([
      "import datetime",
      "import pendulum",
      "from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator",
      "from airflow.sdk import DAG",
      "from airflow.sdk.definitions.template import literal",
    ]);
    const sized = inspectPods("pod_sized.py", podInput(kubernetesRunner({ resources: { requests: { cpu: "1" }, limits: {} } })));
    expect(sized.imports.at(-1)).toBe("from kubernetes.client import models as k8s");
    expect(sized.tasks[0]!.container_resources).toEqual({ "k8s.V1ResourceRequirements": { requests: { cpu: { literal: "1" } } } });
    const v2 = inspectPods("pod_v2.py", podInput(kubernetesRunner(), 2));
    expect(v2.imports).toEqual([
      "import datetime",
      "import pendulum",
      "from airflow import DAG",
      "from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator",
      "from airflow.utils.template import literal",
    ]);
  });

  it("writes only the options the config sets, in a fixed order", () => {
    const [first] = inspectPods("pod_order.py", podInput()).tasks;
    expect(first!.__order__).toEqual([
      "task_id",
      "name",
      "namespace",
      "image",
      "cmds",
      "arguments",
      "env_vars",
      "get_logs",
      "on_finish_action",
      "log_pod_spec_on_failure",
    ]);
    expect(first).toMatchObject({ get_logs: true, on_finish_action: "delete_pod", log_pod_spec_on_failure: false });
  });

  it("passes the run's values as fixed templates, doubling `$` where Kubernetes would expand it", () => {
    const config = fixtureConfig({ runner: kubernetesRunner(), sourceConnection: "shop_api", sinkConnection: "warehouse" });
    const [task] = inspectPods("pod_args.py", renderInput(resolved(config))).tasks;
    expect(task!.arguments).toEqual([
      "task",
      "pipelines/orders.yaml",
      "extract_customers",
      "--logical-date",
      LOGICAL_DATE,
      "--run-id",
      "{{ run_id | replace('$', '$$') }}",
    ]);
    expect(task!.env_vars.value).toEqual({
      XO_CONN_SHOP_API: "{{ conn.shop_api.get_uri() | replace('$', '$$') }}",
      XO_CONN_WAREHOUSE: "{{ conn.warehouse.get_uri() | replace('$', '$$') }}",
      XO_LOGICAL_DATE: LOGICAL_DATE,
      XO_LOG_URL: "{{ ti.log_url | replace('$', '$$') }}",
          XO_RUN_ID: "{{ run_id | replace('$', '$$') }}",
    });
  });

  it("keeps task variables clear of the names it imports", () => {
    const tasks: TaskSpec[] = [
      { id: "k8s", step: "extract", with: {}, stream: "a", upstream: [] },
      { id: "literal", step: "extract", with: {}, stream: "b", upstream: [] },
    ];
    const dag = inspectPods("pod_names.py", { ...podInput(kubernetesRunner({ resources: { requests: {}, limits: { memory: "1Gi" } } })), tasks });
    expect(dag.tasks.map((t) => t.variable)).toEqual(["k8s_2", "literal_2"]);
  });

  it("refuses env names and a cluster connection id that Airflow would render as templates", () => {
    const envs: Record<string, string>[] = [{ "{{ x }}": "v" }, { "A B": "v" }, { XO_RUN_ID: "v" }, { XO_CONN_X: "v" }];
    for (const env of envs) {
      expect(() => emitDag(podInput(kubernetesRunner({ env }))), JSON.stringify(env)).toThrow(/not a safe name|may not set/);
    }
    expect(() => emitDag(podInput(kubernetesRunner({ kubernetes_conn_id: "{{ x }}" })))).toThrow(/not a safe name/);
  });
});

describe("podName", () => {
  const DNS_LABEL = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?$/;

  it("is the dag id and task id, as Kubernetes spells names", () => {
    expect(podName("shop_orders", "extract_customers")).toBe("shop-orders-extract-customers");
  });

  it("cuts anything longer or unusable down to a valid name the random suffix will not cut", () => {
    const long = "d".repeat(63);
    const names = ["extract_a", "extract_b"].map((task) => podName(long, task));
    for (const name of [...names, podName("a", "load_x_"), podName("Ünïcode dag!", "extract_x"), podName("", "_")]) {
      expect(name).toMatch(DNS_LABEL);
      expect(name.length).toBeLessThanOrEqual(54);
    }
    // The ids differ only past the cut; the hash keeps the names apart.
    expect(names[0]).not.toBe(names[1]);
    expect(names[0]).toMatch(/^d{45}-[0-9a-f]{8}$/);
    expect(podName(long, "extract_a")).toBe(names[0]);
    expect(podName("a", "load_x_")).toMatch(/^a-load-x-[0-9a-f]{8}$/);
  });
});

describe("jinjaInert", () => {
  it("escapes only the braces that would open a Jinja tag", () => {
    expect(jinjaInert("echo {{ 7 * 7 }} {% if %} {# c #} ${HOME} {x} {")).toBe(
      "echo {{ '{' }}{ 7 * 7 }} {{ '{' }}% if %} {{ '{' }}# c #} ${HOME} {x} {",
    );
    expect(jinjaInert("{{{")).toBe("{{ '{' }}{{ '{' }}{");
    expect(jinjaInert("xo-foundry")).toBe("xo-foundry");
  });
});

describe("pools", () => {
  it("puts extracts in source.pool and loads in sink.pool, for both runners", () => {
    const base = fixtureConfig();
    for (const runner of [base.runner, { type: "kubernetes" as const, image: "i:1", namespace: "default", command: ["xo-foundry"], resources: { requests: {}, limits: {} }, env: {}, labels: {}, get_logs: true, on_finish_action: "delete_pod" as const }]) {
      const config = { ...base, runner, sources: { main: { ...base.sources.main!, pool: "shop_api" } }, sinks: { main: { ...base.sinks.main!, pool: "warehouse" } } };
      const [dag] = inspectDags([tmp.write(`pools-${runner.type}.py`, emitDag(renderInput(resolved(config))))]);
      const pools = Object.fromEntries(dag!.tasks.map((t) => [t.task_id, (t as unknown as { pool?: string }).pool]));
      expect(pools).toEqual({ extract_customers: "shop_api", load_customers: "warehouse", extract_orders: "shop_api", load_orders: "warehouse" });
    }
    const [plain] = inspectDags([tmp.write("no-pools.py", emitDag(renderInput(resolved(base))))]);
    expect(plain!.tasks.every((t) => !("pool" in t))).toBe(true);
  });
});
