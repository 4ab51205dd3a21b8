/**
 * One HTTP client per extract: GET with JSON bodies, a hard per-request timeout,
 * retries with exponential backoff for failures that are worth retrying (network,
 * timeouts, 429, 5xx), and errors a user can act on. Everything that leaves this
 * module as text passes through the redactor first.
 */
import { STATUS_CODES } from "node:http";
import type { AxiosInstance } from "axios";
import { redact, type Logger, backoffDelay as coreBackoffDelay, lowerCaseHeaders, parseRetryAfter, sleep } from "@xo-foundry/core";
import type { RequestAuth } from "./auth.js";
import { printableUrl, withParams } from "./urls.js";

/** Longest wait between two attempts computed from `backoff_ms`. */
export const MAX_BACKOFF_MS = 30_000;

/**
 * Longest `Retry-After` we honour. Servers sometimes ask for an hour; a task that
 * sleeps that long holds an Airflow worker slot, so we wait this long and try again.
 */
export const MAX_RETRY_AFTER_MS = 120_000;

const BODY_SNIPPET_CHARS = 300;

/** Axios error codes that no retry can fix (bad URL, redirect loop, DNS name that does not exist). */
const PERMANENT_NETWORK_CODES = new Set(["ERR_INVALID_URL", "ERR_FR_TOO_MANY_REDIRECTS", "ERR_BAD_OPTION", "ERR_BAD_OPTION_VALUE", "ERR_NOT_SUPPORT", "ENOTFOUND"]);

export interface HttpClientOptions {
  readonly timeoutMs: number;
  readonly maxRetries: number;
  readonly backoffMs: number;
  /** Non-secret headers first; auth headers are applied on top. */
  readonly headers: Readonly<Record<string, string>>;
  readonly auth: RequestAuth;
  readonly log: Logger;
  readonly signal: AbortSignal;
  /** Where the credentials live, for 401/403 hints, e.g. `connection "crm" (XO_CONN_CRM)`. */
  readonly connectionHint: string;
  readonly userAgent: string;
  /** For tests: the jitter source. */
  readonly random?: () => number;
}

export interface JsonResponse {
  /** The URL as requested, without the API key query parameter. */
  readonly url: URL;
  readonly status: number;
  /** Lower-case header names. */
  readonly headers: Readonly<Record<string, string>>;
  /** The parsed JSON body; `null` for an empty body. */
  readonly body: unknown;
}

/** A request that failed for good. The message is redacted and says what to do next. */
export class ApiRequestError extends Error {
  override readonly name = "ApiRequestError";
  constructor(
    message: string,
    readonly method: string,
    /** Printable URL: credentials masked. */
    readonly url: string,
    readonly status: number | undefined,
    readonly attempts: number,
  ) {
    super(redact(message));
  }
}

export interface HttpClient {
  getJson(url: URL): Promise<JsonResponse>;
  /** The URL as it may appear in messages: the API key and secret-looking query values masked. */
  printUrl(url: URL): string;
}

type Outcome =
  | { readonly kind: "response"; readonly status: number; readonly headers: Record<string, string>; readonly text: string }
  | { readonly kind: "timeout" }
  | { readonly kind: "network"; readonly detail: string; readonly permanent: boolean };

// axios loads on the first request, not when the plugin is discovered: every CLI
// command discovers plugins, and most of them (validate, generate) make no request.
let axiosModule: Promise<typeof import("axios")> | undefined;
const loadAxios = () => (axiosModule ??= import("axios"));

export function createHttpClient(options: HttpClientOptions): HttpClient {
  const instance = loadAxios().then(({ default: axios }) => axios.create({
    headers: { Accept: "application/json", "User-Agent": options.userAgent, ...options.headers, ...options.auth.headers },
    // We parse JSON ourselves so a bad body can be quoted in the error, and judge statuses ourselves to decide on retries.
    responseType: "text",
    transformResponse: [(data: unknown) => data],
    validateStatus: () => true,
    maxRedirects: 5,
  }));
  const secretParams = options.auth.queryParam ? [options.auth.queryParam.name] : [];
  const random = options.random ?? Math.random;

  return {
    printUrl: (url) => printableUrl(url, secretParams),
    async getJson(url) {
      const shown = printableUrl(url, secretParams);
      const wire = options.auth.queryParam ? withParams(url, { [options.auth.queryParam.name]: options.auth.queryParam.value }) : url;

      for (let attempt = 1; ; attempt++) {
        options.signal.throwIfAborted();
        const outcome = await attemptGet(await instance, wire, options.timeoutMs, options.signal);

        if (outcome.kind === "response" && outcome.status >= 200 && outcome.status < 300) {
          return { url, status: outcome.status, headers: outcome.headers, body: parseJson(outcome.text, shown, outcome.status, attempt) };
        }
        if (!isRetryable(outcome) || attempt > options.maxRetries) {
          throw failure(outcome, shown, attempt, options);
        }
        const delay = retryAfterMs(outcome) ?? backoffDelay(attempt - 1, options.backoffMs, random);
        options.log.warn(
          redact(`GET ${shown} ${describeOutcome(outcome, options.timeoutMs)}; retry ${attempt} of ${options.maxRetries} in ${delay} ms`),
          outcome.kind === "response" ? { status: outcome.status, attempt } : { attempt },
        );
        await sleep(delay, options.signal);
      }
    },
  };
}

