/**
 * What Slack's refusals mean and what fixes them, by Slack's own error codes: those of
 * incoming webhooks (https://api.slack.com/messaging/webhooks#handling_errors and
 * https://api.slack.com/changelog/2016-05-17-changes-to-errors-for-incoming-webhooks) and
 * those of chat.postMessage (https://api.slack.com/methods/chat.postMessage#errors).
 */
import { SlackError } from "./errors.js";

const NEW_WEBHOOK =
  "the webhook was removed, disabled or mistyped: create an incoming webhook in the Slack app's settings (Features > Incoming Webhooks) and put its URL, or its part after /services/, into the connection's password";
const NEW_TOKEN = "the token is wrong, revoked, or its app was uninstalled: copy the bot token (xoxb-...) from the Slack app's OAuth & Permissions page into the connection's password";
const OUR_MESSAGE = "Slack could not read the message xo-foundry sent; this is a bug in xo-foundry's Slack plugin, please report it with the alert's title";

/** Incoming webhook codes (and the Web API's, where they overlap) with their fix. */
const WEBHOOK_FIXES: Readonly<Record<string, string>> = {
  invalid_payload: OUR_MESSAGE,
  no_text: OUR_MESSAGE,
  too_many_attachments: OUR_MESSAGE,
  no_service: NEW_WEBHOOK,
  no_service_id: NEW_WEBHOOK,
  invalid_token: NEW_WEBHOOK,
  no_team: "the Slack workspace of the webhook no longer exists: create a webhook in the workspace that should get the alerts",
  team_disabled: "the Slack workspace of the webhook is disabled: create a webhook in the workspace that should get the alerts",
  user_not_found: NEW_WEBHOOK,
  channel_not_found: "the webhook's channel no longer exists: create a webhook for an existing channel and put its URL into the connection's password",
  channel_is_archived: "the webhook's channel is archived: unarchive it in Slack, or create a webhook for another channel and put its URL into the connection's password",
  action_prohibited: "a Slack admin restricts posting in the webhook's channel: ask them to allow the app, or create a webhook for another channel",
  posting_to_general_channel_denied: "only admins may post in the webhook's channel: create a webhook for another channel",
};

/** chat.postMessage codes with their fix. */
const WEB_API_FIXES: Readonly<Record<string, (channel: string) => string>> = {
  not_authed: () => "no token reached Slack: put the bot token (xoxb-...) into the connection's password",
  invalid_auth: () => NEW_TOKEN,
  account_inactive: () => NEW_TOKEN,
  token_revoked: () => NEW_TOKEN,
  token_expired: () => "the token expired (token rotation is on for the app): use a bot token that does not expire, or renew it in the connection",
  no_permission: (c) => `the app may not post in ${c}: invite it to the channel (\`/invite @app\`)`,
  missing_scope: () => "the token lacks the `chat:write` scope: add it under OAuth & Permissions, reinstall the app and copy the new token into the connection",
  not_allowed_token_type: () => "this kind of token cannot post messages: use the app's bot token (xoxb-...)",
  channel_not_found: (c) => `Slack knows no channel ${c} that the app can see: check \`channel\` (an ID such as C0123456789, or a name such as #data-alerts) and, for a private channel, invite the app`,
  not_in_channel: (c) => `the app is not a member of ${c}: invite it (\`/invite @app\` in the channel)`,
  is_archived: (c) => `${c} is archived: unarchive it, or set \`channel\` to another one`,
  restricted_action: (c) => `a workspace setting keeps the app from posting in ${c}: ask a Slack admin, or set \`channel\` to another one`,
  restricted_action_read_only_channel: (c) => `${c} is read-only: set \`channel\` to another one`,
  restricted_action_non_threadable_channel: (c) => `${c} does not take this message: set \`channel\` to another one`,
  ekm_access_denied: () => "Slack admins have suspended posting messages (Enterprise Key Management); ask them",
  msg_too_long: () => "the message is longer than Slack takes; shorten the error output that the alert quotes",
  no_text: () => OUR_MESSAGE,
  invalid_arguments: () => OUR_MESSAGE,
  invalid_blocks: () => OUR_MESSAGE,
};

/** An incoming webhook's refusal: its status and the code in its body. */
export function webhookRefusal(status: number, body: string, where: string, how = "incoming webhook"): SlackError {
  const code = /^[a-z][a-z0-9_]*$/.test(body) ? body : undefined;
  const said = code ? `HTTP ${status}, ${code}` : `HTTP ${status}${body ? `: ${snippet(body)}` : ""}`;
  const fix =
    (code && WEBHOOK_FIXES[code]) ??
    (status < 400
      ? "the connection's host answers, but not as Slack does: check the host, or the webhook URL in the password"
      : status === 401 || status === 403
        ? NEW_WEBHOOK
        : status === 404
          ? `${NEW_WEBHOOK}; if the connection has a host, check it`
          : "see Slack's documentation of this error");
  return new SlackError("SLACK_REFUSED", `Slack refused the alert through ${where} (${how}): ${said}`, fix, code, status);
}

/** chat.postMessage's `ok: false` answer. */
export function webApiRefusal(code: string, channel: string, where: string): SlackError {
  const fix = WEB_API_FIXES[code]?.(channel) ?? `see https://api.slack.com/methods/chat.postMessage#errors for \`${code}\``;
  return new SlackError("SLACK_REFUSED", `Slack refused the alert to ${channel} through ${where} (chat.postMessage): ${code}`, fix, code, 200);
}

function snippet(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > 200 ? `${flat.slice(0, 200)}...` : flat;
}
