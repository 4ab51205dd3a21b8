/**
 * The Gmail API calls the source makes, through googleapis' own generated client
 * (`@googleapis/gmail`), each with a bearer token from core's OAuth 2 helper. The client's
 * retries are off (`retry: false`): this module retries itself, so every call backs off the
 * same way, honours `Retry-After`, fetches a new token once after a 401, and fails with a
 * coded error that says what to fix. Nothing from a request (its headers hold the token)
 * reaches a message.
 */
import { STATUS_CODES } from "node:http";
import type { gmail_v1 } from "@googleapis/gmail";
import { backoffDelay, parseRetryAfter, redact, sleep, type AccessTokenSource, type Logger } from "@xo-foundry/core";
import { GmailError } from "./errors.js";
import { failureOf, isRetryable, QUOTA_REASONS, RATE_LIMIT_REASONS, type Failure } from "./google-error.js";
import { GMAIL_READONLY_SCOPE } from "./options.js";

/** Longest wait between two attempts computed from `backoff_ms`. */
export const MAX_BACKOFF_MS = 60_000;

/** Longest `Retry-After` honoured: a task sleeping longer holds an Airflow worker slot for nothing. */
export const MAX_RETRY_AFTER_MS = 120_000;

export type Message = gmail_v1.Schema$Message;
export type MessagePart = gmail_v1.Schema$MessagePart;
export type Label = gmail_v1.Schema$Label;

export interface GmailApiOptions {
  readonly rootUrl: string;
  readonly userId: string;
  readonly tokens: AccessTokenSource;
  readonly signal: AbortSignal;
  readonly log: Logger;
  readonly timeoutMs: number;
  readonly maxRetries: number;
  readonly backoffMs: number;
  /** Where the credentials live, e.g. `connection "ops_mailbox" (XO_CONN_OPS_MAILBOX)`. */
  readonly connectionHint: string;
  /** For tests: the jitter source. */
  readonly random?: () => number;
}

export interface MessagePageRequest {
  readonly q?: string | undefined;
  readonly labelIds?: readonly string[] | undefined;
  readonly maxResults: number;
  readonly pageToken?: string | undefined;
  readonly includeSpamTrash: boolean;
}

export interface HistoryPageRequest {
  readonly startHistoryId: string;
  readonly labelId?: string | undefined;
  readonly maxResults: number;
  readonly pageToken?: string | undefined;
}

export interface GmailApi {
  profile(): Promise<gmail_v1.Schema$Profile>;
  labels(): Promise<Label[]>;
  listMessages(page: MessagePageRequest): Promise<gmail_v1.Schema$ListMessagesResponse>;
  /** Undefined when the message is gone (deleted since it was listed). */
  getMessage(id: string, format: "full" | "metadata", metadataHeaders?: readonly string[]): Promise<Message | undefined>;
  getAttachment(messageId: string, attachmentId: string): Promise<gmail_v1.Schema$MessagePartBody>;
  /** `expired` when Gmail no longer has history from `startHistoryId` (HTTP 404): a full sync is due. */
  listHistory(page: HistoryPageRequest): Promise<gmail_v1.Schema$ListHistoryResponse | "expired">;
}

/** The options every call passes to the generated client's methods. */
interface CallOptions {
  readonly retry: false;
  readonly headers: { readonly Authorization: string };
  readonly signal: AbortSignal;
}

interface ApiRequest {
  /** The method as Gmail's reference names it: `users.messages.list`. */
  readonly method: string;
  /** What the call is for, in messages: `page 3 of the messages of stream vendor_invoices`. */
  readonly what: string;
  /** For an HTTP 400: the error that names the option to fix, when it is not a generic refusal. */
  readonly rejected?: (failure: Extract<Failure, { kind: "http" }>) => GmailError | undefined;
}

type Outcome<T> = { readonly ok: true; readonly data: T } | { readonly ok: false; readonly failure: Failure; readonly attempts: number };

// The generated client and its HTTP stack load on the first call: every CLI command discovers
// plugins, and most of them (validate, generate) make no request.
let clientModule: Promise<typeof import("@googleapis/gmail")> | undefined;
const loadClient = () => (clientModule ??= import("@googleapis/gmail"));

