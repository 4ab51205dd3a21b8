import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { chmod } from "node:fs/promises";
import { testdir, type TestDir } from "@xo-foundry/testkit";
import { captureOutput } from "../__fixtures__/output.js";
import { pipelineYaml, testPlugins } from "../__fixtures__/plugins.js";
import { generateCommand } from "./generate.js";
import { fillPlaceholders, readFixture, startService, type ServiceSpec } from "./test-fixtures.js";
import { testCommand } from "./test.js";

// Projects get the test plugins instead of discovering installed packages (see generate.test.ts).
const injected = vi.hoisted(() => ({ plugins: [] as unknown[] }));
vi.mock("@xo-foundry/core", async (importOriginal) => {
  const core = await importOriginal<typeof import("@xo-foundry/core")>();
  return { ...core, openProject: (start: string) => core.openProject(start, { discover: false, plugins: injected.plugins }) };
});
beforeAll(() => {
  injected.plugins = testPlugins;
});

let dir: TestDir;
const output = captureOutput();
afterEach(() => dir?.remove());

describe("fixture files", () => {
  it("reports every problem at its line and key", async () => {
    dir = await testdir({
      "orders.yaml": pipelineYaml("orders"),
      "orders.test.yaml": [
        "tests:",
        "  - name: first",
        "    dates: [2026-02-30]",
        "    expect:",
        "      tables: { main.orders: -1 }",
        "      tasks: { extract_s: done }",
        "  - name: first",
        "    date: 2026-01-15",
        "    expect: { tables: { orders: 1 } }",
        "    bogus: 1",
        "",
      ].join("\n"),
    });
    const { fixture, diagnostics } = await readFixture(dir.path("orders.test.yaml"), "orders.test.yaml", [dir.path("orders.yaml")]);
    expect(fixture).toBeUndefined();
    const lines = diagnostics.map((d) => `${d.line}:${d.column} ${d.code} ${d.path} ${d.message}`);
    expect(lines).toEqual([
      '3:13 XO_DATE_INVALID tests[0].dates[0] invalid date "2026-02-30"',
      "5:30 XO_CONFIG_INVALID_TYPE tests[0].expect.tables.main.orders expected a row count (an integer, 0 or more), found number -1",
      '6:27 XO_CONFIG_INVALID_VALUE tests[0].expect.tasks.extract_s "done" is not a task state',
      '10:5 XO_CONFIG_UNKNOWN_KEY tests[1].bogus unknown key "bogus"',
      '7:11 XO_CONFIG_DUPLICATE_NAME tests[1].name test name "first" is already used at orders.test.yaml:tests[0].name',
    ]);
  });

  it("names the pipeline file a fixture needs", async () => {
    dir = await testdir({ "orders.test.yaml": "tests:\n  - name: a\n    date: 2026-01-15\n    expect: { tables: { t: 1 } }\n" });
    const { diagnostics } = await readFixture(dir.path("orders.test.yaml"), "orders.test.yaml", []);
    expect(diagnostics.map((d) => d.message)).toEqual(["orders.test.yaml tests no pipeline: there is no orders.yaml next to it"]);
  });

  it("fills ${service.group} from running services and names unknown ones", () => {
    const services = new Map([["api", { name: "api", values: { url: "http://127.0.0.1:1/v1" }, stop: async () => {} }]]);
    expect(fillPlaceholders('{"host": "${api.url}"}', services)).toEqual({ value: '{"host": "http://127.0.0.1:1/v1"}', unknown: [] });
    expect(fillPlaceholders("${api.port} ${db.url}", services).unknown).toEqual(["${api.port}", "${db.url}"]);
  });
});

describe("fixture services", () => {
  const spec = (script: string, timeoutMs = 10_000): ServiceSpec => ({
    name: "svc",
    command: ["node", "-e", script],
    env: { GREETING: "listening" },
    ready: /(?<word>\w+) on port (?<port>\d+)/,
    timeoutMs,
    where: {},
  });

  it("waits for the ready line, hands over its named groups, and stops the process", async () => {
    const service = await startService(spec("console.log('starting'); setTimeout(() => console.log(process.env.GREETING + ' on port 4321'), 50); setInterval(() => {}, 1000)"), process.cwd());
    expect(service.values).toEqual({ word: "listening", port: "4321" });
    await service.stop();
  });

  it("says why a service that exits or never gets ready did not start", async () => {
    await expect(startService(spec("console.error('boom: no data folder'); process.exit(3)"), process.cwd())).rejects.toThrow(
      /service svc exited \(code 3\) before it was ready; its first output:\n {4}boom: no data folder/,
    );
    await expect(startService(spec("console.log('still warming up'); setInterval(() => {}, 1000)", 300), process.cwd())).rejects.toThrow(
      /printed no line matching .* within 0\.3 s; its last output:\n {4}still warming up/,
    );
  });
});

