/**
 * Where a Slack alert goes, read from the connection exactly as Airflow's Slack provider
 * reads it, so one connection serves the alerts xo-foundry sends and those of the
 * generated DAG:
 *
 * - an incoming webhook (`slackwebhook`, SlackWebhookHook): the password is the whole
 *   webhook URL, or its token (`T000/B000/XXXX`) appended to the host (by default
 *   `hooks.slack.com/services`; a host without `://` gets `schema` or `https` as its
 *   scheme). The port is not used: a port goes into the host.
 * - a bot token (`slack`, SlackHook): the password is the token; `extra.base_url` replaces
 *   `https://slack.com/api/`.
 *
 * Both read `extra.timeout` (seconds) and accept the `extra__<type>__<key>` spelling of
 * extras that Airflow's older connection forms wrote.
 */
import { describeConnection, registerSecret, type Connection } from "@xo-foundry/core";
import { SlackError } from "./errors.js";

export const DEFAULT_WEBHOOK_HOST = "hooks.slack.com/services";
export const DEFAULT_API_URL = "https://slack.com/api/";

export interface WebhookTarget {
  readonly url: URL;
  /** Seconds, from `extra.timeout`. */
  readonly timeoutSeconds?: number;
}

export interface BotTarget {
  readonly token: string;
  /** Ends with `/`: the client appends the method name. */
  readonly apiUrl: string;
  readonly timeoutSeconds?: number;
}

export function webhookTarget(connection: Connection): WebhookTarget {
  mustBeKind(connection, "slackwebhook", "slack", "an incoming webhook: drop `channel` from the alert's `slack:` block, or use a `slack` connection whose password is a bot token (xoxb-...)");
  const raw = connection.password ?? "";
  const token = raw.trim();
  if (!token) {
    throw invalid(connection, "has no password", "put the incoming webhook's URL, or its part after /services/, into the password");
  }
  if (/^xox[a-z]-/.test(token)) {
    throw invalid(connection, "holds a Slack API token, not an incoming webhook", "to post with the token, set `channel` in the alert's `slack:` block and make it a `slack` connection; otherwise put the webhook's URL into the password");
  }
  let href: string;
  if (raw.includes("://")) {
    href = token;
  } else {
    let base = connection.host ?? "";
    if (!base.includes("://")) base = `${connection.schema || "https"}://${connection.host || DEFAULT_WEBHOOK_HOST}`;
    href = `${base.replace(/\/+$/, "")}/${token.replace(/^\/+/, "")}`.replace(/\/+$/, "");
  }
  const url = parse(href);
  if (!url) {
    throw invalid(connection, "does not make a webhook URL from its host and password", "set the password to the whole webhook URL (https://hooks.slack.com/services/...), or the host to a URL such as https://hooks.slack.com/services");
  }
  // The URL is the credential: every spelling of it, and of its path, is masked.
  registerSecret(href);
  registerSecret(url.href);
  registerSecret(url.pathname);
  registerSecret(token);
  return withTimeout({ url }, connection, "slackwebhook");
}

export function botTarget(connection: Connection): BotTarget {
  mustBeKind(connection, "slack", "slackwebhook", "a bot token: `channel` needs a `slack` connection whose password is a bot token (xoxb-...); to post through an incoming webhook, drop `channel`");
  const token = connection.password;
  if (!token) throw invalid(connection, "has no password", "put the bot token (xoxb-...) into the password");
  registerSecret(token);
  const base = extra(connection, "slack", "base_url");
  let apiUrl = DEFAULT_API_URL;
  if (base !== undefined) {
    if (typeof base !== "string" || !parse(base)) {
      throw invalid(connection, "has an `extra.base_url` that is not an http(s) URL", "set it to Slack's Web API root, https://slack.com/api/, or remove it");
    }
    apiUrl = base.endsWith("/") ? base : `${base}/`;
  }
  return withTimeout({ token, apiUrl }, connection, "slack");
}

/** An extra as Airflow's ConnectionExtraConfig reads it: `key`, else the old `extra__<type>__key`; empty counts as unset. */
export function extra(connection: Connection, type: string, key: string): unknown {
  for (const name of [key, `extra__${type}__${key}`]) {
    const value = connection.extra[name];
    if (value !== undefined && value !== null && value !== "") return value;
  }
  return undefined;
}

function withTimeout<T extends object>(target: T, connection: Connection, type: string): T & { timeoutSeconds?: number } {
  const value = extra(connection, type, "timeout");
  if (value === undefined) return target;
  const seconds = Number(value);
  if (!Number.isInteger(seconds) || seconds <= 0) throw invalid(connection, "has an `extra.timeout` that is not a whole number of seconds", "set it to a number such as 10, or remove it");
  return { ...target, timeoutSeconds: seconds };
}

/** A connection of the other kind is a mistake, whatever Airflow would do with it: say which one is needed. */
function mustBeKind(connection: Connection, expected: string, other: string, fix: string): void {
  if (connection.type?.replace(/-/g, "").toLowerCase() === other) {
    throw invalid(connection, `is a \`${other}\` connection, but this alert posts through ${expected === "slack" ? "a bot token" : "an incoming webhook"}`, fix);
  }
}

function invalid(connection: Connection, what: string, fix: string): SlackError {
  return new SlackError("SLACK_CONNECTION_INVALID", `the Slack alert's ${describeConnection(connection.id)} ${what}`, fix);
}

function parse(href: string): URL | undefined {
  try {
    const url = new URL(href);
    return /^https?:$/.test(url.protocol) ? url : undefined;
  } catch {
    return undefined;
  }
}
