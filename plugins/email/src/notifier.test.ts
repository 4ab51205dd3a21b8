/**
 * The `email` notifier against a real SMTP server on loopback (smtp-server, see
 * src/__fixtures__/smtp_server.ts) through the real nodemailer. Nothing is emulated but the
 * server's scripted temporary and permanent replies.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_DELIVERY_POLICY, Registry, resolveConnection, type AlertMessage, type Connection, type DeliveryPolicy, type Logger } from "@xo-foundry/core";
import { freePort, rejectionOf } from "@xo-foundry/testkit";
import { startSmtpServer, type TestSmtpServer } from "./__fixtures__/smtp_server.js";
import { EmailError } from "./errors.js";
import { email } from "./index.js";
import { emailContent } from "./message.js";
import { emailNotifier, type EmailOptions } from "./notifier.js";

const FAST: DeliveryPolicy = { ...DEFAULT_DELIVERY_POLICY, backoffMs: 20, maxBackoffMs: 50, timeoutMs: 3000 };
const PASSWORD = "s3cret-smtp-Passw0rd";

const MESSAGE: AlertMessage = {
  event: "failure",
  pipeline: "orders_daily",
  dagId: "orders_daily",
  task: "load_orders",
  logicalDate: "2026-01-15",
  runId: "scheduled__2026-01-15T00:00:00+00:00",
  title: "orders_daily: task load_orders failed (2026-01-15) — Überfällig",
  text: 'XO_STEP_FAILED: rows <3> & "more" were refused\nhint: check the source <script>alert(1)</script>',
  logUrl: "http://airflow.local/dags/orders_daily/grid?task_id=load_orders&tab=logs",
};

let smtp: TestSmtpServer;
beforeAll(async () => {
  smtp = await startSmtpServer({ auth: { user: "alerts", pass: PASSWORD }, domains: ["example.com"] });
});
afterAll(async () => {
  await smtp.close();
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
function connection(json: Record<string, unknown>, id = "smtp"): Connection {
  return resolveConnection(id, { [`XO_CONN_${id.toUpperCase()}`]: JSON.stringify(json) });
}

const OPTIONS: EmailOptions = { to: ["data-team@example.com"], from: "Data alerts <alerts@example.com>" };

async function send(conn: Connection, options: EmailOptions = OPTIONS, policy = FAST, log = logger()) {
  await emailNotifier(policy).send({ options, connection: conn, message: MESSAGE, log, signal: AbortSignal.timeout(20_000) });
  return log;
}

describe("sending", () => {
  it("sends the title as subject, and text and HTML bodies with the log link, escaped", async () => {
    smtp.messages.length = 0;
    await send(connection(smtp.connection()), { ...OPTIONS, cc: ["oncall@example.com"] });
    expect(smtp.messages).toHaveLength(1);
    const [m] = smtp.messages;
    expect(m!.user).toBe("alerts");
    expect(m!.envelope).toEqual({ from: "alerts@example.com", to: ["data-team@example.com", "oncall@example.com"] });
    expect(m!.subject).toBe(MESSAGE.title);
    expect(m!.headers.to).toBe("data-team@example.com");
    expect(m!.headers.cc).toBe("oncall@example.com");
    expect(m!.text).toBe(emailContent(MESSAGE).text);
    expect(m!.text).toContain("log: http://airflow.local/dags/orders_daily/grid?task_id=load_orders&tab=logs");
    expect(m!.html).toBe(emailContent(MESSAGE).html);
    expect(m!.html).toContain("rows &lt;3&gt; &amp; &#34;more&#34; were refused");
    expect(m!.html).not.toContain("<script>");
    expect(m!.html).toContain('<a href="http://airflow.local/dags/orders_daily/grid?task_id=load_orders&amp;tab=logs">log</a>');
  });

  it("takes the sender from the connection's extra.from_email", async () => {
    smtp.messages.length = 0;
    await send(connection(smtp.connection({ from_email: "airflow@example.com" })), { to: ["data-team@example.com"] });
    expect(smtp.messages[0]!.envelope.from).toBe("airflow@example.com");
  });

  it("retries a temporary refusal (421) and delivers", async () => {
    smtp.messages.length = 0;
    smtp.script({ code: 421, message: "Too busy, try again later" });
    const log = await send(connection(smtp.connection()));
    expect(smtp.messages).toHaveLength(1);
    expect(log.lines.join("\n")).toMatch(/reply 421 .*attempt 2 of 3/);
  });

  it("gives up after three temporary refusals with EMAIL_UNAVAILABLE", async () => {
    smtp.script({ code: 451, at: "data" }, { code: 451, at: "data" }, { code: 451, at: "data" });
    const e = (await rejectionOf(() => send(connection(smtp.connection())))) as EmailError;
    expect(e.code).toBe("EMAIL_UNAVAILABLE");
    expect(e.message).toContain('connection "smtp" (XO_CONN_SMTP)');
    expect(e.message).toContain("3 attempts failed, the last with reply 451");
  });

  it("fails at once on a permanent refusal, quoting the server and naming the fix", async () => {
    const e = (await rejectionOf(() => send(connection(smtp.connection()), { ...OPTIONS, to: ["someone@elsewhere.org"] }))) as EmailError;
    expect(e.code).toBe("EMAIL_REFUSED");
    expect(e.reply).toBe(550);
    expect(e.message).toContain("Recipient address rejected");
    expect(e.hint).toContain("check `to`");
  });

  it("reports wrong credentials without printing the password", async () => {
    const log = logger();
    const wrong = "wrong-Passw0rd-for-alerts";
    const e = (await rejectionOf(() => send(connection({ ...smtp.connection(), password: wrong }, "smtp_bad"), OPTIONS, FAST, log))) as EmailError;
    expect(e.code).toBe("EMAIL_REFUSED");
    expect(e.reply).toBe(535);
    expect(e.message).toContain('connection "smtp_bad" (XO_CONN_SMTP_BAD)');
    expect(e.hint).toContain("login or password");
    for (const text of [e.message, e.hint, ...log.lines]) {
      expect(text).not.toContain(wrong);
      expect(text).not.toContain(Buffer.from(`\0alerts\0${wrong}`).toString("base64"));
    }
  });

  it("says when the server wants a login the connection does not have", async () => {
    const { login: _l, password: _p, ...anonymous } = smtp.connection();
    const e = (await rejectionOf(() => send(connection(anonymous)))) as EmailError;
    expect([e.code, e.reply]).toEqual(["EMAIL_REFUSED", 530]);
    expect(e.hint).toContain("set the connection's login and password");
  });

  it("explains a connection that expects SMTPS from a plain server", async () => {
    const json = smtp.connection();
    const e = (await rejectionOf(() => send(connection({ ...json, extra: { disable_tls: true } })))) as EmailError;
    expect(e.code).toBe("EMAIL_CONNECTION_INVALID");
    expect(e.hint).toContain("disable_ssl: true");
  });

  it("explains a connection that expects STARTTLS from a server without it", async () => {
    const json = smtp.connection();
    const e = (await rejectionOf(() => send(connection({ ...json, extra: { disable_ssl: true } })))) as EmailError;
    expect(e.code).toBe("EMAIL_CONNECTION_INVALID");
    expect(e.hint).toContain("disable_tls: true");
  });

  it("retries a server that does not answer, then gives up", async () => {
    const json = { ...smtp.connection(), port: await freePort() };
    const log = logger();
    const e = (await rejectionOf(() => send(connection(json), OPTIONS, FAST, log))) as EmailError;
    expect(e.code).toBe("EMAIL_UNAVAILABLE");
    expect(e.message).toMatch(/ECONNECTION|ECONNREFUSED/);
    expect(log.lines.filter((l) => l.startsWith("warn"))).toHaveLength(2);
    for (const text of [e.message, ...log.lines]) expect(text).not.toContain(PASSWORD);
  });

  it("refuses to send without a sender", async () => {
    const e = (await rejectionOf(() => send(connection(smtp.connection()), { to: ["data-team@example.com"] }))) as EmailError;
    expect(e.code).toBe("EMAIL_NO_SENDER");
    expect(e.hint).toContain("extra.from_email");
  });
});

describe("connections, read as Airflow's SmtpHook reads them", () => {
  it("refuses a connection without a host, and unknown ssl_context or auth_type", async () => {
    for (const [json, what] of [
      [{ conn_type: "smtp" }, "has no host"],
      [{ conn_type: "smtp", host: "h", extra: { ssl_context: "strict" } }, "ssl_context"],
      [{ conn_type: "smtp", host: "h", extra: { auth_type: "kerberos" } }, "auth_type"],
      [{ conn_type: "smtp", host: "h", extra: { auth_type: "oauth2" } }, "access_token"],
    ] as const) {
      const e = (await rejectionOf(() => send(connection(json as Record<string, unknown>)))) as EmailError;
      expect(e.code).toBe("EMAIL_CONNECTION_INVALID");
      expect(e.message).toContain(what);
    }
  });
});

describe("the plugin", () => {
  it("offers the `email` notifier with a required connection and its error codes", () => {
    const plugin = email();
    expect(plugin.name).toBe("@xo-foundry/plugin-email");
    expect(plugin.notifiers?.map((n) => [n.id, n.connection])).toEqual([["email", "required"]]);
    expect(Object.keys(plugin.errors ?? {})).toEqual(["EMAIL_CONNECTION_INVALID", "EMAIL_NO_SENDER", "EMAIL_REFUSED", "EMAIL_UNAVAILABLE"]);
    expect(new Registry([plugin]).notifier("email")).toBe(plugin.notifiers![0]);
  });

  it("checks its options", () => {
    const options = email().notifiers![0]!.options;
    expect(options.safeParse({ to: [] }).success).toBe(false);
    expect(options.safeParse({ to: ["not an address"] }).success).toBe(false);
    expect(options.safeParse({ to: ["a@example.com"], from: "Alerts <alerts@example.com>" }).success).toBe(true);
    expect(options.safeParse({ to: ["a@example.com"], from: "Alerts <alerts@example.com>\r\nBcc: x@y.z" }).success).toBe(false);
    expect(options.strict().safeParse({ to: ["a@example.com"], bcc: ["b@example.com"] }).success).toBe(false);
  });

  it("renders SmtpNotifier's kwargs", () => {
    const n = email().notifiers![0]!.airflow({
      options: { to: ["a@example.com"], cc: ["b@example.com"] },
      connection: "smtp",
      message: { title: { jinja: "T" }, text: { jinja: "X" }, fields: { event: "success", pipeline: "p", dag_id: "p", task: null, logical_date: "d", run_id: "r", title: { jinja: "T" }, text: { jinja: "X" }, log_url: null } },
    });
    expect(n.module).toBe("airflow.providers.smtp.notifications.smtp");
    expect(n.name).toBe("SmtpNotifier");
    expect(n.kwargs).toMatchObject({ smtp_conn_id: "smtp", to: ["a@example.com"], cc: ["b@example.com"], from_email: null, subject: { jinja: "T" } });
  });
});