export function createGmailApi(options: GmailApiOptions): GmailApi {
  let client: Promise<gmail_v1.Gmail> | undefined;
  const gmailClient = () => (client ??= loadClient().then(({ gmail }) => gmail({ version: "v1", rootUrl: options.rootUrl })));
  const random = options.random ?? Math.random;
  const userId = options.userId;

  async function call<T>(request: ApiRequest, send: (gmail: gmail_v1.Gmail, callOptions: CallOptions) => Promise<{ data: T }>): Promise<Outcome<T>> {
    const gmail = await gmailClient();
    let retries = 0;
    let refreshed = false;
    for (;;) {
      options.signal.throwIfAborted();
      const token = await options.tokens.token(options.signal);
      // Our own timeout rather than the client's: its abort error does not say that it was a timeout.
      const timeout = AbortSignal.timeout(options.timeoutMs);
      try {
        const response = await send(gmail, { retry: false, headers: { Authorization: `Bearer ${token}` }, signal: AbortSignal.any([options.signal, timeout]) });
        return { ok: true, data: response.data };
      } catch (e) {
        // The client wraps an abort in its own error; the runtime wants the signal's reason.
        options.signal.throwIfAborted();
        const failure: Failure = timeout.aborted ? { kind: "timeout" } : failureOf(e);
        // A token can expire or be revoked before the cache thinks so: one fresh token, then give up.
        if (failure.kind === "http" && failure.status === 401 && !refreshed) {
          refreshed = true;
          options.tokens.invalidate(token);
          options.log.info(`${request.method} (${request.what}): Gmail refused the access token; fetching a new one`);
          continue;
        }
        if (!isRetryable(failure) || retries >= options.maxRetries) return { ok: false, failure, attempts: retries + 1 };
        retries++;
        const delay = retryDelay(failure, retries, options.backoffMs, random);
        options.log.warn(redact(`${request.method} (${request.what}) ${describe(failure, options.timeoutMs)}; retry ${retries} of ${options.maxRetries} in ${delay} ms`));
        await sleep(delay, options.signal);
      }
    }
  }

  async function required<T>(request: ApiRequest, send: (gmail: gmail_v1.Gmail, callOptions: CallOptions) => Promise<{ data: T }>): Promise<T> {
    const outcome = await call(request, send);
    if (outcome.ok) return outcome.data;
    throw toError(outcome.failure, request, outcome.attempts, options);
  }

  return {
    profile: () => required({ method: "users.getProfile", what: "the mailbox's current history id" }, (g, o) => g.users.getProfile({ userId }, o)),

    async labels() {
      const data = await required({ method: "users.labels.list", what: "the mailbox's labels" }, (g, o) => g.users.labels.list({ userId }, o));
      return data.labels ?? [];
    },

    listMessages: (page) =>
      required(
        {
          method: "users.messages.list",
          what: `messages matching ${JSON.stringify(page.q ?? "")}${page.labelIds?.length ? ` with labels ${page.labelIds.join(", ")}` : ""}`,
          rejected: (f) =>
            page.q === undefined
              ? undefined
              : new GmailError(
                  "GMAIL_QUERY_INVALID",
                  `Gmail refused the search query ${JSON.stringify(page.q)} (HTTP 400${f.reason ? ` ${f.reason}` : ""}: ${f.message})`,
                  "fix the stream's `query`: it takes the operators of the Gmail search box (from:, subject:, has:attachment, label:, ...); the `after:`/`before:` at its end are the run's window, added by the plugin",
                  f.status,
                  f.reason,
                ),
        },
        (g, o) =>
          g.users.messages.list(
            {
              userId,
              maxResults: page.maxResults,
              includeSpamTrash: page.includeSpamTrash,
              ...(page.q !== undefined ? { q: page.q } : {}),
              ...(page.labelIds?.length ? { labelIds: [...page.labelIds] } : {}),
              ...(page.pageToken !== undefined ? { pageToken: page.pageToken } : {}),
            },
            o,
          ),
      ),

    async getMessage(id, format, metadataHeaders) {
      const request = { method: "users.messages.get", what: `message ${id}` };
      const outcome = await call(request, (g, o) =>
        g.users.messages.get({ userId, id, format, ...(format === "metadata" && metadataHeaders ? { metadataHeaders: [...metadataHeaders] } : {}) }, o),
      );
      if (outcome.ok) return outcome.data;
      if (outcome.failure.kind === "http" && outcome.failure.status === 404) return undefined;
      throw toError(outcome.failure, request, outcome.attempts, options);
    },

    getAttachment: (messageId, attachmentId) =>
      required({ method: "users.messages.attachments.get", what: `an attachment of message ${messageId}` }, (g, o) =>
        g.users.messages.attachments.get({ userId, messageId, id: attachmentId }, o),
      ),

    async listHistory(page) {
      const request = { method: "users.history.list", what: `the mailbox history after ${page.startHistoryId}` };
      const outcome = await call(request, (g, o) =>
        g.users.history.list(
          {
            userId,
            startHistoryId: page.startHistoryId,
            historyTypes: ["messageAdded"],
            maxResults: page.maxResults,
            ...(page.labelId !== undefined ? { labelId: page.labelId } : {}),
            ...(page.pageToken !== undefined ? { pageToken: page.pageToken } : {}),
          },
          o,
        ),
      );
      if (outcome.ok) return outcome.data;
      // users.history.list: "Supplying an invalid or out of date startHistoryId typically returns an HTTP 404".
      if (outcome.failure.kind === "http" && outcome.failure.status === 404) return "expired";
      throw toError(outcome.failure, request, outcome.attempts, options);
    },
  };
}

