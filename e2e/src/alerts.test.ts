/**
 * Checks stop bad data and alerts say so, from `xo-foundry run` and from `airflow dags test`
 * (Airflow 3.3 from the pinned venv, with its Slack and SMTP providers), for
 * examples/orders-quality.yaml with one check made to fail and one to warn.
 *
 * Real: the CLI, DuckDB, Airflow with SlackWebhookNotifier and SmtpNotifier, and an SMTP
 * server (the `smtp-server` package) on 127.0.0.1. Emulated: Slack's incoming webhooks
 * (plugins/slack/src/__fixtures__/slack_server.ts, after Slack's published webhook docs).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { startSlackReceiver, type SlackReceiver } from "../../plugins/slack/src/__fixtures__/slack_server.js";
import { startSmtpServer, type TestSmtpServer } from "../../plugins/email/src/__fixtures__/smtp_server.js";
import { cliShim, queryDuckDb, repo, run, sandbox, xo } from "./helpers.js";

const DATE = "2026-01-15";
const TOKEN = "T0001/B0001/secretwebhooktoken";

let scratch: string;
let project: Awaited<ReturnType<typeof sandbox>>;
let slack: SlackReceiver;
let smtp: TestSmtpServer;
let original: string;

/** The example with `total <= 300` as a failing check (order 1004 is 310.45) and `pending` not accepted, as a warning. */
function failing(text: string): string {
  return text
    .replace("  tags:", "  retries: 0\n  tags:")
    .replace("    - range: { column: total, min: 0 }", "    - range: { column: total, min: 0, max: 300 }")
    .replace(
      "    - accepted_values: { column: status, values: [pending, paid, shipped, cancelled] }",
      "    - accepted_values: { column: status, values: [paid, shipped, cancelled] }\n      severity: warn",
    );
}

/** Only the warning left. */
function warning(text: string): string {
  return failing(text).replace("min: 0, max: 300 }", "min: 0 }");
}

const file = () => path.join(project.dir, "orders-quality.yaml");
const database = () => path.join(project.dir, ".xo-foundry/quality.duckdb");

beforeAll(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), "xo-alerts-e2e-"));
  project = await sandbox({}, { copyExamples: true });
  original = await readFile(file(), "utf8");
  slack = await startSlackReceiver();
  smtp = await startSmtpServer();
});

afterAll(async () => {
  await slack?.close();
  await smtp?.close();
  await project?.remove();
  await rm(scratch, { recursive: true, force: true });
});

const connections = () => ({
  XO_CONN_SLACK_DATA_ALERTS: JSON.stringify(slack.webhookConnection(TOKEN)),
  XO_CONN_SMTP_ALERTS: JSON.stringify(smtp.connection()),
});

function reset(): void {
  slack.messages.length = 0;
  smtp.messages.length = 0;
}

describe("xo-foundry run", () => {
  it("stops the load on a failing check and says so in Slack and by email", async () => {
    await writeFile(file(), failing(original));
    reset();
    const r = await xo(["run", "orders-quality.yaml", "--date", DATE, "--json"], { cwd: project.dir, env: { ...process.env, ...connections() } });
    expect(r.code, r.stderr).toBe(1);
    const doc = JSON.parse(r.stdout) as { tasks: { task: string; state: string }[]; checks: { name: string; status: string; task: string }[] };
    expect(Object.fromEntries(doc.tasks.map((t) => [t.task, t.state]))).toEqual({
      extract_orders: "success",
      check_orders: "failed",
      load_orders: "upstream_failed",
      check_orders_table: "upstream_failed",
    });
    expect(doc.checks.filter((c) => c.status !== "pass").map((c) => [c.task, c.status]), JSON.stringify(doc.checks)).toEqual([
      ["check_orders", "warn"],
      ["check_orders", "fail"],
    ]);
    // Nothing reached the table.
    const tables = existsSync(database()) ? await queryDuckDb(database(), "select table_name from information_schema.tables where table_name = 'orders'") : [];
    expect(tables).toEqual([]);

    const titles = slack.messages.map((m) => m.text ?? "");
    expect(titles).toHaveLength(2);
    expect(titles.some((t) => t.includes(`orders_quality: checks warned in task check_orders (${DATE})`) && t.includes("status"))).toBe(true);
    expect(titles.some((t) => t.includes(`orders_quality: task check_orders failed (${DATE})`) && t.includes("XO_CHECK_FAILED"))).toBe(true);
    expect(smtp.messages.map((m) => m.subject).sort()).toEqual([`orders_quality: run failed (${DATE})`, `orders_quality: task check_orders failed (${DATE})`]);
    expect(smtp.messages.every((m) => m.envelope.to.includes("data-team@example.com"))).toBe(true);
    expect(`${r.stdout}${r.stderr}${titles.join("")}`).not.toContain("secretwebhooktoken");
  });

  it("loads through a warning, and sends the warning", async () => {
    await writeFile(file(), warning(original));
    reset();
    const r = await xo(["run", "orders-quality.yaml", "--date", DATE], { cwd: project.dir, env: { ...process.env, ...connections() } });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/checks: 8 passed, 1 warned, 0 failed/);
    expect(await queryDuckDb(database(), "select count(*)::int as n from main.orders")).toEqual([{ n: 7 }]);
    expect(slack.messages.map((m) => (m.text ?? "").split("\n")[0])).toEqual([`*orders_quality: checks warned in task check_orders (${DATE})*`]);
    expect(smtp.messages).toEqual([]);
  });
});

