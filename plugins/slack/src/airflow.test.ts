/**
 * The Airflow side: what `airflow()` returns is built into Airflow's own SlackWebhookNotifier
 * or SlackNotifier in the repository's Airflow 3 and Airflow 2 venvs, called like a task's
 * failure callback, and must deliver to the Slack emulator (src/__fixtures__/slack_server.ts)
 * the same text our sender posts for the same alert. The connections are the ones the
 * emulator documents, given to Airflow as `AIRFLOW_CONN_<ID>` JSON. Emulated: Slack.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { airflowMessage, resolveConnection, type AlertMessage } from "@xo-foundry/core";
import { AIRFLOW_VENVS, airflowNotify, airflowPython, type CallbackContext } from "./__fixtures__/airflow_notify.js";
import { startSlackReceiver, type SlackReceiver } from "./__fixtures__/slack_server.js";
import { webhookTarget } from "./connection.js";
import { slackText } from "./message.js";
import { slackNotifier } from "./notifier.js";

const CONTEXT: CallbackContext = {
  dagId: "orders_daily",
  taskId: "load_orders",
  logicalDate: "2026-01-15",
  runId: "scheduled__2026-01-15T00:00:00+00:00",
  tryNumber: 2,
  logUrl: "http://airflow.local/dags/orders_daily/runs/x/tasks/load_orders?try_number=2&map_index=-1",
  exception: `rows <3> & "more" | {{ not_a_template }} were refused`,
};

/** The alert our sender would post for the same failure. */
const SAME: AlertMessage = {
  event: "failure",
  pipeline: "orders_daily",
  dagId: "orders_daily",
  task: "load_orders",
  logicalDate: "2026-01-15",
  runId: CONTEXT.runId,
  title: "orders_daily: task load_orders failed (2026-01-15)",
  text: `try 2: ${CONTEXT.exception}`,
  logUrl: CONTEXT.logUrl!,
};

let receiver: SlackReceiver;
beforeAll(async () => {
  receiver = await startSlackReceiver();
});
afterAll(async () => {
  await receiver.close();
});

const message = airflowMessage("failure", "orders_daily", "orders_daily");

describe.each(AIRFLOW_VENVS)("Airflow $version", ({ venv }) => {
  it("SlackWebhookNotifier from airflow() posts the text our sender posts", async () => {
    receiver.messages.length = 0;
    const notifier = slackNotifier().airflow({ options: {}, connection: "slack_alerts", message });
    expect(notifier.name).toBe("SlackWebhookNotifier");
    const connection = receiver.webhookConnection();
    const r = await airflowNotify({ venv, notifier, connections: { slack_alerts: connection }, context: CONTEXT });
    expect(r.stderr + r.stdout).toContain("NOTIFIED");
    expect(r.code).toBe(0);
    expect(receiver.messages).toHaveLength(1);
    expect(receiver.messages[0]!.to).toBe(connection.password);
    expect(receiver.messages[0]!.text).toBe(slackText(SAME));
  });

  it("SlackNotifier from airflow() posts the same text to the channel", async () => {
    receiver.messages.length = 0;
    const notifier = slackNotifier().airflow({ options: { channel: "#data-alerts" }, connection: "slack_bot", message });
    expect(notifier.name).toBe("SlackNotifier");
    const r = await airflowNotify({ venv, notifier, connections: { slack_bot: receiver.botConnection() }, context: CONTEXT });
    expect(r.stderr + r.stdout).toContain("NOTIFIED");
    expect(r.code).toBe(0);
    expect(receiver.messages).toHaveLength(1);
    expect(receiver.messages[0]!.to).toBe("C0DATAALRT1");
    expect(receiver.messages[0]!.text).toBe(slackText(SAME));
  });

  it("posts no log link for an alert without one (a missed deadline)", async () => {
    receiver.messages.length = 0;
    const late = airflowMessage("deadline_missed", "orders_daily", "orders_daily");
    const notifier = slackNotifier().airflow({ options: {}, connection: "slack_alerts", message: late });
    const context = { ...CONTEXT, deadlineTime: "2026-01-16T02:00:00+00:00" };
    const r = await airflowNotify({ venv, notifier, connections: { slack_alerts: receiver.webhookConnection() }, context });
    expect(r.code, r.stderr).toBe(0);
    const alert: AlertMessage = {
      ...SAME,
      event: "deadline_missed",
      title: "orders_daily: run missed its deadline (2026-01-15 00:00:00+00:00)",
      text: `run ${CONTEXT.runId} had not finished by 2026-01-16 02:00:00+00:00`,
      logUrl: undefined,
    };
    expect(receiver.messages[0]!.text).toBe(slackText(alert));
    expect(receiver.messages[0]!.text).not.toContain("|log>");
  });

  it("reads every documented webhook connection form as SlackWebhookHook does, also after get_uri()", async () => {
    const forms: Record<string, Record<string, unknown>> = {
      host_and_token: receiver.webhookConnection("T0000TEST/B0000TEST/formone00000000000000"),
      full_url: { conn_type: "slackwebhook", password: receiver.webhookUrl("T0000TEST/B0000TEST/formtwo00000000000000") },
      default_host: { conn_type: "slackwebhook", password: "T0000TEST/B0000TEST/formthree000000000000" },
      slashes: { conn_type: "slackwebhook", host: `${receiver.url.replace("http://", "")}/services/`, schema: "http", password: "/T0000TEST/B0000TEST/formfour0000000000000/" },
      https_host: { conn_type: "slackwebhook", host: "hooks.example.com/services", password: " T0000TEST/B0000TEST/formfive0000000000000 " },
    };
    const code = String.raw`
import json, sys
from airflow.providers.slack.hooks.slack_webhook import SlackWebhookHook
try:
    from airflow.sdk import BaseHook
except ImportError:
    from airflow.hooks.base import BaseHook
out = {}
for conn_id in sys.argv[1:]:
    hook = SlackWebhookHook(slack_webhook_conn_id=conn_id)
    out[conn_id] = {"url": hook._get_conn_params()["url"], "uri": BaseHook.get_connection(conn_id).get_uri()}
print(json.dumps(out))
`;
    const r = await airflowPython(venv, code, forms, Object.keys(forms));
    expect(r.code, r.stderr).toBe(0);
    const airflow = JSON.parse(r.stdout.trim().split("\n").pop()!) as Record<string, { url: string; uri: string }>;
    for (const [id, json] of Object.entries(forms)) {
      const fromJson = webhookTarget(resolveConnection(id, { [`XO_CONN_${id.toUpperCase()}`]: JSON.stringify(json) }));
      expect(fromJson.url.href, id).toBe(new URL(airflow[id]!.url).href);
      // In a DAG the task gets the connection as Airflow's URI (`{{ conn.<id>.get_uri() }}`).
      const fromUri = webhookTarget(resolveConnection(id, { [`XO_CONN_${id.toUpperCase()}`]: airflow[id]!.uri }));
      expect(fromUri.url.href, `${id} via ${airflow[id]!.uri}`).toBe(fromJson.url.href);
    }
  });
});
