import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";
import type { RenderInput, TaskSpec } from "@xo-foundry/core";
import { afterAll, describe, expect, it } from "vitest";
import { jinjaInert, renderIngestDag } from "./render.js";
import { caseInput, fixtureConfig, renderInput, resolved, type CaseInput } from "./__fixtures__/pipeline.js";
import { inspectDags, pythonParseErrors, scratch } from "./__fixtures__/python.js";

const CASES = fileURLToPath(new URL("./__fixtures__/cases/", import.meta.url));
const caseNames = readdirSync(CASES).sort();
const loadCase = (name: string) => JSON.parse(readFileSync(path.join(CASES, name, "pipeline.json"), "utf8")) as CaseInput;

const tmp = scratch();
afterAll(() => tmp.dispose());

describe("golden cases", () => {
  it.each(caseNames)("%s renders byte for byte as expected.py", (name) => {
    const actual = renderIngestDag(caseInput(loadCase(name)));
    const expectedFile = path.join(CASES, name, "expected.py");
    if (process.env.UPDATE_GOLDEN === "1") writeFileSync(expectedFile, actual);
    expect(existsSync(expectedFile), `${expectedFile} is missing; run with UPDATE_GOLDEN=1`).toBe(true);
    expect(actual).toBe(readFileSync(expectedFile, "utf8"));
  });

  it("every output is valid Python", () => {
    const files = caseNames.map((name) => tmp.write(`${name}.py`, renderIngestDag(caseInput(loadCase(name)))));
    files.push(tmp.write("no_connections.py", renderIngestDag(renderInput(resolved(fixtureConfig({ sourceConnection: undefined }))))));
    files.push(tmp.write("no_tasks.py", renderIngestDag({ ...renderInput(resolved(fixtureConfig())), tasks: [] })));
    expect(pythonParseErrors(files)).toEqual([]);
  });
});

describe("renderIngestDag", () => {
  const input = renderInput(resolved(fixtureConfig({ streams: ["orders", "customers", "refunds"] })));

  it("is byte-identical for the same input, whatever order streams and tasks arrive in", () => {
    const first = renderIngestDag(input);
    expect(renderIngestDag(input)).toBe(first);
    const reordered = renderInput(resolved(fixtureConfig({ streams: ["refunds", "orders", "customers"] })));
    expect(renderIngestDag(reordered)).toBe(first);
    expect(renderIngestDag({ ...input, tasks: [...input.tasks].reverse() })).toBe(first);
  });

  it("writes a tidy ASCII file with no machine-specific content", () => {
    const text = renderIngestDag(input);
    expect(text).toMatch(/^[\x20-\x7e\n]*$/);
    expect(text.endsWith("\n")).toBe(true);
    expect(text.endsWith("\n\n")).toBe(false);
    expect(text).not.toContain("/project");
    expect(text).not.toMatch(/ +$/m);
  });

  it("wires each stream's extract to its load and nothing else", () => {
    const file = tmp.write("edges.py", renderIngestDag(input));
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
    const v3 = tmp.write("v3.py", renderIngestDag(input));
    const v2 = tmp.write("v2.py", renderIngestDag({ ...input, airflowVersion: 2 }));
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
    const [dag] = inspectDags([tmp.write("conn.py", renderIngestDag(shared))]);
    expect(dag!.tasks[0]!.env.value).toEqual({
      XO_CONN_SHARED: "{{ conn.shared.get_uri() }}",
      XO_LOGICAL_DATE: "{{ (dag_run.logical_date or dag_run.run_after) | ds }}",
      XO_RUN_ID: "{{ run_id }}",
    });
  });

  it("keeps task variables clear of the module's own names", () => {
    const tasks: TaskSpec[] = [
      { id: "dag", kind: "extract", stream: "a", upstream: [] },
      { id: "datetime", kind: "load", stream: "a", upstream: ["dag"] },
      { id: "literal", kind: "extract", stream: "b", upstream: [] },
    ];
    const [dag] = inspectDags([tmp.write("names.py", renderIngestDag({ ...input, tasks }))]);
    // Core reserves `dag` and `datetime` itself (hence `_`); `literal` only this template does.
    expect(dag!.tasks.map((t) => t.variable)).toEqual(["dag_", "datetime_", "literal_2"]);
    expect(dag!.edges).toEqual([["dag", "datetime"]]);
  });

  it("refuses inputs that would put unchecked text into code", () => {
    const withFile = (relativeFile: string): RenderInput => ({ ...input, pipeline: { ...input.pipeline, relativeFile } });
    for (const bad of ["../x.yaml", "a/../x.yaml", "/etc/x.yaml", "-rf.yaml", "a b.yaml", "{{ x }}.yaml", "a;b.yaml", "x.yaml\n"]) {
      expect(() => renderIngestDag(withFile(bad)), bad).toThrow(/XO_CONFIG_UNSAFE_PATH|unsafe|path/i);
    }
    const withTask = (id: string): RenderInput => ({ ...input, tasks: [{ id, kind: "extract", stream: "s", upstream: [] }] });
    for (const bad of ["Extract", "a-b", "a b", "{{x}}", "", "x;y"]) {
      expect(() => renderIngestDag(withTask(bad)), bad).toThrow();
    }
    expect(() => renderIngestDag({ ...input, tasks: [{ id: "load_x", kind: "load", stream: "x", upstream: ["nope"] }] })).toThrow();
    const badConn = renderInput(resolved(fixtureConfig({ sourceConnection: "a.b" })));
    expect(() => renderIngestDag(badConn)).toThrow();
  });

  it("keeps a description ending in .md from being read as a file by Airflow", () => {
    const config = fixtureConfig({ pipeline: { description: "/etc/secrets.md" } });
    const [dag] = inspectDags([tmp.write("docmd.py", renderIngestDag(renderInput(resolved(config))))]);
    expect(dag!.dag.description).toBe("/etc/secrets.md");
    expect(dag!.dag.doc_md).toBe("/etc/secrets.md\n");
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
