/**
 * The `webhook` notifier: an alert as one JSON POST to the connection's base URL and
 * `path`, for any system that takes HTTP (an incident tool, a chat bridge, your own
 * service). The same alert from a generated DAG goes through Airflow's HttpNotifier with the
 * same connection, so the connection follows Airflow's HttpHook: Basic auth from the login
 * and password, and every other key of `extra` (but HttpHook's own options) as a header,
 * e.g. `{"Authorization": "Bearer ..."}`.
 *
 * The request goes through the plugin's shared HTTP client (http.ts): timeouts, backoff,
 * Retry-After and redaction as for sources and `api.send`. A duplicate alert does less harm
 * than a lost one, so every failure a retry may fix is retried, a few times.
 */
import { describeConnection, parseRetryAfter, PluginError, redact, registerSecret, type AirflowNotifier, type Connection, type NotifierDefinition, type NotifyContext } from "@xo-foundry/core";
import { STATUS_CODES } from "node:http";
import { z } from "zod";
import { createHttpClient, snippet, type Outcome } from "./http.js";
import { buildUrl, resolveBaseUrl } from "./urls.js";
import { VERSION } from "./version.js";

/** Every code with what it means and the fix; the codes are the keys, so none exists without its text. */
export const WEBHOOK_ERRORS = {
  WEBHOOK_CONNECTION_INVALID:
    "The webhook alert's connection cannot be used: it has no host (the base URL, e.g. https://hooks.example.com), or an `extra` key that would become a header has a value that is not text.",
  WEBHOOK_REFUSED:
    "The endpoint refused the alert (a 4xx answer, or a redirect, which a POST does not follow). The message gives the status and the start of the answer: check `path`, and the credentials of the connection (login and password for Basic auth, or an `Authorization` key in `extra`).",
  WEBHOOK_UNAVAILABLE:
    "The endpoint kept failing (429, 5xx, timeouts or network errors) through every attempt, or asked to wait longer than an alert may. The alert is lost for this event; check that this machine reaches the connection's host.",
} as const satisfies Readonly<Record<`WEBHOOK_${string}`, string>>;

export type WebhookErrorCode = keyof typeof WEBHOOK_ERRORS;

export class WebhookError extends PluginError<WebhookErrorCode> {
  override readonly name = "WebhookError";
  constructor(
    code: WebhookErrorCode,
    message: string,
    hint: string,
    readonly status?: number,
  ) {
    super(code, message, hint);
  }
}

export const webhookOptions = z.object({
  path: z
    .string()
    .refine((p) => !/^[a-z][a-z0-9+.-]*:/i.test(p), { message: "a path, not a URL: the base URL comes from the connection" })
    .default("")
    .describe("Appended to the connection's base URL, e.g. `/hooks/xo` (as Airflow's HttpHook appends an endpoint)."),
});

export type WebhookOptions = z.output<typeof webhookOptions>;

export interface WebhookPolicy {
  /** Attempts in all, the first included. */
  readonly attempts: number;
  readonly backoffMs: number;
  /** The longest Retry-After honoured: asked for more, the alert fails instead of waiting. */
  readonly maxRetryAfterMs: number;
  readonly timeoutMs: number;
}

export const DEFAULT_WEBHOOK_POLICY: WebhookPolicy = { attempts: 3, backoffMs: 1000, maxRetryAfterMs: 30_000, timeoutMs: 10_000 };

/**
 * Keys of `extra` that HttpHook reads as its own options; every other key is a header.
 * `scheme` is xo-foundry's (core's connectionBaseUrl) and is not sent either.
 */
const HTTP_HOOK_OPTIONS = new Set(["stream", "cert", "proxies", "proxy", "timeout", "verify", "verify_ssl", "allow_redirects", "max_redirects", "trust_env", "check_response", "srv_lookup", "scheme"]);

/** The notifier, with a delivery policy (tests shorten the waits). */
export function webhookNotifier(policy: WebhookPolicy = DEFAULT_WEBHOOK_POLICY): NotifierDefinition<WebhookOptions> {
  return {
    id: "webhook",
    description:
      "POSTs each alert as JSON (event, pipeline, dag_id, task, logical_date, run_id, title, text, log_url) to the connection's base URL and `path`, with the connection's Basic auth and `extra` headers; generated DAGs use Airflow's HttpNotifier.",
    options: webhookOptions,
    connection: "required",
    send: (ctx) => send(ctx, policy),
    airflow({ options, connection, message }): AirflowNotifier {
      if (!connection) throw missingConnection();
      return {
        module: "airflow.providers.http.notifications.http",
        name: "HttpNotifier",
        kwargs: {
          http_conn_id: connection,
          endpoint: options.path,
          method: "POST",
          json: { dict: message.fields },
          headers: { dict: { "Content-Type": "application/json" } },
        },
      };
    },
  };
}

/** The JSON body of an alert: the AlertMessage's fields, in Airflow's snake case; absent ones are null. */
export function webhookBody(message: NotifyContext["message"]): Record<string, string | null> {
  return {
    event: message.event,
    pipeline: message.pipeline,
    dag_id: message.dagId,
    task: message.task ?? null,
    logical_date: message.logicalDate,
    run_id: message.runId,
    title: message.title,
    text: message.text,
    log_url: message.logUrl ?? null,
  };
}