/** The wait before retry number `retry` (1-based): Gmail's Retry-After when it sent one, else backoff. */
function retryDelay(failure: Failure, retry: number, backoffMs: number, random: () => number): number {
  const after = failure.kind === "http" ? parseRetryAfter(failure.retryAfter) : undefined;
  return after !== undefined ? Math.min(after, MAX_RETRY_AFTER_MS) : backoffDelay(retry - 1, backoffMs, MAX_BACKOFF_MS, random);
}

function describe(failure: Failure, timeoutMs: number): string {
  switch (failure.kind) {
    case "timeout":
      return `got no response within ${timeoutMs} ms`;
    case "network":
      return `failed: ${failure.detail}`;
    case "http":
      return `failed with HTTP ${failure.status}${STATUS_CODES[failure.status] ? ` ${STATUS_CODES[failure.status]}` : ""}${failure.reason ? ` (${failure.reason})` : ""}: ${failure.message}`;
  }
}

function toError(failure: Failure, request: ApiRequest, attempts: number, options: GmailApiOptions): GmailError {
  const tries = attempts > 1 ? ` after ${attempts} attempts` : "";
  const head = `${request.method} (${request.what}) ${describe(failure, options.timeoutMs)}${tries}`;
  if (failure.kind !== "http") {
    return new GmailError("GMAIL_UNAVAILABLE", head, `check \`root_url\` (${options.rootUrl}) and that it is reachable from this machine; re-run the task if Gmail was briefly unavailable`);
  }
  const { status, reason } = failure;
  const fail = (code: ConstructorParameters<typeof GmailError>[0], hint: string) => new GmailError(code, head, hint, status, reason);
  if (status === 400) {
    const specific = request.rejected?.(failure);
    if (specific) return specific;
    if (reason === "failedPrecondition" || failure.googleStatus === "FAILED_PRECONDITION") {
      return fail("GMAIL_MAILBOX_UNAVAILABLE", "a service account has no mailbox of its own: set `subject` to the user to act as (domain-wide delegation), or check that this user has Gmail turned on");
    }
    return fail("GMAIL_REQUEST_REJECTED", "check the stream's options against Gmail's message above");
  }
  if (status === 401) {
    return fail(
      "GMAIL_UNAUTHENTICATED",
      `Gmail refused a freshly issued token for ${options.connectionHint}: check that the Gmail API is enabled in the Google Cloud project of its OAuth client or service account`,
    );
  }
  if (status === 403) {
    if (reason !== undefined && RATE_LIMIT_REASONS.has(reason)) return rateLimited(fail);
    if (reason !== undefined && QUOTA_REASONS.has(reason)) {
      return fail("GMAIL_QUOTA_EXCEEDED", "the Google Cloud project's Gmail API quota is used up: raise it in the console (APIs & Services > Gmail API > Quotas) or re-run after it resets");
    }
    return fail("GMAIL_PERMISSION_DENIED", permissionHint(failure, options));
  }
  if (status === 404) return fail("GMAIL_NOT_FOUND", `check \`user_id\` (${JSON.stringify(options.userId)}): use \`me\` or the address of the mailbox the credentials act as`);
  if (status === 429) return rateLimited(fail);
  if (status >= 500) return fail("GMAIL_UNAVAILABLE", "Gmail kept failing: re-run the task later, or raise `max_retries` if the failures are brief");
  return fail("GMAIL_REQUEST_REJECTED", "see Gmail's message above");
}

function rateLimited(fail: (code: "GMAIL_RATE_LIMITED", hint: string) => GmailError): GmailError {
  return fail("GMAIL_RATE_LIMITED", "lower `concurrency`, run fewer Gmail tasks for this mailbox at once (an Airflow pool), or raise `max_retries`/`backoff_ms`");
}

function permissionHint(failure: Extract<Failure, { kind: "http" }>, options: GmailApiOptions): string {
  const text = `${failure.reason ?? ""} ${failure.message}`;
  if (/Delegation denied/i.test(text)) {
    return `\`user_id\` ${JSON.stringify(options.userId)} is not the mailbox these credentials act as: use \`me\`, or the address in \`subject\``;
  }
  if (/metadata scope/i.test(text)) {
    return `the grant of ${options.connectionHint} holds only gmail.metadata, which forbids search queries and message bodies: grant ${GMAIL_READONLY_SCOPE} instead`;
  }
  if (failure.reason === "domainPolicy") return "the Workspace administrator has disabled Gmail API access for this app: ask them to allow the OAuth client (Admin console > Security > API controls)";
  return (
    `the token of ${options.connectionHint} lacks ${GMAIL_READONLY_SCOPE} or may not read this mailbox: ` +
    "for a service account, authorize its client id for that scope under domain-wide delegation (Admin console > Security > API controls) and set `subject`; " +
    "for an OAuth client, authorize again with that scope and store the new refresh token in the connection"
  );
}
