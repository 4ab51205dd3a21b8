/**
 * `xo-foundry test` on a copy of examples/, as a project's CI runs it: the pipelines
 * validate, the committed DAGs match, the DAGs import in real Airflow 3 (the pinned venv
 * that `npm test` creates), and the pipelines with fixtures run against the bundled sample
 * API (a loopback emulation of a shop API, started by the fixtures) into temporary DuckDB
 * files. The CLI, Airflow and DuckDB are real.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { repo, sandbox, xo } from "./helpers.js";

let project: Awaited<ReturnType<typeof sandbox>>;
let dags: string;

beforeAll(async () => {
  project = await sandbox({}, { copyExamples: true });
  dags = path.join(project.dir, "dags");
  const r = await xo(["generate-dags", project.dir, "-o", dags]);
  expect(r.code).toBe(0);
});

afterAll(() => project?.remove());

interface Report {
  ok: boolean;
  dags: { files: { file: string; change: string }[] };
  fixtures: { fixture: string; test: string; ok: boolean; tables: { table: string; expected: number; found: number | null }[]; failures: string[] }[];
}

describe("xo-foundry test", () => {
  it("passes on the examples: valid pipelines, DAGs up to date and importable in Airflow 3, fixtures as expected", async () => {
    const r = await xo(["test", project.dir, "--dags", dags, "--airflow-venv", path.join(repo, ".venv/airflow3")], { cwd: project.dir });
    expect(r.stderr).toBe("");
    expect(r.stdout).toContain("✔ sample-shop.yaml\n");
    expect(r.stdout).toContain("✔ dags/shop_daily.py\n");
    expect(r.stdout).toMatch(/Airflow 3\.\d+\.\d+: 14 DAG\(s\) imported, 0 import error\(s\)/);
    expect(r.stdout).toMatch(/✔ sample-shop\.test\.yaml mid_january {2}2026-01-15 {2}2 table\(s\)/);
    expect(r.stdout).toMatch(/✔ shop-daily\.test\.yaml thursday_then_monday {2}2026-01-15, 2026-01-19 {2}3 table\(s\), 1 task state\(s\) as expected/);
    expect(r.stdout).toMatch(/✔ 14 pipeline\(s\) valid, DAGs up to date, 14 DAG\(s\) imported by Airflow 3\.\d+\.\d+, 4 fixture test\(s\) passed/);
    expect(r.stdout).not.toContain("fixture-token-7f3a");
    expect(r.code).toBe(0);
    // Nothing of the user's was written: no landing folder, no warehouse in the project.
    await expect(readFile(path.join(project.dir, ".xo-foundry/warehouse.duckdb"))).rejects.toThrow(/ENOENT/);
  });

  it("fails naming a stale and a missing committed DAG", async () => {
    const file = path.join(dags, "sample_shop.py");
    const original = await readFile(file, "utf8");
    const removed = await readFile(path.join(dags, "github_issues.py"), "utf8");
    try {
      await writeFile(file, original.replace('schedule="@daily"', 'schedule="@hourly"'));
      await rm(path.join(dags, "github_issues.py"));
      const r = await xo(["test", project.dir, "--dags", dags], { cwd: project.dir });
      expect(r.code).toBe(1);
      expect(r.stdout).toContain("✖ dags/sample_shop.py stale: differs from what the pipeline generates");
      expect(r.stdout).toContain("✖ dags/github_issues.py missing: not committed");
      expect(r.stdout).toContain("2 of 14 DAG file(s) differ: run `xo-foundry generate-dags <project> -o dags` and commit the result");
      expect(r.stdout).toMatch(/✖ 2 DAG file problem\(s\)/);
    } finally {
      await writeFile(file, original);
      await writeFile(path.join(dags, "github_issues.py"), removed);
    }
  });

  it("fails with the table, the count found and the count expected when a fixture's expectation changes", async () => {
    const fixture = path.join(project.dir, "sample-shop.test.yaml");
    const original = await readFile(fixture, "utf8");
    try {
      await writeFile(fixture, original.replace("main.orders: 23", "main.orders: 24"));
      const r = await xo(["test", project.dir, "--dags", dags], { cwd: project.dir });
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/✖ sample-shop\.test\.yaml mid_january {2}2026-01-15 .*\n {4}main\.orders: 23 row\(s\), expected 24\n/);
      expect(r.stdout).toMatch(/✖ 1 failed fixture test\(s\)/);

      const json = await xo(["test", project.dir, "--dags", dags, "--json"], { cwd: project.dir });
      expect(json.code).toBe(1);
      const report = JSON.parse(json.stdout) as Report;
      expect(report.ok).toBe(false);
      const failed = report.fixtures.filter((f) => !f.ok);
      expect(failed).toEqual([
        expect.objectContaining({
          fixture: "sample-shop.test.yaml",
          test: "mid_january",
          failures: ["main.orders: 23 row(s), expected 24"],
          tables: [
            { table: "main.customers", expected: 250, found: 250 },
            { table: "main.orders", expected: 24, found: 23 },
          ],
        }),
      ]);
    } finally {
      await writeFile(fixture, original);
    }
  });
});
