/**
 * The `gmail` source: messages selected by labels and a search query, as records or as their
 * attachments landed as files, read for the run's window or, with `incremental: history`, for
 * what was added since the last successful run.
 */
import {
  connectionBaseUrl,
  describeConnection,
  oauth2GrantFromConnection,
  oauth2TokenSource,
  redact,
  type ExtractBatch,
  type ExtractContext,
  type JsonObject,
  type Logger,
  type SourceDefinition,
} from "@xo-foundry/core";
import { attachmentSelector } from "./attachment-filter.js";
import { GmailError } from "./errors.js";
import { createGmailApi, type GmailApi } from "./gmail-api.js";
import { labelIndex, resolveLabels } from "./labels.js";
import { GMAIL_READONLY_SCOPE, GMAIL_ROOT_URL, parseStream, sourceOptions, streamOptions, type SourceOptions, type StreamOptions } from "./options.js";
import { attachmentBatches, recordBatches, type MessageRules } from "./read-messages.js";
import { historySteps, windowPages } from "./sync.js";
import { windowBounds } from "./window.js";

export const gmailSource: SourceDefinition<SourceOptions, StreamOptions> = {
  id: "gmail",
  description:
    "Reads a Gmail mailbox through the Gmail API: messages selected by labels and a search query, as records or as their attachments landed as files, for the run's window or incrementally by Gmail history id.",
  options: sourceOptions,
  stream: streamOptions,
  connection: "required",
  extract,
};

async function* extract(ctx: ExtractContext<SourceOptions, StreamOptions>): AsyncGenerator<ExtractBatch, void, undefined> {
  try {
    // Parsing again is idempotent for validated configs and applies defaults when a caller passes raw options.
    const options = sourceOptions.parse(ctx.options);
    const stream = parseStream(ctx.streamOptions);
    const where = describeConnection(ctx.connection?.id ?? ctx.pipeline.sources[ctx.source]?.connection);
    if (!ctx.connection) {
      throw new GmailError(
        "GMAIL_CONNECTION_MISSING",
        "the gmail source has no connection",
        `set \`connection:\` in the source block and define ${where} with a service-account key (extra.keyfile_dict) or an OAuth client and refresh token`,
      );
    }
    const grant = oauth2GrantFromConnection(ctx.connection, { scopes: [GMAIL_READONLY_SCOPE], subject: options.subject, tokenUrl: options.token_url });
    const api = createGmailApi({
      rootUrl: options.root_url ?? connectionBaseUrl(ctx.connection)?.href ?? GMAIL_ROOT_URL,
      userId: options.user_id,
      tokens: oauth2TokenSource(grant, { connection: ctx.connection.id, log: ctx.log }),
      signal: ctx.signal,
      log: ctx.log,
      timeoutMs: options.timeout_ms,
      maxRetries: options.max_retries,
      backoffMs: options.backoff_ms,
      connectionHint: where,
    });
    yield* extractStream(ctx, api, options, stream);
  } catch (e) {
    // Messages can quote Gmail's answers, which can echo a credential back.
    if (e instanceof Error && !ctx.signal.aborted) {
      const safe = redact(e.message);
      if (safe !== e.message) e.message = safe;
    }
    throw e;
  }
}

/** How one stream reads: the messages' batches for a page of ids, and a sync of the run's window. */
interface Reader {
  readonly labelIds: readonly string[];
  readonly includeSpamTrash: boolean;
  batches(ids: readonly string[], rules: MessageRules): AsyncGenerator<ExtractBatch, void, undefined>;
  windowSync(): AsyncGenerator<ExtractBatch, void, undefined>;
}

async function* extractStream(ctx: ExtractContext<SourceOptions, StreamOptions>, api: GmailApi, options: SourceOptions, stream: StreamOptions): AsyncGenerator<ExtractBatch, void, undefined> {
  const allLabels = await api.labels();
  const labelIds = stream.labels ? resolveLabels(stream.labels, allLabels, options.subject ?? options.user_id) : [];
  // Asking for the Spam or Trash label is asking for what is in them.
  const includeSpamTrash = stream.include_spam_trash || labelIds.includes("SPAM") || labelIds.includes("TRASH");
  const common = { api, labels: labelIndex(allLabels), concurrency: options.concurrency, log: ctx.log };
  const bounds = windowBounds(ctx.window);
  const reader: Reader = {
    labelIds,
    includeSpamTrash,
    batches: (ids, rules) =>
      stream.content === "attachments"
        ? // parseStream requires load_attachments_as with content: attachments.
          attachmentBatches(ids, rules, { ...common, select: attachmentSelector(stream.attachments), format: stream.load_attachments_as! })
        : recordBatches(ids, rules, { ...common, includeBody: stream.include_body }),
    async *windowSync() {
      const rules: MessageRules = { bounds, labelIds, includeSpamTrash };
      const sync = { userQuery: stream.query, labelIds, bounds, maxResults: options.max_results, includeSpamTrash };
      for await (const ids of windowPages(api, sync)) yield* reader.batches(ids, rules);
    },
  };
  if (stream.incremental === "window") {
    yield* reader.windowSync();
  } else {
    yield* historySync(ctx, api, reader, options.max_results);
  }
}

/**
 * `incremental: history`: the messages added since the saved history id, then the new id. With
 * no saved id, or one Gmail no longer has, a full sync of the window records where to start.
 */
async function* historySync(ctx: ExtractContext<SourceOptions, StreamOptions>, api: GmailApi, reader: Reader, maxResults: number): AsyncGenerator<ExtractBatch, void, undefined> {
  if (ctx.strategy === "full_refresh") {
    ctx.log.warn("incremental: history reads only the messages added since the last run, but load_strategy full_refresh replaces the table with each run's files; use load_strategy incremental");
  }
  const startHistoryId = savedHistoryId(ctx.state, ctx.log);
  if (startHistoryId !== undefined) {
    const rules: MessageRules = { labelIds: reader.labelIds, includeSpamTrash: reader.includeSpamTrash };
    for await (const step of historySteps(api, { startHistoryId, labelId: reader.labelIds[0], maxResults })) {
      switch (step.kind) {
        case "messages":
          yield* reader.batches(step.ids, rules);
          break;
        case "caught-up":
          yield { type: "state", state: { history_id: step.historyId } };
          return;
        case "expired":
          ctx.log.warn(
            `Gmail no longer has the mailbox history after ${startHistoryId} (HTTP 404); doing a full sync of the run's window ${ctx.window.start} .. ${ctx.window.end}. ` +
              "Messages that arrived between the last successful run and the window's start are not read: backfill them with a window-mode run if they matter",
          );
          break;
      }
    }
  }
  // The history id is read before the listing, so a message that arrives during it is read again
  // by the next run rather than missed: at least once, never less (deduplicate on `id`).
  const profile = await api.profile();
  if (!profile.historyId) throw new GmailError("GMAIL_REQUEST_REJECTED", "Gmail's profile of the mailbox carries no historyId", "check `root_url`: this is not Gmail's answer");
  yield* reader.windowSync();
  yield { type: "state", state: { history_id: profile.historyId } };
}

/** The history id a previous run saved; anything else is reported and ignored (a full sync follows). */
function savedHistoryId(state: JsonObject | undefined, log: Logger): string | undefined {
  const value = state?.history_id;
  if (value === undefined) return undefined;
  if (typeof value === "string" && /^\d+$/.test(value)) return value;
  if (typeof value === "number" && Number.isSafeInteger(value) && value > 0) return String(value);
  log.warn(`the stream's saved state has no usable history_id (${JSON.stringify(value)}); doing a full sync`);
  return undefined;
}
