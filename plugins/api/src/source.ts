/** The `api` source: one stream is one endpoint, read page by page, from a saved cursor on when it is incremental. */
import { redact, type ExtractBatch, type ExtractContext, type SourceDefinition } from "@xo-foundry/core";
import { requestClient } from "./client.js";
import { sourceOptions, streamOptions, type SourceOptions, type StreamOptions } from "./options.js";
import { CursorTracker, cursorStart } from "./incremental.js";
import { paginate } from "./pagination.js";
import { buildUrl, fillJson, fillPlaceholders, placeholderValues, queryParams, resolveBaseUrl } from "./urls.js";

export const apiSource: SourceDefinition<SourceOptions, StreamOptions> = {
  id: "api",
  description: "Reads JSON records from a REST API (GET, or POST with a JSON body): offset, page, cursor, next-URL or Link-header pagination, API key, Basic, bearer or OAuth 2 auth, retries and rate limits handled.",
  options: sourceOptions,
  stream: streamOptions,
  connection: "optional",
  extract,
};

async function* extract(ctx: ExtractContext<SourceOptions, StreamOptions>): AsyncGenerator<ExtractBatch, void, undefined> {
  try {
    // Parsing again is idempotent for validated configs and applies defaults when a caller passes raw options.
    const options = sourceOptions.parse(ctx.options);
    const stream = streamOptions.parse(ctx.streamOptions);
    const connectionId = ctx.connection?.id ?? ctx.pipeline.sources[ctx.source]?.connection;
    const client = requestClient(options, { connection: ctx.connection, connectionId, log: ctx.log, signal: ctx.signal, block: "the source block" });
    const base = resolveBaseUrl(options.base_url, ctx.connection, connectionId);

    const tracker = stream.incremental && new CursorTracker(stream.incremental, cursorStart(stream.incremental, ctx.state, ctx.stream.name), ctx.stream.name);
    if (tracker) ctx.log.info(tracker.describeStart(), { cursor: tracker.start });
    const values = placeholderValues(ctx.window, tracker?.start);

    let truncated = false;
    let records = 0;
    let pages = 0;
    for await (const page of paginate({
      pagination: stream.pagination,
      method: stream.method,
      ...(stream.body !== undefined ? { body: fillJson(stream.body, values) as Record<string, unknown> } : {}),
      first: buildUrl(base, fillPlaceholders(stream.path, values), queryParams(stream.params, values)),
      pageSize: options.page_size,
      maxPages: stream.max_pages,
      recordPath: stream.record_path,
      fetch: (request) => client.send(request),
      printUrl: (url) => client.printUrl(url),
      log: ctx.log,
      onMaxPages: () => (truncated = true),
    })) {
      pages++;
      // The filter makes the cursor correct for APIs that ignore (or lack) a "since" parameter.
      const kept = tracker ? tracker.keep(page) : page;
      records += kept.length;
      if (kept.length) yield { type: "records", records: kept };
    }
    const dropped = tracker?.dropped ?? 0;
    ctx.log.info(`read ${records} records in ${pages} page(s)${dropped ? `; dropped ${dropped} older than the cursor` : ""}`, { records, pages, dropped });
    // Last, after every page: the runtime saves it only once these records are loaded.
    const state = tracker?.state(truncated, ctx.log);
    if (state) yield { type: "state", state };
  } catch (e) {
    // Some messages quote response bodies or next-page links, which can echo a secret back.
    if (e instanceof Error && !ctx.signal.aborted) {
      const safe = redact(e.message);
      if (safe !== e.message) e.message = safe;
    }
    throw e;
  }
}
