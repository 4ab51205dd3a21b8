/**
 * The `slack` notifier against the Slack emulator on loopback (src/__fixtures__/slack_server.ts,
 * which names the Slack documents it follows): the real @slack/webhook and @slack/web-api
 * clients, real HTTP. Emulated: Slack itself (tokens, channels and answers are the emulator's).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_DELIVERY_POLICY, Registry, resolveConnection, type AlertMessage, type Connection, type DeliveryPolicy, type Logger } from "@xo-foundry/core";
import { freePort, rejectionOf } from "@xo-foundry/testkit";
import { startSlackReceiver, type SlackReceiver } from "./__fixtures__/slack_server.js";
import { SlackError } from "./errors.js";
import { slack } from "./index.js";
import { slackText } from "./message.js";
import { slackNotifier, type SlackOptions } from "./notifier.js";

const FAST: DeliveryPolicy = { ...DEFAULT_DELIVERY_POLICY, backoffMs: 20, maxBackoffMs: 50, timeoutMs: 2000 };

const MESSAGE: AlertMessage = {
  event: "failure",
  pipeline: "orders_daily",
  dagId: "orders_daily",
  task: "load_orders",
  logicalDate: "2026-01-15",
  runId: "scheduled__2026-01-15T00:00:00+00:00",
  title: "orders_daily: task load_orders failed (2026-01-15)",
  text: "XO_STEP_FAILED: rows <3> & more were refused\nhint: check the source",
  logUrl: "http://airflow.local/dags/orders_daily/grid?task_id=load_orders&tab=logs",
};

let receiver: SlackReceiver;
beforeAll(async () => {
  receiver = await startSlackReceiver();
});
afterAll(async () => {
  await receiver.close();
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
function connection(id: string, json: Record<string, unknown>): Connection {
  return resolveConnection(id, { [`XO_CONN_${id.toUpperCase()}`]: JSON.stringify(json) });
}

async function send(conn: Connection, options: SlackOptions = {}, policy = FAST, log = logger()) {
  await slackNotifier(policy).send({ options, connection: conn, message: MESSAGE, log, signal: AbortSignal.timeout(20_000) });
  return log;
}

function fresh(): void {
  receiver.messages.length = 0;
}

describe("incoming webhook", () => {
  it("posts the title in bold, the text and a link to the log, escaped for Slack", async () => {
    fresh();
    const json = receiver.webhookConnection();
    await send(connection("slack_alerts", json));
    expect(receiver.messages).toHaveLength(1);
    const [m] = receiver.messages;
    expect(m!.via).toBe("webhook");
    expect(m!.to).toBe(json.password);
    expect(m!.text).toBe(
      "*orders_daily: task load_orders failed (2026-01-15)*\n" +
        "XO_STEP_FAILED: rows &lt;3&gt; &amp; more were refused\nhint: check the source\n" +
        "<http://airflow.local/dags/orders_daily/grid?task_id=load_orders&amp;tab=logs|log>",
    );
    expect(m!.text).toBe(slackText(MESSAGE));
  });

  it("takes the whole webhook URL in the password", async () => {
    fresh();
    await send(connection("slack_url", { conn_type: "slackwebhook", password: receiver.webhookUrl() }));
    expect(receiver.messages).toHaveLength(1);
  });

  it("waits out a 429's Retry-After, then delivers", async () => {
    fresh();
    const conn = connection("slack_alerts", receiver.webhookConnection());
    receiver.script({ rateLimited: 1 });
    const before = receiver.requests.length;
    const started = Date.now();
    const log = await send(conn);
    expect(receiver.requests.length - before).toBe(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(receiver.messages).toHaveLength(1);
    expect(log.lines.join("\n")).toMatch(/HTTP 429 \(rate limited\); attempt 2 of 3 in 1000 ms/);
  });

  it("retries 5xx with backoff and delivers on the third attempt", async () => {
    fresh();
    const conn = connection("slack_alerts", receiver.webhookConnection());
    receiver.script({ serverError: 500 }, { serverError: 503 });
    const before = receiver.requests.length;
    await send(conn);
    expect(receiver.requests.length - before).toBe(3);
    expect(receiver.messages).toHaveLength(1);
  });

  it("gives up after three failed attempts with SLACK_UNAVAILABLE", async () => {
    fresh();
    const conn = connection("slack_alerts", receiver.webhookConnection());
    receiver.script({ serverError: 503 }, { serverError: 503 }, { serverError: 503 });
    const before = receiver.requests.length;
    const e = await rejectionOf(() => send(conn));
    expect(receiver.requests.length - before).toBe(3);
    expect(e).toBeInstanceOf(SlackError);
    expect((e as SlackError).code).toBe("SLACK_UNAVAILABLE");
    expect(e.message).toContain('connection "slack_alerts" (XO_CONN_SLACK_ALERTS)');
    expect(e.message).toContain("3 attempts failed, the last with HTTP 503");
  });

  it("does not wait for a Retry-After longer than an alert may", async () => {
    const conn = connection("slack_alerts", receiver.webhookConnection());
    receiver.script({ rateLimited: 3600 });
    const before = receiver.requests.length;
    const e = await rejectionOf(() => send(conn));
    expect(receiver.requests.length - before).toBe(1);
    expect((e as SlackError).code).toBe("SLACK_UNAVAILABLE");
    expect(e.message).toContain("Slack asked to wait 3600 s");
  });

  it("fails at once on a refusal, naming Slack's code, the connection and the fix, never the token", async () => {
    fresh();
    // A webhook Slack does not know: 404 no_service.
    const json = { conn_type: "slackwebhook", host: receiver.webhookConnection().host, schema: "http", password: "T0000TEST/B0000TEST/notissued0000000000000" };
    const log = logger();
    const before = receiver.requests.length;
    const e = await rejectionOf(() => send(connection("slack_gone", json), {}, FAST, log));
    expect(receiver.requests.length - before).toBe(1);
    expect(e).toBeInstanceOf(SlackError);
    const err = e as SlackError;
    expect(err.code).toBe("SLACK_REFUSED");
    expect(err.slackError).toBe("no_service");
    expect(err.status).toBe(404);
    expect(err.message).toContain('connection "slack_gone" (XO_CONN_SLACK_GONE)');
    expect(err.message).toContain("HTTP 404, no_service");
    expect(err.hint).toContain("create an incoming webhook");
    for (const text of [err.message, err.hint, ...log.lines]) {
      expect(text).not.toContain("notissued0000000000000");
      expect(text).not.toContain("B0000TEST/");
    }
  });

  it.each([
    ["channel_is_archived", 410, "unarchive"],
    ["invalid_token", 403, "create an incoming webhook"],
    ["invalid_payload", 400, "bug in xo-foundry"],
  ])("reports %s (HTTP %i) with its fix", async (code, status, fix) => {
    const json = receiver.webhookConnection();
    receiver.script({ error: code });
    const e = (await rejectionOf(() => send(connection("slack_alerts", json)))) as SlackError;
    expect([e.code, e.slackError, e.status]).toEqual(["SLACK_REFUSED", code, status]);
    expect(e.hint).toContain(fix);
    expect(e.message).not.toContain(String(json.password));
  });

  it("retries a host that does not answer, and names no secret when it gives up", async () => {
    const token = "T0000TEST/B0000TEST/closedport000000000000";
    const conn = connection("slack_down", { conn_type: "slackwebhook", host: `127.0.0.1:${await freePort()}/services`, schema: "http", password: token });
    const log = logger();
    const e = (await rejectionOf(() => send(conn, {}, FAST, log))) as SlackError;
    expect(e.code).toBe("SLACK_UNAVAILABLE");
    expect(e.message).toMatch(/ECONNREFUSED/);
    expect(log.lines.filter((l) => l.startsWith("warn"))).toHaveLength(2);
    for (const text of [e.message, e.hint, ...log.lines]) expect(text).not.toContain("closedport");
  });

  it("gives an attempt up after the timeout", async () => {
    const conn = connection("slack_alerts", receiver.webhookConnection());
    receiver.script({ stall: true }, { stall: true }, { stall: true });
    const e = (await rejectionOf(() => send(conn, {}, { ...FAST, timeoutMs: 200 }))) as SlackError;
    expect(e.code).toBe("SLACK_UNAVAILABLE");
    expect(e.message).toContain("3 attempts failed, the last with no answer within 200 ms");
  });
});

describe("bot token (chat.postMessage)", () => {
  it("posts to the channel with the bot token from the connection", async () => {
    fresh();
    await send(connection("slack_bot", receiver.botConnection()), { channel: "#data-alerts" });
    expect(receiver.messages).toHaveLength(1);
    const [m] = receiver.messages;
    expect(m!.via).toBe("chat.postMessage");
    expect(m!.to).toBe("C0DATAALRT1");
    expect(m!.text).toBe(slackText(MESSAGE));
  });

  it("waits out a 429, then delivers", async () => {
    fresh();
    receiver.script({ rateLimited: 1 });
    const before = receiver.requests.length;
    await send(connection("slack_bot", receiver.botConnection()), { channel: "C0DATAALRT1" });
    expect(receiver.requests.length - before).toBe(2);
    expect(receiver.messages).toHaveLength(1);
  });

  it("reports channel_not_found with the channel and the fix, at once", async () => {
    const before = receiver.requests.length;
    const e = (await rejectionOf(() => send(connection("slack_bot", receiver.botConnection()), { channel: "#nowhere" }))) as SlackError;
    expect(receiver.requests.length - before).toBe(1);
    expect([e.code, e.slackError]).toEqual(["SLACK_REFUSED", "channel_not_found"]);
    expect(e.message).toContain("#nowhere");
    expect(e.message).toContain('connection "slack_bot" (XO_CONN_SLACK_BOT)');
    expect(e.hint).toContain("invite the app");
  });

  it("reports a wrong token as invalid_auth without printing it", async () => {
    const json = { ...receiver.botConnection(), password: "xoxb-0000-0000-wrongtokenwrongtoken" };
    const log = logger();
    const e = (await rejectionOf(() => send(connection("slack_bot", json), { channel: "#data-alerts" }, FAST, log))) as SlackError;
    expect([e.code, e.slackError]).toEqual(["SLACK_REFUSED", "invalid_auth"]);
    expect(e.hint).toContain("OAuth & Permissions");
    for (const text of [e.message, e.hint, ...log.lines]) expect(text).not.toContain("wrongtoken");
  });

  it("retries Slack's internal_error", async () => {
    fresh();
    receiver.script({ error: "internal_error" });
    await send(connection("slack_bot", receiver.botConnection()), { channel: "#data-alerts" });
    expect(receiver.messages).toHaveLength(1);
  });
});

describe("connections", () => {
  it("refuses a connection without a token", async () => {
    const e = (await rejectionOf(() => send(connection("slack_empty", { conn_type: "slackwebhook", host: "hooks.slack.com/services" })))) as SlackError;
    expect(e.code).toBe("SLACK_CONNECTION_INVALID");
    expect(e.message).toContain("XO_CONN_SLACK_EMPTY");
    expect(e.hint).toContain("password");
  });

  it("refuses a bot token where a webhook is expected, and a webhook connection with `channel`", async () => {
    const bot = (await rejectionOf(() => send(connection("slack_bot", { conn_type: "slack", password: "xoxb-1-2-abcdefabcdef" })))) as SlackError;
    expect(bot.code).toBe("SLACK_CONNECTION_INVALID");
    expect(bot.message).toContain("is a `slack` connection");
    expect(bot.hint).toContain("bot token");
    const hook = (await rejectionOf(() => send(connection("slack_alerts", receiver.webhookConnection()), { channel: "#data-alerts" }))) as SlackError;
    expect(hook.code).toBe("SLACK_CONNECTION_INVALID");
    expect(hook.message).toContain("is a `slackwebhook` connection");
  });

  it("refuses a send without a connection", async () => {
    const e = (await rejectionOf(() => slackNotifier().send({ options: {}, connection: undefined, message: MESSAGE, log: logger(), signal: AbortSignal.timeout(1000) }))) as SlackError;
    expect(e.code).toBe("SLACK_CONNECTION_INVALID");
  });
});

describe("the plugin", () => {
  it("offers the `slack` notifier with a required connection and its error codes", () => {
    const plugin = slack();
    expect(plugin.name).toBe("@xo-foundry/plugin-slack");
    expect(plugin.notifiers?.map((n) => [n.id, n.connection])).toEqual([["slack", "required"]]);
    expect(Object.keys(plugin.errors ?? {})).toEqual(["SLACK_CONNECTION_INVALID", "SLACK_REFUSED", "SLACK_UNAVAILABLE"]);
    // The core's registry checks the plugin's shape (brand, API version, notifier hooks) as discovery does.
    expect(new Registry([plugin]).notifier("slack")).toBe(plugin.notifiers![0]);
  });

  it("refuses unknown keys and an empty channel", () => {
    const options = slack().notifiers![0]!.options;
    expect(options.strict().safeParse({ chanel: "#x" }).success).toBe(false);
    expect(options.safeParse({ channel: "" }).success).toBe(false);
    expect(options.safeParse({ channel: "#data-alerts" }).success).toBe(true);
  });
});