describe("xo-foundry test", () => {
  const project = () =>
    testdir({
      "shop/package.json": '{"name": "shop"}',
      "shop/orders.yaml": pipelineYaml("orders"),
      "shop/refunds.yaml": pipelineYaml("refunds"),
    });

  it("passes when the pipelines are valid and the committed DAGs are up to date; fixture files are not pipelines", async () => {
    dir = await project();
    expect(await generateCommand([dir.path("shop")], { out: dir.path("dags"), removeOrphans: true })).toBe(0);
    output.clear("out");
    expect(await testCommand(dir.path("shop"), { dags: dir.path("dags") })).toBe(0);
    expect(output.out()).toMatch(/✔ \S*dags\/orders\.py\n/);
    expect(output.out()).toContain("no fixtures");
    expect(output.out()).toMatch(/✔ 2 pipeline\(s\) valid, DAGs up to date, 0 fixture test\(s\) passed/);
  });

  it("fails naming each missing, stale and orphaned DAG file", async () => {
    dir = await project();
    expect(await generateCommand([dir.path("shop")], { out: dir.path("dags"), removeOrphans: true })).toBe(0);
    await dir.write("shop/customers.yaml", pipelineYaml("customers"));
    await dir.write("dags/orders.py", "# DO NOT EDIT: generated by xo-foundry from orders.yaml\n# project: shop\nDAG = 1\n");
    await dir.write("shop/refunds.yaml", pipelineYaml("returns"));
    output.clear("out");
    expect(await testCommand(dir.path("shop"), { dags: dir.path("dags"), json: true })).toBe(1);
    const report = JSON.parse(output.out()) as { ok: boolean; dags: { files: { file: string; change: string }[] } };
    expect(report.ok).toBe(false);
    expect(report.dags.files.map((f) => `${f.file.split("/").pop()} ${f.change}`)).toEqual([
      "customers.py missing",
      "orders.py stale",
      "refunds.py orphaned",
      "returns.py missing",
    ]);
  });

  it("reports each DAG file the venv's Airflow cannot import, and each it finds no DAG in", async () => {
    dir = await project();
    // A stand-in for a venv's python: answers as the DagBag script does (the real Airflow runs in e2e).
    const answer = { version: "3.9.9", dags: {}, import_errors: { "orders.py": "Traceback (most recent call last):\nModuleNotFoundError: No module named 'airflow.sdk'" } };
    await dir.write("venv/bin/python", `#!/bin/sh\ncat <<'JSON'\n${JSON.stringify(answer)}\nJSON\n`);
    await chmod(dir.path("venv/bin/python"), 0o755);
    expect(await testCommand(dir.path("shop"), { airflowVenv: dir.path("venv") })).toBe(1);
    expect(output.out()).toContain("✖ orders.py: import error\n    Traceback (most recent call last):\n    ModuleNotFoundError: No module named 'airflow.sdk'");
    expect(output.out()).toContain('✖ refunds.py: Airflow found no DAG "refunds" in it');
    expect(output.out()).toContain("Airflow 3.9.9: 0 DAG(s) imported, 1 import error(s)");
    expect(output.out()).toMatch(/✖ 2 Airflow problem\(s\)/);
  });

  it("refuses to run a fixture whose sink cannot be pointed at a temporary database", async () => {
    dir = await project();
    await dir.write("shop/orders.test.yaml", "tests:\n  - name: jan\n    date: 2026-01-15\n    expect: { tables: { t: 1 } }\n");
    expect(await testCommand(dir.path("shop"), {})).toBe(1);
    expect(output.out()).toMatch(/✖ \S*orders\.test\.yaml jan {2}2026-01-15/);
    expect(output.out()).toContain("sink main (plugin duckdb) has no `database` option to point at a temporary file");
    expect(output.out()).toMatch(/✖ 1 failed fixture test\(s\)/);
  });

  it("names an invalid fixture and does not run it", async () => {
    dir = await project();
    await dir.write("shop/orders.test.yaml", "tests:\n  - name: jan\n    date: 2026-01-15\n    expect: { tables: { other/t: 1 } }\n");
    expect(await testCommand(dir.path("shop"), {})).toBe(1);
    expect(output.err()).toMatch(/orders\.test\.yaml:4:34 error XO_CONFIG_INVALID_VALUE\n {2}tests\[0\]\.expect\.tables\.other\/t: "other\/t": the pipeline has no sink "other"\n {2}hint: expected `<table>` or `<sink>\/<table>`; the pipeline's sinks: `main`/);
  });
});
