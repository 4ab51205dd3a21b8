/**
 * The Airflow helpers against real Apache Airflow 3: the venv that `npm test` builds with
 * tools/airflow/setup.sh. A hand-written DAG, since the testkit knows no generator.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dagsTest, importDags } from "./airflow.js";

const venv = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../.venv/airflow3");
let folder: string;

beforeAll(async () => {
  folder = await mkdtemp(path.join(os.tmpdir(), "xo-testkit-dags-"));
  await writeFile(
    path.join(folder, "two_tasks.py"),
    `import pendulum
from airflow import DAG
from airflow.providers.standard.operators.bash import BashOperator

with DAG("two_tasks", start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), schedule=None, default_args={"retries": 0}) as dag:
    ok = BashOperator(task_id="ok", bash_command="echo marker=$MARK")
    boom = BashOperator(task_id="boom", bash_command="exit 3")
    never = BashOperator(task_id="never", bash_command="echo unreachable")
    ok >> boom >> never
`,
  );
  // DagBag only opens files that mention both "airflow" and "dag".
  await writeFile(path.join(folder, "broken.py"), "from airflow import DAG\ndag = DAG(\n");
});
afterAll(() => rm(folder, { recursive: true, force: true }));

describe("importDags", () => {
  it("lists each DAG with its tasks and each file Airflow could not import", async () => {
    const imported = await importDags({ venv, folder });
    expect(imported.version).toMatch(/^3\./);
    expect(imported.dags).toEqual({ two_tasks: ["boom", "never", "ok"] });
    expect(Object.keys(imported.importErrors)).toEqual([path.join(folder, "broken.py")]);
    expect(imported.importErrors[path.join(folder, "broken.py")]).toMatch(/SyntaxError|was never closed/);
  });

  it("refuses a folder that is not a venv, saying what to pass", async () => {
    await expect(importDags({ venv: folder, folder })).rejects.toThrow(/no Python at .*venv with apache-airflow/);
  });
});

describe("dagsTest", () => {
  it("runs the DAG once and reports every task's final state and the output", { timeout: 300_000 }, async () => {
    const result = await dagsTest({ venv, folder, dagId: "two_tasks", logicalDate: "2026-01-15", env: { MARK: "from-the-test" } });
    expect(result.tasks).toEqual({ ok: "success", boom: "failed", never: "upstream_failed" });
    expect(result.exitCode).not.toBe(0);
    expect(result.log).toContain("marker=from-the-test");
  });
});
