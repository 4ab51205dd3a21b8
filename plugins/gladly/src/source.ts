/** The `gladly` source: a stream is either a Reports API metric set (CSV) or a file of an Export API job (NDJSON). */
import { describeConnection, redact, type ExtractBatch, type ExtractContext, type SourceDefinition } from "@xo-foundry/core";
import { resolveBaseUrl } from "./base-url.js";
import { extractExport } from "./export.js";
import { createGladlyClient } from "./http.js";
import { parseStream, sourceOptions, streamOptions, type SourceOptions, type StreamOptions } from "./options.js";
import { extractReport } from "./report.js";
import { VERSION } from "./version.js";
import { reportDays } from "./window.js";

export const gladlySource: SourceDefinition<SourceOptions, StreamOptions> = {
  id: "gladly",
  description: "Reads Gladly: Reports API metric sets as CSV, one request per run of whole days (split by day when they hit the row cap), and Export API job files as NDJSON.",
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
    const connectionId = ctx.connection?.id ?? ctx.pipeline.sources[ctx.source]?.connection;
    const where = describeConnection(connectionId);
    const connection = ctx.connection;
    if (!connection) throw new Error(`the gladly source needs a connection: set \`connection:\` in the source block and define ${where}`);
    if (!connection.login) throw new Error(`${where} has no login: set it to the email of the Gladly agent that owns the API token`);
    if (!connection.password) throw new Error(`${where} has no password: set it to the agent's Gladly API token`);

    const client = createGladlyClient({
      baseUrl: resolveBaseUrl(options, connection, where),
      login: connection.login,
      token: connection.password,
      timeoutMs: options.timeout_ms,
      maxRetries: options.max_retries,
      backoffMs: options.backoff_ms,
      log: ctx.log,
      signal: ctx.signal,
      connectionHint: where,
      userAgent: `xo-foundry-plugin-gladly/${VERSION}`,
    });

    if (stream.kind === "report") {
      yield* extractReport({
        client,
        stream,
        days: reportDays(ctx.window),
        timezone: ctx.window.timezone,
        rowCap: options.row_cap,
        splitOnCap: options.split_on_cap,
        log: ctx.log,
      });
    } else {
      yield* extractExport({ client, stream, windowEnd: ctx.window.end, log: ctx.log });
    }
  } catch (e) {
    // Some messages quote response bodies, which can echo a secret back.
    if (e instanceof Error && !ctx.signal.aborted) {
      const safe = redact(e.message);
      if (safe !== e.message) e.message = safe;
    }
    throw e;
  }
}
