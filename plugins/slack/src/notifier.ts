/**
 * The `slack` notifier: an alert as one Slack message, through an incoming webhook (no
 * `channel`) or with a bot token through chat.postMessage (`channel`). The same alert from
 * a generated DAG goes through Airflow's SlackWebhookNotifier or SlackNotifier, with the
 * same connection and the same text.
 */
import {
  DEFAULT_DELIVERY_POLICY,
  deliver,
  describeConnection,
  DeliveryExhausted,
  redact,
  TransientDeliveryError,
  type AirflowNotifier,
  type Connection,
  type DeliveryPolicy,
  type Logger,
  type NotifierDefinition,
  type NotifyContext,
} from "@xo-foundry/core";
import type { Logger as SlackLogger } from "@slack/web-api";
import { z } from "zod";
import { botTarget, webhookTarget } from "./connection.js";
import { SlackError } from "./errors.js";
import { slackText, slackTextTemplate } from "./message.js";
import { observedFetch } from "./observed-fetch.js";
import { webApiRefusal, webhookRefusal } from "./refusals.js";

export const slackOptions = z.object({
  channel: z
    .string()
    .min(1)
    .optional()
    .describe(
      "Post with a bot token (chat.postMessage) to this channel: its ID (`C0123456789`) or name (`#data-alerts`); the connection is then a `slack` connection whose password is the bot token. Without it the connection is an incoming webhook, which posts to its own channel.",
    ),
});

export type SlackOptions = z.output<typeof slackOptions>;

const WEBHOOK_MODULE = "airflow.providers.slack.notifications.slack_webhook";
const BOT_MODULE = "airflow.providers.slack.notifications.slack";

/** The notifier, with a delivery policy (tests shorten the waits). */
export function slackNotifier(policy: DeliveryPolicy = DEFAULT_DELIVERY_POLICY): NotifierDefinition<SlackOptions> {
  return {
    id: "slack",
    description:
      "Sends alerts to Slack through an incoming webhook, or with a bot token to a `channel` (chat.postMessage); generated DAGs use Airflow's SlackWebhookNotifier or SlackNotifier with the same connection.",
    options: slackOptions,
    connection: "required",
    send: (ctx) => send(ctx, policy),
    airflow({ options, connection, message }): AirflowNotifier {
      if (!connection) throw missingConnection();
      const text = { jinja: slackTextTemplate(message) };
      return options.channel === undefined
        ? { module: WEBHOOK_MODULE, name: "SlackWebhookNotifier", kwargs: { slack_webhook_conn_id: connection, text } }
        : { module: BOT_MODULE, name: "SlackNotifier", kwargs: { slack_conn_id: connection, channel: options.channel, text } };
    },
  };
}

async function send(ctx: NotifyContext<SlackOptions>, policy: DeliveryPolicy): Promise<void> {
  const { connection, options, signal, log } = ctx;
  if (!connection) throw missingConnection();
  const text = slackText(ctx.message);
  const where = describeConnection(connection.id);
  if (extraProxy(connection)) log.warn(`the Slack alert's ${where} sets a proxy, which xo-foundry does not use: it connects directly`);
  if (options.channel === undefined) {
    const target = webhookTarget(connection);
    const timeoutMs = (target.timeoutSeconds ?? 0) * 1000 || policy.timeoutMs;
    await attempts(() => postWebhook(target.url, text, timeoutMs, signal, where), where, policy, signal, log, "incoming webhook");
  } else {
    const channel = options.channel;
    const target = botTarget(connection);
    const timeoutMs = (target.timeoutSeconds ?? 0) * 1000 || policy.timeoutMs;
    await attempts(() => postMessage(target.token, target.apiUrl, channel, text, timeoutMs, signal, where), where, policy, signal, log, `chat.postMessage to ${channel}`);
  }
}

async function attempts(attempt: () => Promise<void>, where: string, policy: DeliveryPolicy, signal: AbortSignal, log: Logger, how: string): Promise<void> {
  try {
    await deliver(attempt, policy, signal, log, `Slack ${how}`);
  } catch (e) {
    if (!(e instanceof DeliveryExhausted)) throw e;
    const waited = e.waitRefused
      ? `Slack asked to wait ${Math.round((e.last.retryAfterMs ?? 0) / 1000)} s before the next attempt, longer than an alert waits (${policy.maxRetryAfterMs / 1000} s)`
      : `${e.attempts} attempts failed, the last with ${e.last.detail}`;
    throw new SlackError(
      "SLACK_UNAVAILABLE",
      `the Slack alert through ${where} (${how}) was not delivered: ${waited}`,
      "check that this machine reaches Slack (or the connection's host) and Slack's status page; the alert of this event is lost",
    );
  }
}

// ---------------------------------------------------------------- incoming webhook

