/**
 * The Sheets API calls the source makes, through googleapis' generated client
 * (`@googleapis/sheets`): every call carries `Authorization: Bearer` from the connection's
 * token source, gaxios' own retries are off (`retry: false`) so that one loop here decides,
 * and that loop retries what can pass (429, 403 rate limits, 5xx, timeouts, network errors),
 * honours Retry-After, asks for a new token once after a 401, and turns everything else into
 * a coded error at once.
 */
import type { sheets_v4 } from "@googleapis/sheets";
import { backoffDelay, parseRetryAfter, redact, sleep, type AccessTokenSource, type Logger } from "@xo-foundry/core";
import { describeFailure, failureOf, isRetryable, toSheetsError, type Failure, type Identity, type RequestInfo } from "./google-errors.js";

/** Longest wait between two attempts computed from `backoff_ms`: Sheets refills its quotas every minute. */
export const MAX_BACKOFF_MS = 64_000;
/** Longest Retry-After honoured: a task that sleeps longer holds a worker slot for nothing. */
export const MAX_RETRY_AFTER_MS = 120_000;

export interface SheetsClientOptions {
  /** `https://sheets.googleapis.com/`, or a proxy or test server. */
  readonly rootUrl: string;
  readonly spreadsheetId: string;
  readonly tokens: AccessTokenSource;
  readonly identity: Identity;
  readonly timeoutMs: number;
  readonly maxRetries: number;
  readonly backoffMs: number;
  readonly log: Logger;
  readonly signal: AbortSignal;
  /** For tests: the jitter source. */
  readonly random?: () => number;
}

export interface SheetsClient {
  /** spreadsheets.get with a field mask (and ranges, for grid data). */
  spreadsheet(request: { readonly fields: string; readonly ranges?: readonly string[]; readonly what: string }): Promise<sheets_v4.Schema$Spreadsheet>;
  /** spreadsheets.values.batchGet of one range, unformatted, dates as serial numbers, row by row. */
  values(request: { readonly range: string; readonly what: string }): Promise<sheets_v4.Schema$ValueRange>;
}

// The generated client loads on the first request, not when the plugin is discovered: every
// CLI command discovers plugins, and most of them (validate, generate) make no request.
let sheetsModule: Promise<typeof import("@googleapis/sheets")> | undefined;
const loadSheets = () => (sheetsModule ??= import("@googleapis/sheets"));

export function createSheetsClient(options: SheetsClientOptions): SheetsClient {
  const { spreadsheetId, tokens, signal, log } = options;
  let api: Promise<sheets_v4.Sheets> | undefined;
  const client = () => (api ??= loadSheets().then(({ sheets }) => sheets({ version: "v4", rootUrl: options.rootUrl })));
  const random = options.random ?? Math.random;

  /** One API call, attempted until it succeeds, fails for good, or runs out of retries. */
  async function call<T>(request: RequestInfo, send: (api: sheets_v4.Sheets, callOptions: object) => Promise<{ data: T }>): Promise<T> {
    const sheetsApi = await client();
    let renewedToken = false;
    for (let attempt = 1; ; ) {
      signal.throwIfAborted();
      const token = await tokens.token(signal);
      let failure: Failure;
      try {
        const response = await send(sheetsApi, {
          headers: { Authorization: `Bearer ${token}` },
          retry: false,
          signal,
          timeout: options.timeoutMs,
          // The client builds each URL from the per-call root, so a path in `root_url` (a proxy's prefix) survives.
          rootUrl: options.rootUrl,
        });
        return response.data;
      } catch (e) {
        signal.throwIfAborted();
        failure = failureOf(e);
      }
      // An access token can expire or be revoked between two calls; one fresh token settles it.
      if (failure.kind === "response" && failure.status === 401 && !renewedToken) {
        renewedToken = true;
        tokens.invalidate(token);
        log.info(`Google refused the access token for ${request.what} (HTTP 401); asking for a new one`);
        continue;
      }
      if (!isRetryable(failure) || attempt > options.maxRetries) throw toSheetsError(failure, request, options.identity, attempt);
      const delay = retryAfterMs(failure) ?? backoffDelay(attempt - 1, options.backoffMs, MAX_BACKOFF_MS, random);
      log.warn(redact(`Google Sheets ${describeFailure(failure)} for ${request.what}; retry ${attempt} of ${options.maxRetries} in ${delay} ms`), {
        attempt,
        ...(failure.kind === "response" ? { status: failure.status } : {}),
      });
      await sleep(delay, signal);
      attempt++;
    }
  }

  return {
    spreadsheet: ({ fields, ranges, what }) =>
      call({ spreadsheetId, what }, (sheetsApi, callOptions) =>
        sheetsApi.spreadsheets.get({ spreadsheetId, fields, ...(ranges ? { ranges: [...ranges] } : {}) }, callOptions),
      ),
    async values({ range, what }) {
      const data = await call({ spreadsheetId, what, range }, (sheetsApi, callOptions) =>
        sheetsApi.spreadsheets.values.batchGet(
          { spreadsheetId, ranges: [range], majorDimension: "ROWS", valueRenderOption: "UNFORMATTED_VALUE", dateTimeRenderOption: "SERIAL_NUMBER" },
          callOptions,
        ),
      );
      return data.valueRanges?.[0] ?? {};
    },
  };
}

function retryAfterMs(failure: Failure): number | undefined {
  if (failure.kind !== "response") return undefined;
  const ms = parseRetryAfter(failure.retryAfter);
  return ms === undefined ? undefined : Math.min(ms, MAX_RETRY_AFTER_MS);
}
