/**
 * The HTTP client of a block that makes requests, the source block or an `api.send` step:
 * auth resolved from the connection, the shared request options, the plugin's user agent.
 * One place, so a source and a delivery authenticate, time out and back off alike.
 */
import { describeConnection, type Connection, type Logger } from "@xo-foundry/core";
import { resolveAuth } from "./auth.js";
import { createHttpClient, type HttpClient, type HttpClientOptions } from "./http.js";
import type { RequestOptions } from "./options.js";
import { VERSION } from "./version.js";

export interface RequestClientInput {
  readonly connection: Connection | undefined;
  /** The connection id the block names, for messages when the connection itself is missing. */
  readonly connectionId: string | undefined;
  readonly log: Logger;
  readonly signal: AbortSignal;
  /** Where `connection:` goes, for messages: "the source block", "the step". */
  readonly block: string;
  /** What differs between reading and writing (redirects, a rate budget, the advice in messages). */
  readonly tuning?: Pick<HttpClientOptions, "followRedirects" | "throttle" | "advice">;
}

export function requestClient(options: RequestOptions, input: RequestClientInput): HttpClient {
  return createHttpClient({
    timeoutMs: options.timeout_ms,
    maxRetries: options.max_retries,
    backoffMs: options.backoff_ms,
    headers: options.headers,
    auth: resolveAuth(options.auth, input.connection, input.connectionId, input.log, input.block),
    log: input.log,
    signal: input.signal,
    connectionHint: describeConnection(input.connection?.id ?? input.connectionId),
    userAgent: `xo-foundry-plugin-api/${VERSION}`,
    ...input.tuning,
  });
}
