/**
 * The Airflow side: what `airflow()` returns is built into Airflow's own SmtpNotifier in the
 * repository's Airflow 3 and Airflow 2 venvs, called like a task's failure callback, and must
 * deliver to the same SMTP server (smtp-server on loopback, src/__fixtures__/smtp_server.ts)
 * the subject and HTML our sender sends for the same alert, with the connection given as
 * `AIRFLOW_CONN_<ID>` JSON. Nothing is emulated: Airflow's SmtpHook speaks SMTP to a real server.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { airflowMessage, resolveConnection, type AlertMessage } from "@xo-foundry/core";
import { AIRFLOW_VENVS, airflowNotify, airflowPython, type CallbackContext } from "./__fixtures__/airflow_notify.js";
import { startSmtpServer, type TestSmtpServer } from "./__fixtures__/smtp_server.js";
import { emailContent } from "./message.js";
import { emailNotifier } from "./notifier.js";
import { smtpTarget } from "./smtp.js";

const CONTEXT: CallbackContext = {
  dagId: "orders_daily",
  taskId: "load_orders",
  logicalDate: "2026-01-15",
  runId: "scheduled__2026-01-15T00:00:00+00:00",
  tryNumber: 1,
  logUrl: "http://airflow.local/dags/orders_daily/runs/x/tasks/load_orders?try_number=1&map_index=-1",
  exception: `rows <3> & "more" 'quoted' {{ not_a_template }} were refused\nsecond line`,
};

const SAME: AlertMessage = {
  event: "failure",
  pipeline: "orders_daily",
  dagId: "orders_daily",
  task: "load_orders",
  logicalDate: "2026-01-15",
  runId: CONTEXT.runId,
  title: "orders_daily: task load_orders failed (2026-01-15)",
  text: `try 1: ${CONTEXT.exception}`,
  logUrl: CONTEXT.logUrl!,
};

let smtp: TestSmtpServer;
beforeAll(async () => {
  smtp = await startSmtpServer({ auth: { user: "alerts", pass: "airflow-smtp-Passw0rd" } });
});
afterAll(async () => {
  await smtp.close();
});

const message = airflowMessage("failure", "orders_daily", "orders_daily");

describe.each(AIRFLOW_VENVS)("Airflow $version", ({ venv }) => {
  it("SmtpNotifier from airflow() sends the subject and HTML our sender sends", async () => {
    smtp.messages.length = 0;
    const notifier = emailNotifier().airflow({ options: { to: ["data-team@example.com", "lead@example.com"], cc: ["oncall@example.com"], from: "alerts@example.com" }, connection: "smtp_alerts", message });
    const r = await airflowNotify({ venv, notifier, connections: { smtp_alerts: smtp.connection() }, context: CONTEXT });
    expect(r.stderr + r.stdout).toContain("NOTIFIED");
    expect(r.code).toBe(0);
    expect(smtp.messages).toHaveLength(1);
    const [m] = smtp.messages;
    expect(m!.user).toBe("alerts");
    expect(m!.envelope).toEqual({ from: "alerts@example.com", to: ["data-team@example.com", "lead@example.com", "oncall@example.com"] });
    expect(m!.subject).toBe(SAME.title);
    expect(m!.html).toBe(emailContent(SAME).html);
  });

  it("takes the sender from the connection's from_email, as our sender does", async () => {
    smtp.messages.length = 0;
    const notifier = emailNotifier().airflow({ options: { to: ["data-team@example.com"] }, connection: "smtp_alerts", message });
    const r = await airflowNotify({ venv, notifier, connections: { smtp_alerts: smtp.connection({ from_email: "airflow@example.com" }) }, context: CONTEXT });
    expect(r.code, r.stderr).toBe(0);
    expect(smtp.messages[0]!.envelope.from).toBe("airflow@example.com");
  });

  it("reads the connection the same after Airflow's get_uri(), as a task gets it", async () => {
    const json = smtp.connection({ from_email: "airflow@example.com", ssl_context: "none" });
    const code = String.raw`
import sys
try:
    from airflow.sdk import BaseHook
except ImportError:
    from airflow.hooks.base import BaseHook
print(BaseHook.get_connection(sys.argv[1]).get_uri())
`;
    const r = await airflowPython(venv, code, { smtp_alerts: json }, ["smtp_alerts"]);
    expect(r.code, r.stderr).toBe(0);
    const uri = r.stdout.trim().split("\n").pop()!;
    const fromUri = smtpTarget(resolveConnection("smtp_alerts", { XO_CONN_SMTP_ALERTS: uri }));
    const fromJson = smtpTarget(resolveConnection("smtp_alerts", { XO_CONN_SMTP_ALERTS: JSON.stringify(json) }));
    expect(fromUri).toEqual(fromJson);
    expect(fromJson).toMatchObject({ host: "127.0.0.1", secure: false, startTls: false, verifyCertificate: false, fromEmail: "airflow@example.com", timeoutSeconds: 10 });
  });
});
