import { definePlugin, type XoPlugin } from "@xo-foundry/core";
import { SLACK_ERRORS } from "./errors.js";
import { slackNotifier } from "./notifier.js";
import { VERSION } from "./version.js";

export { slackNotifier, slackOptions, type SlackOptions } from "./notifier.js";
export { SLACK_ERRORS, SlackError, type SlackErrorCode } from "./errors.js";
export { escapeLinkUrl, escapeMrkdwn, slackText, slackTextTemplate } from "./message.js";
export { botTarget, webhookTarget, type BotTarget, type WebhookTarget } from "./connection.js";

/** Slack: the `slack` alert channel (incoming webhooks, or a bot token and a channel). */
export function slack(): XoPlugin {
  return definePlugin({ name: "@xo-foundry/plugin-slack", version: VERSION, notifiers: [slackNotifier()], errors: SLACK_ERRORS });
}