async function postWebhook(url: URL, text: string, timeoutMs: number, signal: AbortSignal, where: string): Promise<void> {
  const { IncomingWebhook } = await import("@slack/webhook");
  const observed = observedFetch(signal, timeoutMs);
  const hook = new IncomingWebhook(url.href, { fetch: observed.fetch, retryConfig: { retries: 0 } });
  try {
    await hook.send({ text });
  } catch (e) {
    signal.throwIfAborted();
    const status = (e as { statusCode?: unknown }).statusCode;
    if (typeof status !== "number") throw networkFailure(e, timeoutMs, where);
    const body = String((e as { body?: unknown }).body ?? "").trim();
    throw answered(status, observed.last.retryAfter, () => webhookRefusal(status, body, where));
  }
}

// ---------------------------------------------------------------- bot token

async function postMessage(token: string, apiUrl: string, channel: string, text: string, timeoutMs: number, signal: AbortSignal, where: string): Promise<void> {
  const { WebClient } = await import("@slack/web-api");
  const observed = observedFetch(signal, timeoutMs);
  // Retries are ours (deliver.ts); a 429 comes back at once, with its Retry-After.
  const client = new WebClient(token, { slackApiUrl: apiUrl, fetch: observed.fetch, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true, logger: SILENT });
  try {
    await client.chat.postMessage({ channel, text, unfurl_links: false, unfurl_media: false });
  } catch (e) {
    signal.throwIfAborted();
    const error = e as { code?: unknown; data?: { error?: unknown }; statusCode?: unknown; body?: unknown; retryAfter?: unknown };
    if (error.code === "slack_webapi_platform_error") {
      const code = typeof error.data?.error === "string" ? error.data.error : "unknown_error";
      if (TRANSIENT_API_ERRORS.has(code)) throw new TransientDeliveryError(`Slack answered ok: false, error ${code}`);
      throw webApiRefusal(code, channel, where);
    }
    const status = typeof error.statusCode === "number" ? error.statusCode : observed.last.status;
    if (status === undefined) throw networkFailure(e, timeoutMs, where);
    const seconds = typeof error.retryAfter === "number" ? String(error.retryAfter) : observed.last.retryAfter;
    const body = error.body as { error?: unknown } | string | undefined;
    const code = typeof body === "object" && body !== null && typeof body.error === "string" ? body.error : String(body ?? "").trim();
    throw answered(status, seconds, () => webhookRefusal(status, code, where, "chat.postMessage"));
  }
}

/** chat.postMessage errors that Slack documents as its own trouble, worth another attempt. */
const TRANSIENT_API_ERRORS = new Set(["internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited"]);

/** The Web API client logs to the console by default; our log lines are our own. */
const SILENT: SlackLogger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  setLevel() {},
  getLevel: () => "error" as ReturnType<SlackLogger["getLevel"]>,
  setName() {},
};

// ---------------------------------------------------------------- both

/** An HTTP answer that is not a success: another attempt for 429 and 5xx, a refusal otherwise. */
function answered(status: number, retryAfter: string | null | undefined, refused: () => SlackError): Error {
  if (status === 429) {
    const seconds = retryAfter !== null && retryAfter !== undefined && /^\d+$/.test(retryAfter.trim()) ? Number(retryAfter.trim()) : undefined;
    return new TransientDeliveryError("HTTP 429 (rate limited)", seconds === undefined ? undefined : seconds * 1000);
  }
  if (status >= 500) return new TransientDeliveryError(`HTTP ${status}`);
  return refused();
}

function networkFailure(e: unknown, timeoutMs: number, where: string): Error {
  const original = (e as { original?: unknown }).original ?? e;
  if ((original as { name?: unknown }).name === "TimeoutError") return new TransientDeliveryError(`no answer within ${timeoutMs} ms`);
  // fetch says "fetch failed" and puts what happened (ECONNREFUSED, a DNS failure) in `cause`.
  const cause = (original as { cause?: { code?: unknown; message?: unknown } }).cause;
  const code = typeof cause?.code === "string" ? cause.code : undefined;
  const message = original instanceof Error ? original.message : String(original);
  const why = code ?? (typeof cause?.message === "string" ? cause.message : undefined);
  const detail = redact(why && !message.includes(why) ? `${message} (${why})` : message);
  if (code === "ENOTFOUND" || /redirect|bad port|invalid url/i.test(detail)) {
    return new SlackError("SLACK_CONNECTION_INVALID", `the Slack alert through ${where} could not reach its host: ${detail}`, "check the host of the connection, or the webhook URL in its password");
  }
  return new TransientDeliveryError(`the request failed: ${detail}`);
}

function missingConnection(): SlackError {
  return new SlackError("SLACK_CONNECTION_INVALID", "the Slack alert has no connection", "set `connection:` in the alert's `slack:` block, e.g. `slack: { connection: slack_alerts }`");
}

function extraProxy(connection: Connection): boolean {
  return ["proxy", "extra__slack__proxy", "extra__slackwebhook__proxy"].some((k) => typeof connection.extra[k] === "string" && connection.extra[k] !== "");
}
