/**
 * Email failures a user can cause or fix, with stable codes. The plugin declares this
 * catalog as its `errors`, so the core reports the codes as they are and `xo-foundry
 * plugins` explains them. Messages pass core's redactor (PluginError) and never quote the
 * SMTP password or an OAuth token.
 */
import { PluginError } from "@xo-foundry/core";

/** Every code with what it means and the fix; the codes are the keys, so none exists without its text. */
export const EMAIL_ERRORS = {
  EMAIL_CONNECTION_INVALID:
    "The alert's SMTP connection cannot be used: it has no host, an extra that is not what Airflow's SmtpHook expects (`timeout`, `ssl_context`, `auth_type`), or it asks for TLS the server does not speak (`disable_ssl` / `disable_tls` decide between SMTPS, STARTTLS and plain SMTP, as in Airflow).",
  EMAIL_NO_SENDER: "The alert has no sender: set `from` in its `email:` block, or `extra.from_email` in the connection (what Airflow's SmtpNotifier reads too).",
  EMAIL_REFUSED:
    "The mail server refused the alert with a permanent (5xx) reply: wrong credentials (535), authentication required (530), a sender or recipient it does not take (550, 553), a message too large (552). The message quotes the server's reply and names the fix.",
  EMAIL_UNAVAILABLE:
    "The mail server kept failing (temporary 4xx replies, timeouts, refused or dropped connections) through every attempt. The alert is lost for this event; check that this machine reaches the connection's host and port.",
} as const satisfies Readonly<Record<`EMAIL_${string}`, string>>;

export type EmailErrorCode = keyof typeof EMAIL_ERRORS;

/** A failure with a code from the catalog; `reply` is the server's SMTP reply code when it gave one. */
export class EmailError extends PluginError<EmailErrorCode> {
  override readonly name = "EmailError";
  constructor(
    code: EmailErrorCode,
    message: string,
    hint: string,
    readonly reply?: number,
  ) {
    super(code, message, hint);
  }
}
