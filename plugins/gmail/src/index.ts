import { definePlugin, type XoPlugin } from "@xo-foundry/core";
import { GMAIL_ERRORS } from "./errors.js";
import { gmailSource } from "./source.js";
import { VERSION } from "./version.js";

export { gmailSource } from "./source.js";
export { GMAIL_ERRORS, GmailError, type GmailErrorCode } from "./errors.js";
export { GMAIL_READONLY_SCOPE, GMAIL_ROOT_URL, sourceOptions, streamOptions, type SourceOptions, type StreamOptions } from "./options.js";
export type { MessageRecord } from "./message-record.js";

/** The Gmail plugin: provides the `gmail` source. */
export function gmail(): XoPlugin {
  return definePlugin({ name: "@xo-foundry/plugin-gmail", version: VERSION, sources: [gmailSource], errors: GMAIL_ERRORS });
}
