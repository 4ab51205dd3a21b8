/**
 * A Slack emulator on 127.0.0.1 for alert tests: incoming webhooks and chat.postMessage,
 * as Slack's published documents describe them, and nothing else.
 *
 * - Incoming webhooks, "Sending messages using incoming webhooks"
 *   (https://api.slack.com/messaging/webhooks, "Handling errors") and "Improving error
 *   conditions for Incoming Webhooks"
 *   (https://api.slack.com/changelog/2016-05-17-changes-to-errors-for-incoming-webhooks):
 *   `POST /services/<token>` with a JSON body (or the legacy form field `payload`); 200 with
 *   the body `ok`; refusals as a status and a code in a plain-text body: 400
 *   `invalid_payload`, `no_text`, `user_not_found`, `too_many_attachments`,
 *   `no_service_id`, `team_disabled`; 403 `invalid_token`, `action_prohibited`,
 *   `posting_to_general_channel_denied`; 404 `no_service`, `channel_not_found`, `no_team`;
 *   410 `channel_is_archived`; 500 `rollup_error`.
 * - chat.postMessage, "Web API basics" (https://api.slack.com/web) and the method's page
 *   (https://api.slack.com/methods/chat.postMessage): `POST /api/chat.postMessage`, the
 *   token as `Authorization: Bearer` (or a `token` form field), the arguments as
 *   form-encoded fields or JSON (`application/json`, then the token must be in the header);
 *   every answer is HTTP 200 with `{ ok: true, channel, ts, message }` or
 *   `{ ok: false, error }` (`not_authed`, `invalid_auth`, `channel_not_found`, `no_text`,
 *   `invalid_json`, `invalid_form_data`, `invalid_post_type`, `unknown_method`).
 * - Rate limits, "Rate limits" (https://api.slack.com/docs/rate-limits): HTTP 429 with a
 *   `Retry-After` header in seconds (the Web API adds `{ ok: false, error: "ratelimited" }`).
 *
 * Emulated, not Slack: tokens and channels are the ones this receiver was given; a webhook
 * is one registered with `webhookUrl()`. Methods other than POST get 405, which Slack's
 * documents do not describe. Nothing is rendered: `messages` holds what Slack would post.
 */
import { startScriptedServer, type RecordedRequest, type ScriptedResponse, type ScriptedServer } from "@xo-foundry/testkit";
import { randomBytes } from "node:crypto";

export interface SlackMessage {
  readonly via: "webhook" | "chat.postMessage";
  /** The webhook token, or the channel's ID. */
  readonly to: string;
  readonly text: string | undefined;
  /** The request's arguments as Slack read them (a JSON body, or form fields). */
  readonly body: Readonly<Record<string, unknown>>;
}

/** What the next request gets instead of its normal answer, one entry per request. */
export type SlackFailure =
  /** One of Slack's error codes: a webhook answers its documented status (or `status`), the Web API `ok: false`. */
  | { readonly error: string; readonly status?: number }
  /** HTTP 429 with `Retry-After: <seconds>`. */
  | { readonly rateLimited: number }
  /** A server error. */
  | { readonly serverError: 500 | 502 | 503 | 504 }
  /** No answer at all, until the client gives up. */
  | { readonly stall: true };

export interface SlackReceiver {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** The bot token chat.postMessage accepts. */
  readonly botToken: string;
  /** Registers a webhook (a new token by default) and returns its URL: `<url>/services/<token>`. */
  webhookUrl(token?: string): string;
  /** Airflow's JSON form of a `slackwebhook` connection to a webhook of this receiver (a new token by default). */
  webhookConnection(token?: string): Record<string, unknown>;
  /** Airflow's JSON form of a `slack` connection with the bot token, `extra.base_url` pointing here. */
  botConnection(): Record<string, unknown>;
  /** Messages Slack accepted, in order. */
  readonly messages: SlackMessage[];
  /** Every request, accepted or not. */
  readonly requests: readonly RecordedRequest[];
  /** Makes the next requests fail, one failure each, in order. */
  script(...failures: SlackFailure[]): void;
  close(): Promise<void>;
}

export interface SlackReceiverOptions {
  /** Channel name (without `#`) -> ID; chat.postMessage takes either. */
  readonly channels?: Readonly<Record<string, string>>;
}

/** Webhook codes and the status Slack documents for each. */
export const WEBHOOK_ERROR_STATUS: Readonly<Record<string, number>> = {
  invalid_payload: 400,
  no_text: 400,
  user_not_found: 400,
  too_many_attachments: 400,
  no_service_id: 400,
  team_disabled: 400,
  invalid_token: 403,
  action_prohibited: 403,
  posting_to_general_channel_denied: 403,
  no_service: 404,
  channel_not_found: 404,
  no_team: 404,
  channel_is_archived: 410,
  rollup_error: 500,
};

