/**
 * The `webhook` notifier against an alert endpoint on loopback (src/__fixtures__/alert_receiver.ts,
 * plain HTTP by RFC 9110's rules; no vendor is emulated), through the plugin's own HTTP client;
 * and the Airflow side: what `airflow()` returns, built into Airflow's HttpNotifier in the
 * repository's Airflow 3 and Airflow 2 venvs and called like a task's failure callback, must
 * POST the same JSON to the same endpoint with the same connection (as `AIRFLOW_CONN_<ID>`).
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { airflowMessage, Registry, resolveConnection, type AirflowNotifier, type AlertMessage, type Connection, type Logger } from "@xo-foundry/core";
import { airflowNotify as notifyInAirflow, airflowPython, freePort, rejectionOf } from "@xo-foundry/testkit";
import { startAlertReceiver, type AlertReceiver } from "./__fixtures__/alert_receiver.js";
import { api } from "./index.js";
import { DEFAULT_WEBHOOK_POLICY, webhookBody, WebhookError, webhookNotifier, type WebhookOptions, type WebhookPolicy } from "./notify.js";

const FAST: WebhookPolicy = { ...DEFAULT_WEBHOOK_POLICY, backoffMs: 20, timeoutMs: 2000 };
const PASSWORD = "hook-Passw0rd-secret";
const TOKEN = "bearer-token-0123456789abcdef";

const MESSAGE: AlertMessage = {
  event: "failure",
  pipeline: "orders_daily",
  dagId: "orders_daily",
  task: "load_orders",
  logicalDate: "2026-01-15",
  runId: "scheduled__2026-01-15T00:00:00+00:00",
  title: "orders_daily: task load_orders failed (2026-01-15)",
  text: 'try 1: rows <3> & "more" were refused',
  logUrl: "http://airflow.local/dags/orders_daily/runs/x/tasks/load_orders?try_number=1&map_index=-1",
};

let basic: AlertReceiver;
let bearer: AlertReceiver;
beforeAll(async () => {
  basic = await startAlertReceiver({ basic: { user: "xo", pass: PASSWORD } });
  bearer = await startAlertReceiver({ path: "/v1/alerts", bearer: TOKEN });
});
afterAll(async () => {
  await basic.close();
  await bearer.close();
});

interface Lines extends Logger {
  readonly lines: string[];
}

function logger(): Lines {
  const lines: string[] = [];
  const log: Lines = {
    lines,
    info: (m, f) => void lines.push(`info ${m} ${JSON.stringify(f ?? {})}`),
    warn: (m, f) => void lines.push(`warn ${m} ${JSON.stringify(f ?? {})}`),
    debug: (m, f) => void lines.push(`debug ${m} ${JSON.stringify(f ?? {})}`),
    child: () => log,
  };
  return log;
}

/** The connection as the runtime gets it: Airflow's JSON form in XO_CONN_<ID>, read by core. */
function connection(json: Record<string, unknown>, id = "ops_hook"): Connection {
  return resolveConnection(id, { [`XO_CONN_${id.toUpperCase()}`]: JSON.stringify(json) });
}

async function send(conn: Connection, options: WebhookOptions = { path: "/hooks/xo" }, policy = FAST, log = logger()) {
  await webhookNotifier(policy).send({ options, connection: conn, message: MESSAGE, log, signal: AbortSignal.timeout(20_000) });
  return log;
}

