/**
 * Failures a user can cause or fix, with stable codes. The plugin declares this catalog as its
 * `errors`, so the core reports these codes as they are and `xo-foundry plugins` explains them.
 * Token endpoint failures are core's own (XO_OAUTH_REFUSED, XO_OAUTH_UNAVAILABLE) and pass
 * through unchanged.
 */
import { PluginError } from "@xo-foundry/core";

/** Every code with what it means and how to fix it. The codes are the keys, so a code cannot exist without its description. */
export const GMAIL_ERRORS = {
  GMAIL_LABEL_NOT_FOUND:
    "A label in the stream's `labels` is neither the name nor the id of a label of the mailbox. The message lists the labels that exist; names are matched exactly, then ignoring case. Nested labels are written with their parents: `Vendors/Invoices`.",
  GMAIL_QUERY_INVALID:
    "Gmail refused the search query (HTTP 400). Fix the stream's `query`: it takes the operators of the Gmail search box. The plugin adds `after:` and `before:` for the run's window itself.",
  GMAIL_PERMISSION_DENIED:
    "Gmail refused access (HTTP 403): the token lacks the gmail.readonly scope, a service account may not act for `subject` (domain-wide delegation in the Admin console), `user_id` names a mailbox the credentials cannot read, or the Workspace administrator blocked the app.",
  GMAIL_UNAUTHENTICATED:
    "Gmail refused the access token (HTTP 401) even after a new one was fetched. Check the connection's credentials and that the Gmail API is enabled in the Google Cloud project of the OAuth client or service account.",
  GMAIL_MAILBOX_UNAVAILABLE:
    "Gmail has no mailbox for these credentials (HTTP 400 failedPrecondition): a service account without `subject` has no Gmail of its own, or the user's Gmail service is turned off. Set `subject` to the user to act as.",
  GMAIL_NOT_FOUND: "Gmail answered 404 for something the stream needs (for example an unknown `user_id`). Check `user_id` and `subject`.",
  GMAIL_RATE_LIMITED:
    "Gmail kept answering with rate limits (429, or 403 rateLimitExceeded/userRateLimitExceeded) after every retry. Lower `concurrency`, run fewer Gmail tasks at once (an Airflow pool), or raise `max_retries`/`backoff_ms`.",
  GMAIL_QUOTA_EXCEEDED:
    "The Google Cloud project's Gmail API quota is used up (403 dailyLimitExceeded or quotaExceeded); retrying today will not help. Raise the quota in the Google Cloud console or wait for it to reset.",
  GMAIL_UNAVAILABLE: "Gmail kept failing (5xx, timeouts or network errors) after every retry. Re-run the task later; check `root_url` and the network if it never works.",
  GMAIL_REQUEST_REJECTED: "Gmail refused a request (HTTP 400) for a reason the message quotes. Check the stream's options against it.",
  GMAIL_CONNECTION_MISSING:
    "The gmail source needs a connection holding Google credentials: a service-account key in extra.keyfile_dict, or an OAuth client (login, password) with extra.refresh_token.",
} as const satisfies Readonly<Record<`GMAIL_${string}`, string>>;

export type GmailErrorCode = keyof typeof GMAIL_ERRORS;

/** A failure with a code from the catalog. Message and hint are redacted: they can quote Gmail's answers. */
export class GmailError extends PluginError<GmailErrorCode> {
  override readonly name = "GmailError";
  constructor(
    code: GmailErrorCode,
    message: string,
    hint: string,
    /** Set for failures Gmail answered: its HTTP status and its first `errors[].reason`. */
    readonly status?: number,
    readonly reason?: string,
  ) {
    super(code, message, hint);
  }
}
