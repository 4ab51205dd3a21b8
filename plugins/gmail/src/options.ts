/**
 * The options a user writes in YAML. The core spreads each schema's `shape` into a strict
 * object and applies refinements after it, so the stream schema is one flat object: keys of
 * the other `content` are optional in its shape, and the refinement refuses the combinations
 * that make no sense, each at the key to fix (validate-config reports it with its line).
 */
import { z } from "zod";

/** Google's production API host; `root_url` replaces it for a proxy or a test server. */
export const GMAIL_ROOT_URL = "https://gmail.googleapis.com/";

/** The one scope the plugin asks for: read messages, labels and history, never modify. */
export const GMAIL_READONLY_SCOPE = "https://www.googleapis.com/auth/gmail.readonly";

/** Gmail's own limit for attachments on a sent message (25 MB); larger files arrive as Drive links. */
const DEFAULT_MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024;

export const FORMATS = ["csv", "ndjson", "json", "parquet"] as const;

export const sourceOptions = z.object({
  user_id: z
    .string()
    .min(1)
    .default("me")
    .describe("The mailbox: `me` (the connection's user, or `subject` with domain-wide delegation) or that user's email address."),
  subject: z
    .email()
    .optional()
    .describe("With a service-account key: the user to act as (domain-wide delegation). Required to read a Workspace mailbox with a service account."),
  root_url: z
    .url({ protocol: /^https?$/ })
    .optional()
    .describe(`Where Gmail API requests go; set it (or the connection's host) only for a proxy or a test server. Default: the connection's host when it has one, else ${GMAIL_ROOT_URL}.`),
  token_url: z
    .url({ protocol: /^https?$/ })
    .optional()
    .describe("OAuth 2 token endpoint; default: the service-account key's `token_uri`, else https://oauth2.googleapis.com/token."),
  max_results: z
    .number()
    .int()
    .min(1)
    .max(500)
    .default(100)
    .describe("Message ids per `messages.list` page (Gmail's maximum is 500); one page of messages is in memory at a time."),
  concurrency: z
    .number()
    .int()
    .min(1)
    .max(50)
    .default(8)
    .describe("Messages fetched at the same time. Gmail limits concurrent requests per user; raise it with care."),
  timeout_ms: z.number().int().min(1000).max(600_000).default(60_000).describe("Longest wait for one Gmail API response, in milliseconds."),
  max_retries: z.number().int().min(0).max(20).default(6).describe("Retries after rate limits (429, 403 rateLimitExceeded), 5xx, timeouts and network errors."),
  backoff_ms: z
    .number()
    .int()
    .min(0)
    .max(30_000)
    .default(1_000)
    .describe("First retry delay in milliseconds, doubled on each retry (with jitter) up to 60 s; a `Retry-After` from Gmail wins."),
});

const attachmentFilter = z
  .strictObject({
    filename: z
      .string()
      .min(1)
      .optional()
      .describe("Glob on the attachment's file name, case-insensitive (`*.csv`, `report_*.csv`)."),
    mime_types: z
      .array(z.string().regex(/^[\w.+-]+\/(?:[\w.+-]+|\*)$/, "a MIME type such as `text/csv` or `text/*`"))
      .min(1)
      .optional()
      .describe("MIME types to keep (`text/csv`, `text/*`); parameters such as `; charset=` are ignored."),
    max_bytes: z
      .number()
      .int()
      .positive()
      .default(DEFAULT_MAX_ATTACHMENT_BYTES)
      .describe("Larger attachments are skipped with a warning. Default 25 MiB, Gmail's attachment limit."),
  })
  .describe("Which attachments to land (`content: attachments`).");

export const streamOptions = z
  .object({
    content: z
      .enum(["messages", "attachments"])
      .default("messages")
      .describe("`messages`: one record per message. `attachments`: each selected attachment landed as a file."),
    labels: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe("Label names or ids (`Vendors`, `INBOX`, `Label_12`); a message must carry all of them."),
    query: z
      .string()
      .trim()
      .min(1)
      .optional()
      .describe("A Gmail search query (`from:billing@vendor.example has:attachment`); the run's window is added to it."),
    include_body: z.boolean().default(false).describe("`content: messages`: add `body`, the message's text/plain part."),
    include_spam_trash: z.boolean().default(false).describe("Also read messages in Spam and Trash."),
    attachments: attachmentFilter.optional(),
    load_attachments_as: z
      .enum(FORMATS)
      .optional()
      .describe("`content: attachments`: the format the loader reads the files as (required there)."),
    incremental: z
      .enum(["window", "history"])
      .default("window")
      .describe("`window`: the messages of the run's data window. `history`: the messages added since the last successful run (Gmail history ids)."),
  })
  .superRefine((stream, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: "custom", path: [path], message });
    if (stream.content === "attachments") {
      if (stream.load_attachments_as === undefined) issue("load_attachments_as", "`load_attachments_as` is required with content: attachments (csv, ndjson, json or parquet; with mode: ingest_only it is only recorded with the files)");
      if (stream.include_body) issue("include_body", "`include_body` belongs to content: messages");
    } else {
      if (stream.attachments !== undefined) issue("attachments", "`attachments` belongs to content: attachments");
      if (stream.load_attachments_as !== undefined) issue("load_attachments_as", "`load_attachments_as` belongs to content: attachments");
    }
    // Gmail's search index lags behind its history, so a query applied to just-added messages
    // could miss some for good once the history id has moved on. A label set by a Gmail filter
    // is applied on delivery, so history can select by it exactly.
    if (stream.incremental === "history" && stream.query !== undefined) {
      issue("query", "`query` cannot be used with incremental: history; make a Gmail filter that applies a label for this query and select the label with `labels`");
    }
  });

export type SourceOptions = z.output<typeof sourceOptions>;
export type StreamOptions = z.output<typeof streamOptions>;
export type AttachmentFilter = z.output<typeof attachmentFilter>;
export type LandedFormat = (typeof FORMATS)[number];

/** The stream block, parsed and defaulted; a bad block fails with every problem and its key. */
export function parseStream(raw: unknown): StreamOptions {
  // Undefined keys come from the flat schema the core composed; zod's strict attachments object does not want them.
  const clean = Object.fromEntries(Object.entries((raw ?? {}) as Record<string, unknown>).filter(([, v]) => v !== undefined));
  const result = streamOptions.safeParse(clean);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${i.path.join(".") || "stream"}: ${i.message}`);
  throw new Error(`invalid gmail stream options: ${problems.join("; ")}`);
}
