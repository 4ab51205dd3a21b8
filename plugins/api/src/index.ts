import { definePlugin, type XoPlugin } from "@xo-foundry/core";
import { SEND_ERRORS } from "./errors.js";
import { CURSOR_ERRORS } from "./incremental.js";
import { WEBHOOK_ERRORS, webhookNotifier } from "./notify.js";
import { apiSend } from "./send.js";
import { apiSource } from "./source.js";
import { VERSION } from "./version.js";

export { apiSource } from "./source.js";
export { apiSend } from "./send.js";
export { ApiRequestError } from "./http.js";
export { CursorError } from "./incremental.js";
export { SEND_ERRORS, SendError, type SendErrorCode } from "./errors.js";
export { batchKey, type BatchIdentity } from "./idempotency.js";
export {
  sourceOptions,
  streamOptions,
  incrementalOptions,
  PLACEHOLDERS,
  type SourceOptions,
  type StreamOptions,
  type IncrementalOptions,
} from "./options.js";
export { sendOptions, type SendOptions } from "./send-options.js";
export { webhookNotifier, webhookOptions, webhookBody, WEBHOOK_ERRORS, WebhookError, type WebhookErrorCode, type WebhookOptions } from "./notify.js";

/** The REST API plugin: the `api` source, the `api.send` step and the `webhook` alert channel. */
export function api(): XoPlugin {
  return definePlugin({
    name: "@xo-foundry/plugin-api",
    version: VERSION,
    sources: [apiSource],
    steps: [apiSend],
    notifiers: [webhookNotifier()],
    errors: { ...CURSOR_ERRORS, ...SEND_ERRORS, ...WEBHOOK_ERRORS },
  });
}