describe("sending", () => {
  it("POSTs the alert's fields as JSON to the base URL and path, with Basic auth from the connection", async () => {
    basic.alerts.length = 0;
    await send(connection(basic.connection()));
    expect(basic.alerts).toHaveLength(1);
    const [a] = basic.alerts;
    expect(a!.path).toBe("/hooks/xo");
    expect(a!.headers["content-type"]).toMatch(/^application\/json/);
    expect(a!.body).toEqual({
      event: "failure",
      pipeline: "orders_daily",
      dag_id: "orders_daily",
      task: "load_orders",
      logical_date: "2026-01-15",
      run_id: "scheduled__2026-01-15T00:00:00+00:00",
      title: "orders_daily: task load_orders failed (2026-01-15)",
      text: 'try 1: rows <3> & "more" were refused',
      log_url: MESSAGE.logUrl,
    });
  });

  it("sends the other keys of extra as headers (a bearer token), and joins a base path and `path`", async () => {
    bearer.alerts.length = 0;
    const json = { ...bearer.connection(), schema: undefined, host: `${bearer.url}/v1` };
    await send(connection(json), { path: "alerts" });
    expect(bearer.alerts).toHaveLength(1);
    expect(bearer.alerts[0]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it("waits out a 429's Retry-After, then delivers", async () => {
    basic.alerts.length = 0;
    basic.script({ status: 429, headers: { "retry-after": "1" }, body: "slow down" });
    const before = basic.requests.length;
    const started = Date.now();
    const log = await send(connection(basic.connection()));
    expect(basic.requests.length - before).toBe(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(basic.alerts).toHaveLength(1);
    expect(log.lines.join("\n")).toMatch(/429.*retry 1 of 2 in 1000 ms/);
  });

  it("retries 5xx and delivers on the third attempt", async () => {
    basic.alerts.length = 0;
    basic.script({ status: 500 }, { status: 503 });
    await send(connection(basic.connection()));
    expect(basic.alerts).toHaveLength(1);
  });

  it("gives up after three failed attempts with WEBHOOK_UNAVAILABLE", async () => {
    basic.script({ status: 502, body: "bad gateway" }, { status: 502, body: "bad gateway" }, { status: 502, body: "bad gateway" });
    const before = basic.requests.length;
    const e = (await rejectionOf(() => send(connection(basic.connection())))) as WebhookError;
    expect(basic.requests.length - before).toBe(3);
    expect([e.code, e.status]).toEqual(["WEBHOOK_UNAVAILABLE", 502]);
    expect(e.message).toContain('connection "ops_hook" (XO_CONN_OPS_HOOK)');
    expect(e.message).toContain("after 3 attempts");
  });

  it("does not wait for a Retry-After longer than an alert may", async () => {
    basic.script({ status: 429, headers: { "retry-after": "3600" } });
    const before = basic.requests.length;
    const e = (await rejectionOf(() => send(connection(basic.connection())))) as WebhookError;
    expect(basic.requests.length - before).toBe(1);
    expect(e.code).toBe("WEBHOOK_UNAVAILABLE");
    expect(e.message).toContain("asked to wait 3600 s");
  });

  it("fails at once on wrong credentials, naming status, connection and fix, never the password", async () => {
    const log = logger();
    const wrong = "wrong-hook-Passw0rd";
    const before = basic.requests.length;
    const e = (await rejectionOf(() => send(connection({ ...basic.connection(), password: wrong }, "ops_bad"), { path: "/hooks/xo" }, FAST, log))) as WebhookError;
    expect(basic.requests.length - before).toBe(1);
    expect([e.code, e.status]).toEqual(["WEBHOOK_REFUSED", 401]);
    expect(e.message).toContain('connection "ops_bad" (XO_CONN_OPS_BAD)');
    expect(e.message).toContain("HTTP 401 Unauthorized");
    expect(e.hint).toContain("login and password");
    for (const text of [e.message, e.hint, ...log.lines]) {
      expect(text).not.toContain(wrong);
      expect(text).not.toContain(Buffer.from(`xo:${wrong}`).toString("base64"));
    }
  });

  it("never prints a bearer token from extra", async () => {
    const log = logger();
    const wrong = "Bearer wrong-bearer-token-abcdef";
    const e = (await rejectionOf(() => send(connection({ ...bearer.connection(), extra: { Authorization: wrong } }), { path: "/v1/alerts" }, FAST, log))) as WebhookError;
    expect(e.code).toBe("WEBHOOK_REFUSED");
    for (const text of [e.message, e.hint, ...log.lines]) expect(text).not.toContain("wrong-bearer-token");
  });

  it("reports a wrong path with a fix", async () => {
    const e = (await rejectionOf(() => send(connection(basic.connection()), { path: "/hooks/typo" }))) as WebhookError;
    expect([e.code, e.status]).toEqual(["WEBHOOK_REFUSED", 404]);
    expect(e.hint).toContain("check `path`");
  });

  it("retries an endpoint that does not answer, then gives up", async () => {
    const json = { ...basic.connection(), port: await freePort() };
    const log = logger();
    const e = (await rejectionOf(() => send(connection(json), { path: "/hooks/xo" }, FAST, log))) as WebhookError;
    expect(e.code).toBe("WEBHOOK_UNAVAILABLE");
    expect(e.message).toContain("ECONNREFUSED");
    expect(e.message).not.toContain("timeout_ms");
    expect(log.lines.filter((l) => l.startsWith("warn"))).toHaveLength(2);
  });

  it("refuses a connection without a host, and a header value that is not text", async () => {
    const noHost = (await rejectionOf(() => send(connection({ conn_type: "http", password: "x" })))) as WebhookError;
    expect(noHost.code).toBe("WEBHOOK_CONNECTION_INVALID");
    const header = (await rejectionOf(() => send(connection({ ...basic.connection(), extra: { "X-Retries": 3 } })))) as WebhookError;
    expect(header.code).toBe("WEBHOOK_CONNECTION_INVALID");
    expect(header.message).toContain("extra.X-Retries");
  });

  it("leaves absent fields null", () => {
    const { task: _t, logUrl: _l, ...run } = MESSAGE;
    expect(webhookBody({ ...run, event: "pipeline_failure" })).toMatchObject({ task: null, log_url: null });
  });
});

describe("the plugin", () => {
  it("offers the `webhook` notifier with a required connection and its error codes", () => {
    const plugin = api();
    expect(plugin.notifiers?.map((n) => [n.id, n.connection])).toEqual([["webhook", "required"]]);
    expect(Object.keys(plugin.errors ?? {})).toEqual(expect.arrayContaining(["WEBHOOK_CONNECTION_INVALID", "WEBHOOK_REFUSED", "WEBHOOK_UNAVAILABLE"]));
    expect(new Registry([plugin]).notifier("webhook")).toBe(plugin.notifiers![0]);
  });

  it("takes a path, not a URL", () => {
    const options = api().notifiers![0]!.options;
    expect(options.safeParse({ path: "https://elsewhere.example.com/x" }).success).toBe(false);
    expect(options.parse({})).toEqual({ path: "" });
  });

  it("renders HttpNotifier's kwargs", () => {
    const message = airflowMessage("pipeline_failure", "orders_daily", "orders_daily");
    const n = webhookNotifier().airflow({ options: { path: "/hooks/xo" }, connection: "ops_hook", message });
    expect(n).toEqual({
      module: "airflow.providers.http.notifications.http",
      name: "HttpNotifier",
      kwargs: { http_conn_id: "ops_hook", endpoint: "/hooks/xo", method: "POST", json: { dict: message.fields }, headers: { dict: { "Content-Type": "application/json" } } },
    });
  });
});

// ---------------------------------------------------------------- Airflow

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const VENVS = [
  { version: 3, venv: path.join(REPO, ".venv/airflow3") },
  { version: 2, venv: path.join(REPO, ".venv/airflow2") },
];

/** The testkit's harness, called like a task's failure callback for this file's message. */
const airflowNotify = async (venv: string, notifier: AirflowNotifier, connections: Record<string, Record<string, unknown>>) => {
  const context = { dagId: "orders_daily", taskId: "load_orders", logicalDate: "2026-01-15", runId: MESSAGE.runId, logUrl: MESSAGE.logUrl!, exception: 'rows <3> & "more" were refused' };
  const r = await notifyInAirflow({ venv, notifier, connections, context });
  return { code: r.code, output: r.stdout + r.stderr };
};

/** The connection as Airflow hands it to a task: `{{ conn.<id>.get_uri() }}`. */
async function airflowUri(venv: string, json: Record<string, unknown>): Promise<string> {
  const code = String.raw`
try:
    from airflow.sdk import BaseHook
except ImportError:
    from airflow.hooks.base import BaseHook
print(BaseHook.get_connection("uri_check").get_uri())
`;
  const r = await airflowPython(venv, code, { uri_check: json });
  if (r.code !== 0) throw new Error(r.stderr);
  return r.stdout.trim().split("\n").pop()!;
}

describe.each(VENVS)("Airflow $version", ({ venv }) => {
  const message = airflowMessage("failure", "orders_daily", "orders_daily");

  it("delivers with the connection as a task gets it from Airflow (get_uri)", async () => {
    basic.alerts.length = 0;
    bearer.alerts.length = 0;
    const fromUri = async (json: Record<string, unknown>) => resolveConnection("ops_hook", { XO_CONN_OPS_HOOK: await airflowUri(venv, json) });
    await send(await fromUri(basic.connection()));
    await send(await fromUri(bearer.connection()), { path: "/v1/alerts" });
    expect(basic.alerts).toHaveLength(1);
    expect(bearer.alerts).toHaveLength(1);
  });

  it("HttpNotifier from airflow() POSTs the JSON our sender POSTs, with Basic auth", async () => {
    basic.alerts.length = 0;
    const notifier = webhookNotifier().airflow({ options: { path: "/hooks/xo" }, connection: "ops_hook", message });
    const r = await airflowNotify(venv, notifier, { ops_hook: basic.connection() });
    expect(r.output).toContain("NOTIFIED");
    expect(r.code).toBe(0);
    expect(basic.alerts).toHaveLength(1);
    expect(basic.alerts[0]!.headers["content-type"]).toMatch(/^application\/json/);
    expect(basic.alerts[0]!.body).toEqual(webhookBody(MESSAGE));
  });

  it("sends the bearer token of extra as HttpHook does", async () => {
    bearer.alerts.length = 0;
    const notifier = webhookNotifier().airflow({ options: { path: "v1/alerts" }, connection: "ops_bearer", message });
    const r = await airflowNotify(venv, notifier, { ops_bearer: bearer.connection() });
    expect(r.code, r.output).toBe(0);
    expect(bearer.alerts).toHaveLength(1);
    expect(bearer.alerts[0]!.body).toEqual(webhookBody(MESSAGE));
  });
});
