/** The `api` source: one stream is one endpoint, read page by page. */
import { redact, type ExtractBatch, type ExtractContext, type SourceDefinition } from "@xo-foundry/core";
import { describeConnection, resolveAuth } from "./auth.js";
import { createHttpClient } from "./http.js";
import { sourceOptions, streamOptions, type SourceOptions, type StreamOptions } from "./options.js";
import { paginate } from "./pagination.js";
import { buildUrl, fillPlaceholders, queryParams, resolveBaseUrl } from "./urls.js";
import { VERSION } from "./version.js";

export const apiSource: SourceDefinition<SourceOptions, StreamOptions> = {
  id: "api",
  description: "Reads JSON records from a REST API: offset, page, cursor or Link-header pagination, retries and rate limits handled.",
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
    const connectionId = ctx.connection?.id ?? ctx.pipeline.source.connection;
    const auth = resolveAuth(options.auth, ctx.connection, connectionId);
    const base = resolveBaseUrl(options.base_url, ctx.connection, connectionId);
    const client = createHttpClient({
      timeoutMs: options.timeout_ms,
      maxRetries: options.max_retries,
      backoffMs: options.backoff_ms,
      headers: options.headers,
      auth,
      log: ctx.log,
      signal: ctx.signal,
      connectionHint: describeConnection(connectionId),
      userAgent: `xo-foundry-plugin-api/${VERSION}`,
    });

    let records = 0;
    let pages = 0;
    for await (const page of paginate({
      pagination: stream.pagination,
      first: buildUrl(base, fillPlaceholders(stream.path, ctx.window), queryParams(stream.params, ctx.window)),
      pageSize: options.page_size,
      maxPages: stream.max_pages,
      recordPath: stream.record_path,
      fetch: (url) => client.getJson(url),
      printUrl: (url) => client.printUrl(url),
      log: ctx.log,
    })) {
      records += page.length;
      pages++;
      yield { type: "records", records: page };
    }
    ctx.log.info(`read ${records} records in ${pages} page(s)`, { records, pages });
  } catch (e) {
    // Some messages quote response bodies or next-page links, which can echo a secret back.
    if (e instanceof Error && !ctx.signal.aborted) {
      const safe = redact(e.message);
      if (safe !== e.message) e.message = safe;
    }
    throw e;
  }
}
