/**
 * Slack failures a user can cause or fix, with stable codes. The plugin declares this
 * catalog as its `errors`, so the core reports the codes as they are and `xo-foundry
 * plugins` explains them. Messages pass core's redactor (PluginError) and never quote a
 * webhook URL or a request's headers, where the token travels.
 */
import { PluginError } from "@xo-foundry/core";

/** Every code with what it means and the fix; the codes are the keys, so none exists without its text. */
export const SLACK_ERRORS = {
  SLACK_CONNECTION_INVALID:
    "The alert's connection cannot be used: it holds no token (the webhook URL or its part after /services/, or the bot token, goes in the password), the URL built from it is not one, or it is of the other kind than the alert needs (`channel` set: a `slack` connection with a bot token; no `channel`: a `slackwebhook` connection).",
  SLACK_REFUSED:
    "Slack refused the message (a 4xx answer of an incoming webhook, or `ok: false` from chat.postMessage). The message names Slack's error code and what to change: usually a revoked webhook or token, a channel that does not exist, is archived or does not have the bot, or a missing `chat:write` scope.",
  SLACK_UNAVAILABLE:
    "Slack kept failing (429 rate limits, 5xx, timeouts or network errors) through every attempt, or asked to wait longer than an alert may. The alert is lost for this event; check that this machine reaches the connection's host, and Slack's status page.",
} as const satisfies Readonly<Record<`SLACK_${string}`, string>>;

export type SlackErrorCode = keyof typeof SLACK_ERRORS;

/** A failure with a code from the catalog; `slackError` is Slack's own code (`no_service`, `channel_not_found`) when it gave one. */
export class SlackError extends PluginError<SlackErrorCode> {
  override readonly name = "SlackError";
  constructor(
    code: SlackErrorCode,
    message: string,
    hint: string,
    readonly slackError?: string,
    readonly status?: number,
  ) {
    super(code, message, hint);
  }
}