describe("airflow dags test", () => {
  it("sends the failure through Airflow's Slack and SMTP notifiers, and the warning from the task", async () => {
    await writeFile(file(), failing(original));
    await rm(path.join(project.dir, ".xo-foundry"), { recursive: true, force: true });
    const dags = path.join(scratch, "dags");
    const g = await xo(["generate-dags", file(), "-o", dags]);
    expect(g.code).toBe(0);
    const dag = await readFile(path.join(dags, "orders_quality.py"), "utf8");
    expect(dag).toContain("DeadlineAlert(");
    expect(dag).not.toContain("secretwebhooktoken");
    reset();
    const shim = await cliShim(scratch);
    const log = path.join(scratch, "dags-test.log");
    const r = await run(path.join(repo, "tools/airflow/dags-test.sh"), ["3", dags, "orders_quality", DATE, log], {
      env: {
        ...process.env,
        AIRFLOW__LOGGING__LOGGING_LEVEL: "INFO",
        PYTHONWARNINGS: "ignore",
        PATH: `${shim}:${process.env.PATH}`,
        XO_FOUNDRY_PROJECT_DIR: project.dir,
        // Only through Airflow's connection store, as on a worker.
        AIRFLOW_CONN_SLACK_DATA_ALERTS: JSON.stringify(slack.webhookConnection(TOKEN)),
        AIRFLOW_CONN_SMTP_ALERTS: JSON.stringify(smtp.connection()),
        XO_CONN_SLACK_DATA_ALERTS: "",
        XO_CONN_SMTP_ALERTS: "",
      },
    });
    const result = JSON.parse(r.stdout.trim()) as { exit_code: number; tasks: Record<string, string> };
    const text = await readFile(log, "utf8");
    expect(result.tasks, text.slice(-4000)).toMatchObject({ extract_orders: "success", check_orders: "failed", load_orders: "upstream_failed" });

    const messages = slack.messages.map((m) => m.text ?? "");
    // The warning comes from the task itself, with the Airflow log URL the DAG passed in.
    const warned = messages.find((t) => t.includes(`orders_quality: checks warned in task check_orders (${DATE})`));
    expect(warned, messages.join("\n---\n")).toBeDefined();
    expect(warned).toMatch(/\|log>/);
    // The failure comes from SlackWebhookNotifier on the task's on_failure_callback.
    const failed = messages.find((t) => t.includes(`orders_quality: task check_orders failed (${DATE})`));
    expect(failed, messages.join("\n---\n")).toBeDefined();
    expect(failed).toMatch(/\|log>/);
    const subjects = smtp.messages.map((m) => m.subject);
    expect(subjects).toContain(`orders_quality: task check_orders failed (${DATE})`);
    expect(`${text}${messages.join("")}`).not.toContain("secretwebhooktoken");
  }, 600_000);
});