export async function startSlackReceiver(options: SlackReceiverOptions = {}): Promise<SlackReceiver> {
  const channels = options.channels ?? { "data-alerts": "C0DATAALRT1" };
  const botToken = `xoxb-1234-5678-${randomBytes(12).toString("hex")}`;
  const webhooks = new Set<string>();
  const messages: SlackMessage[] = [];
  const failures: SlackFailure[] = [];

  const respond = (request: RecordedRequest): ScriptedResponse => {
    const failure = failures.shift();
    const webApi = request.path.startsWith("/api/");
    if (failure) return failed(failure, webApi);
    if (request.method !== "POST") return { status: 405, headers: { allow: "POST" }, body: "method_not_allowed" };
    return webApi ? postMessage(request) : webhook(request);
  };

  const webhook = (request: RecordedRequest): ScriptedResponse => {
    const token = /^\/services\/(.+)$/.exec(request.path)?.[1];
    if (token === undefined || !webhooks.has(token)) return text(404, "no_service");
    const body = readBody(request, "webhook");
    if (!body) return text(400, "invalid_payload");
    if (!hasContent(body)) return text(400, "no_text");
    messages.push({ via: "webhook", to: token, text: typeof body.text === "string" ? body.text : undefined, body });
    return text(200, "ok");
  };

  const postMessage = (request: RecordedRequest): ScriptedResponse => {
    if (request.path !== "/api/chat.postMessage") return api({ ok: false, error: "unknown_method" });
    const type = contentType(request);
    if (type !== "application/json" && type !== "application/x-www-form-urlencoded") return api({ ok: false, error: "invalid_post_type" });
    const args = readBody(request, "web");
    if (!args) return api({ ok: false, error: type === "application/json" ? "invalid_json" : "invalid_form_data" });
    const bearer = /^Bearer (.+)$/.exec(String(request.headers.authorization ?? ""))?.[1];
    // A JSON body cannot carry the token: Slack reads it only from the header then.
    const token = bearer ?? (type === "application/x-www-form-urlencoded" && typeof args.token === "string" ? args.token : undefined);
    if (!token) return api({ ok: false, error: "not_authed" });
    if (token !== botToken) return api({ ok: false, error: "invalid_auth" });
    const channel = typeof args.channel === "string" ? args.channel : "";
    const id = Object.values(channels).includes(channel) ? channel : channels[channel.replace(/^#/, "")];
    if (!id) return api({ ok: false, error: "channel_not_found" });
    if (!hasContent(args)) return api({ ok: false, error: "no_text" });
    const { token: _token, ...body } = args;
    messages.push({ via: "chat.postMessage", to: id, text: typeof args.text === "string" ? args.text : undefined, body });
    const ts = `${Math.floor(Date.now() / 1000)}.${String(messages.length).padStart(6, "0")}`;
    return api({ ok: true, channel: id, ts, message: { type: "message", subtype: "bot_message", text: args.text ?? "", ts } });
  };

  const server: ScriptedServer = await startScriptedServer([{ path: () => true, respond }]);
  const url = server.url;
  const register = (token?: string) => {
    const t = token ?? `T0000TEST/B0000TEST/${randomBytes(12).toString("hex")}`;
    webhooks.add(t);
    return t;
  };
  return {
    url,
    botToken,
    webhookUrl: (token) => `${url}/services/${register(token)}`,
    // The host without a scheme, and `schema: http`: Airflow's SlackWebhookHook builds the URL
    // from these (it ignores `port`), and the connection survives Airflow's get_uri().
    webhookConnection: (token) => ({ conn_type: "slackwebhook", host: `${url.replace(/^http:\/\//, "")}/services`, schema: "http", password: register(token) }),
    botConnection: () => ({ conn_type: "slack", password: botToken, extra: { base_url: `${url}/api/` } }),
    messages,
    get requests() {
      return server.requests;
    },
    script: (...more) => void failures.push(...more),
    close: () => server.close(),
  };
}

function failed(failure: SlackFailure, webApi: boolean): ScriptedResponse {
  if ("stall" in failure) return { stall: true };
  if ("rateLimited" in failure) {
    const headers = { "retry-after": String(failure.rateLimited) };
    return webApi ? { status: 429, headers, body: { ok: false, error: "ratelimited" } } : { status: 429, headers, body: "rate_limited" };
  }
  if ("serverError" in failure) return webApi ? { status: failure.serverError, body: "" } : text(failure.serverError, failure.serverError === 500 ? "rollup_error" : "");
  if (webApi) return failure.status ? { status: failure.status, body: { ok: false, error: failure.error } } : api({ ok: false, error: failure.error });
  return text(failure.status ?? WEBHOOK_ERROR_STATUS[failure.error] ?? 400, failure.error);
}

function text(status: number, body: string): ScriptedResponse {
  return { status, headers: { "content-type": "text/html" }, body };
}

function api(body: Record<string, unknown>): ScriptedResponse {
  return { status: 200, body };
}

function contentType(request: RecordedRequest): string {
  return String(request.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
}

/** The arguments of a request: a JSON object, or form fields (a webhook's `payload` field holds JSON). */
function readBody(request: RecordedRequest, kind: "webhook" | "web"): Record<string, unknown> | undefined {
  const type = contentType(request);
  let raw: unknown;
  try {
    if (type === "application/x-www-form-urlencoded") {
      const form = Object.fromEntries(new URLSearchParams(request.body));
      raw = kind === "webhook" ? JSON.parse(form.payload ?? "") : form;
    } else if (type === "application/json" || kind === "webhook") {
      raw = JSON.parse(request.body);
    } else {
      return undefined;
    }
  } catch {
    return undefined;
  }
  return typeof raw === "object" && raw !== null && !Array.isArray(raw) ? (raw as Record<string, unknown>) : undefined;
}

/** Slack wants `text`, or blocks or attachments (given as arrays or, in form fields, as JSON text). */
function hasContent(args: Record<string, unknown>): boolean {
  const nonEmpty = (v: unknown) => {
    if (typeof v === "string") {
      try {
        const parsed: unknown = JSON.parse(v);
        if (Array.isArray(parsed)) return parsed.length > 0;
      } catch {
        // plain text
      }
      return v.trim() !== "";
    }
    return Array.isArray(v) && v.length > 0;
  };
  return (typeof args.text === "string" && args.text.trim() !== "") || nonEmpty(args.blocks) || nonEmpty(args.attachments);
}