async function attemptGet(instance: AxiosInstance, url: URL, timeoutMs: number, signal: AbortSignal): Promise<Outcome> {
  // Axios' own `timeout` only watches for an idle socket; this bounds the whole exchange, body included.
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  const onAbort = () => controller.abort(signal.reason);
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    const res = await instance.get<string>(url.href, { signal: controller.signal });
    return { kind: "response", status: res.status, headers: lowerCaseHeaders(res.headers), text: typeof res.data === "string" ? res.data : "" };
  } catch (e) {
    signal.throwIfAborted();
    if (timedOut) return { kind: "timeout" };
    // Only the code and message: an AxiosError carries the request config, Authorization header included.
    const code = (await loadAxios()).isAxiosError(e) ? e.code : undefined;
    const message = e instanceof Error ? e.message : String(e);
    return { kind: "network", detail: code && !message.includes(code) ? `${message} (${code})` : message, permanent: code !== undefined && PERMANENT_NETWORK_CODES.has(code) };
  } finally {
    clearTimeout(timer);
    signal.removeEventListener("abort", onAbort);
  }
}

function isRetryable(outcome: Outcome): boolean {
  if (outcome.kind === "timeout") return true;
  if (outcome.kind === "network") return !outcome.permanent;
  return outcome.status === 429 || outcome.status >= 500;
}

function retryAfterMs(outcome: Outcome): number | undefined {
  if (outcome.kind !== "response" || (outcome.status !== 429 && outcome.status !== 503)) return undefined;
  const ms = parseRetryAfter(outcome.headers["retry-after"]);
  return ms === undefined ? undefined : Math.min(ms, MAX_RETRY_AFTER_MS);
}

function parseJson(text: string, shown: string, status: number, attempts: number): unknown {
  if (text.trim() === "") return null;
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiRequestError(
      `GET ${shown} returned HTTP ${status} but the body is not JSON: ${snippet(text)}. ` +
        "Check `base_url` and the stream's `path` (an HTML page usually means a wrong URL or a login redirect)",
      "GET",
      shown,
      status,
      attempts,
    );
  }
}

function describeOutcome(outcome: Outcome, timeoutMs: number): string {
  switch (outcome.kind) {
    case "timeout":
      return `timed out after ${timeoutMs} ms`;
    case "network":
      return `failed: ${outcome.detail}`;
    case "response":
      return `failed with HTTP ${outcome.status}${STATUS_CODES[outcome.status] ? ` ${STATUS_CODES[outcome.status]}` : ""}`;
  }
}

function failure(outcome: Outcome, shown: string, attempts: number, options: HttpClientOptions): ApiRequestError {
  const tries = attempts > 1 ? ` (${attempts} attempts)` : "";
  let message: string;
  if (outcome.kind === "response") {
    message = `GET ${shown} ${describeOutcome(outcome, options.timeoutMs)}${tries}: ${snippet(outcome.text)}. ${statusHint(outcome.status, options.connectionHint)}`;
  } else if (outcome.kind === "timeout") {
    message = `GET ${shown} ${describeOutcome(outcome, options.timeoutMs)}${tries}. Raise \`timeout_ms\`, or check that the API answers at this URL`;
  } else {
    message = `GET ${shown} ${describeOutcome(outcome, options.timeoutMs)}${tries}. Check \`base_url\` (or the host of ${options.connectionHint}) and that the API is reachable from this machine`;
  }
  return new ApiRequestError(message, "GET", shown, outcome.kind === "response" ? outcome.status : undefined, attempts);
}

function statusHint(status: number, connectionHint: string): string {
  if (status === 401) return `Check the credentials in ${connectionHint} and the \`auth\` type of the source`;
  if (status === 403) return `Check the credentials in ${connectionHint} and that they are allowed to read this endpoint`;
  if (status === 404) return "Check the stream's `path` and the `base_url`";
  if (status === 400 || status === 422) return "Check the stream's `params` and `pagination` parameter names against the API's documentation";
  if (status === 429) return "The API kept rate limiting this client: run fewer tasks against it at once, or raise `max_retries` or `backoff_ms`";
  if (status >= 500) return "The API kept failing: retry the task later, or raise `max_retries` if the failures are brief";
  return "See the API's documentation for this status";
}

function snippet(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  if (!flat) return "(empty body)";
  return flat.length > BODY_SNIPPET_CHARS ? `${flat.slice(0, BODY_SNIPPET_CHARS)}...` : flat;
}

export { parseRetryAfter };

/** Core's backoff, capped at MAX_BACKOFF_MS. */
export function backoffDelay(retry: number, initialMs: number, random: () => number = Math.random): number {
  return coreBackoffDelay(retry, initialMs, MAX_BACKOFF_MS, random);
}