async function send(ctx: NotifyContext<WebhookOptions>, policy: WebhookPolicy): Promise<void> {
  const { connection, signal, log } = ctx;
  if (!connection) throw missingConnection();
  const options = webhookOptions.parse(ctx.options);
  const where = describeConnection(connection.id);
  let base: URL;
  try {
    base = resolveBaseUrl(undefined, connection, connection.id, "the host of the connection");
  } catch (e) {
    throw new WebhookError("WEBHOOK_CONNECTION_INVALID", `the webhook alert's ${where} has no base URL`, redact((e as Error).message));
  }
  const url = buildUrl(base, options.path, {});
  const client = createHttpClient({
    timeoutMs: timeoutOf(connection) ?? policy.timeoutMs,
    maxRetries: policy.attempts - 1,
    backoffMs: policy.backoffMs,
    headers: {},
    auth: { headers: hookHeaders(connection, where) },
    log,
    signal,
    connectionHint: where,
    userAgent: `xo-foundry-plugin-api/${VERSION}`,
    // A 301/302 would turn the POST into a GET: a redirect is an answer to report, not to follow.
    followRedirects: false,
    advice: { url: "the host of the connection and `path`", size: "the alert's text" },
  });
  const shown = client.printUrl(url);
  let waitRefused: number | undefined;
  const retry = (outcome: Outcome): boolean => {
    if (outcome.kind === "network") return !outcome.permanent;
    if (outcome.kind !== "response") return true;
    if (outcome.status !== 408 && outcome.status !== 429 && outcome.status < 500) return false;
    const wait = parseRetryAfter(outcome.headers["retry-after"]);
    if (wait !== undefined && wait > policy.maxRetryAfterMs) {
      waitRefused = wait;
      return false;
    }
    return true;
  };

  let res;
  try {
    res = await client.exchange({ method: "POST", url, body: webhookBody(ctx.message) }, retry);
  } catch (e) {
    signal.throwIfAborted();
    // The client's advice is about sources (`timeout_ms`, `base_url`): keep what happened, say our own fix.
    const detail = redact((e instanceof Error ? e.message : String(e)).replace(/\. (Check|Raise) .*$/s, ""));
    if ((e as { outcome?: { code?: string } }).outcome?.code === "ENOTFOUND") {
      throw new WebhookError("WEBHOOK_CONNECTION_INVALID", `the webhook alert through ${where} could not reach its endpoint: ${detail}`, "check the host of the connection");
    }
    throw new WebhookError("WEBHOOK_UNAVAILABLE", `the webhook alert through ${where} was not delivered: ${detail}`, "check that this machine reaches the endpoint; the alert of this event is lost");
  }
  if (res.status >= 200 && res.status < 300) return;
  const answer = `HTTP ${res.status}${STATUS_CODES[res.status] ? ` ${STATUS_CODES[res.status]}` : ""}: ${snippet(res.text)}`;
  const tries = res.attempts > 1 ? `, after ${res.attempts} attempts` : "";
  if (waitRefused !== undefined) {
    throw new WebhookError(
      "WEBHOOK_UNAVAILABLE",
      `the webhook alert through ${where} was not delivered: POST ${shown} answered ${answer} and asked to wait ${Math.round(waitRefused / 1000)} s, longer than an alert waits (${policy.maxRetryAfterMs / 1000} s)`,
      "the endpoint limits this client; send fewer alerts to it, or ask its owner for a higher limit",
      res.status,
    );
  }
  if (res.status === 408 || res.status === 429 || res.status >= 500) {
    throw new WebhookError("WEBHOOK_UNAVAILABLE", `the webhook alert through ${where} was not delivered: POST ${shown} answered ${answer}${tries}`, "the endpoint kept failing; check its health; the alert of this event is lost", res.status);
  }
  throw new WebhookError("WEBHOOK_REFUSED", `the endpoint refused the webhook alert through ${where}: POST ${shown} answered ${answer}`, refusalFix(res.status, where), res.status);
}

/** Basic auth from the login, and the other `extra` keys as headers: what HttpHook sends. */
function hookHeaders(connection: Connection, where: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(connection.extra)) {
    if (HTTP_HOOK_OPTIONS.has(key)) continue;
    if (typeof value !== "string") {
      throw new WebhookError("WEBHOOK_CONNECTION_INVALID", `the webhook alert's ${where} has \`extra.${key}\` that is not text`, "every key of `extra` other than HttpHook's options is sent as a header, as Airflow does: give it a text value, or remove it");
    }
    // A header from the connection may be a credential; core registered secret-looking ones, this covers every one.
    registerSecret(value);
    registerSecret(/^[A-Za-z][\w-]*\s+(\S+)$/.exec(value)?.[1]);
    headers[key] = value;
  }
  if (connection.login) {
    const password = connection.password ?? "";
    registerSecret(password, { login: connection.login });
    headers.Authorization = `Basic ${Buffer.from(`${connection.login}:${password}`).toString("base64")}`;
  }
  return headers;
}

function timeoutOf(connection: Connection): number | undefined {
  const seconds = Number(connection.extra.timeout);
  return connection.extra.timeout !== undefined && Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : undefined;
}

function refusalFix(status: number, where: string): string {
  if (status === 401 || status === 403) return `check the credentials in ${where}: its login and password (Basic auth), or an \`Authorization\` key in its \`extra\``;
  if (status === 404 || status === 405) return "check `path` in the alert's `webhook:` block and the host of the connection";
  if (status >= 300 && status < 400) return "the endpoint redirects: point the connection's host and `path` at where it redirects to";
  if (status === 400 || status === 415 || status === 422) return "the endpoint does not take xo-foundry's alert JSON as it is; put a small adapter in front of it, or use a dedicated channel";
  return "see the endpoint's documentation for this status";
}

function missingConnection(): WebhookError {
  return new WebhookError("WEBHOOK_CONNECTION_INVALID", "the webhook alert has no connection", "set `connection:` in the alert's `webhook:` block, e.g. `webhook: { connection: ops_hook, path: /hooks/xo }`");
}
