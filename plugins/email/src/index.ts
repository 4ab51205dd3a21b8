import { definePlugin, type XoPlugin } from "@xo-foundry/core";
import { EMAIL_ERRORS } from "./errors.js";
import { emailNotifier } from "./notifier.js";
import { VERSION } from "./version.js";

export { emailNotifier, emailOptions, type EmailOptions } from "./notifier.js";
export { EMAIL_ERRORS, EmailError, type EmailErrorCode } from "./errors.js";
export { emailContent, escapeHtml, htmlTemplate, type EmailContent } from "./message.js";
export { smtpTarget, type SmtpTarget } from "./smtp.js";

/** Email: the `email` alert channel, through an SMTP server. */
export function email(): XoPlugin {
  return definePlugin({ name: "@xo-foundry/plugin-email", version: VERSION, notifiers: [emailNotifier()], errors: EMAIL_ERRORS });
}
