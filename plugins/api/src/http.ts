/**
 * One HTTP client per extract or delivery: JSON bodies, a hard per-request timeout,
 * retries with exponential backoff for failures that are worth retrying, and errors a
 * user can act on. Which failures are worth retrying is the caller's rule: a read
 * retries anything a retry may fix (network, timeouts, 429, 5xx, a body that ended
 * early); a write retries only what cannot apply it twice (see send-retry.ts).
 * Everything that leaves this module as text passes through the redactor first.
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
  /** Follow redirects (reads do); a write must not, since a 301/302 turns a POST into a GET. */
  readonly followRedirects?: boolean;
  /** Waited for before every attempt, retries included: a request-rate budget. */
  readonly throttle?: (signal: AbortSignal) => Promise<void>;
  /** The options a message tells the user to check: where the URL comes from and what sets the response size. */
  readonly advice?: { readonly url: string; readonly size: string };
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
    /** How the last attempt ended, and for a network failure the system's code (`ECONNREFUSED`). */
    readonly outcome?: { readonly kind: Outcome["kind"]; readonly code?: string | undefined },
  ) {
    super(redact(message));
  }
}

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH";

export interface ApiRequest {
  readonly method: HttpMethod;
  readonly url: URL;
  /** Sent as JSON (not with GET). */
  readonly body?: unknown;
  /** JSON text sent exactly as given, instead of `body`: for a caller that hashed the bytes it sends. */
  readonly bodyText?: string;
  /** Headers of this request only (an `Idempotency-Key`). */
  readonly headers?: Readonly<Record<string, string>>;
}

/** A response as the last attempt got it, whatever its status. */
export interface HttpResponse {
  readonly url: URL;
  readonly status: number;
  /** Lower-case header names. */
  readonly headers: Readonly<Record<string, string>>;
  readonly text: string;
  /** `ok`: `body` holds the JSON (`null` for an empty body); otherwise `body` is undefined. */
  readonly json: "ok" | "invalid" | "incomplete";
  readonly body: unknown;
  readonly attempts: number;
}

export interface HttpClient {
  /** A read: JSON back from a 2xx, anything else retried when a retry may fix it, or thrown. */
  send(request: ApiRequest): Promise<JsonResponse>;
  /**
   * One request with the caller's retry rule. Resolves with the last response whatever its
   * status (the caller decides what a 4xx means); rejects only when no response came.
   */
  exchange(request: ApiRequest, retry: RetryRule): Promise<HttpResponse>;
  /** The URL as it may appear in messages: the API key and secret-looking query values masked. */
  printUrl(url: URL): string;
}

/** How one attempt ended. */
export type Outcome =
  | { readonly kind: "response"; readonly status: number; readonly headers: Record<string, string>; readonly text: string }
  /** A 2xx whose JSON stops in the middle: the response was cut short on the way. */
  | { readonly kind: "truncated"; readonly status: number; readonly headers: Record<string, string>; readonly text: string }
  | { readonly kind: "timeout" }
  | { readonly kind: "network"; readonly detail: string; readonly permanent: boolean; readonly code?: string | undefined };

/** Whether an attempt that ended so may be made again. */
export type RetryRule = (outcome: Outcome) => boolean;

/** Reads change nothing on the server: every failure a retry may fix is retried. */
export const retryReads: RetryRule = (outcome) => {
  if (outcome.kind === "timeout" || outcome.kind === "truncated") return true;
  if (outcome.kind === "network") return !outcome.permanent;
  return outcome.status === 429 || outcome.status >= 500;
};

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
    maxRedirects: options.followRedirects === false ? 0 : 5,
  }));
  const secretParams = options.auth.queryParam ? [options.auth.queryParam.name] : [];
  const random = options.random ?? Math.random;
  const ownContentType = Object.keys(options.headers).some((name) => name.toLowerCase() === "content-type");

  async function exchange({ method, url, body, bodyText, headers: extra }: ApiRequest, retry: RetryRule): Promise<HttpResponse> {
    const shown = printableUrl(url, secretParams);
    const what = `${method} ${shown}`;
    const wire = options.auth.queryParam ? withParams(url, { [options.auth.queryParam.name]: options.auth.queryParam.value }) : url;
    const data = method === "GET" ? undefined : (bodyText ?? JSON.stringify(body ?? {}));
    const tokens = options.auth.tokens;
    let renewedToken = false;

    // `attempt` counts retries only: asking again with a renewed OAuth token is not one.
    for (let attempt = 1; ; ) {
      options.signal.throwIfAborted();
      await options.throttle?.(options.signal);
      const token = tokens ? await tokens.token(options.signal) : undefined;
      const headers: Record<string, string> = {
        ...extra,
        ...(data !== undefined && !ownContentType ? { "Content-Type": "application/json" } : {}),
        ...(token === undefined ? {} : { Authorization: `Bearer ${token}` }),
      };
      const started = performance.now();
      let outcome = await attemptOnce(await instance, { method, url: wire, data, headers }, options.timeoutMs, options.signal);
      options.log.debug(`${what} -> ${describeExchange(outcome, options.timeoutMs)} in ${Math.round(performance.now() - started)} ms`);
      // An OAuth token can be revoked or expire early; one fresh token is worth a try, and is no retry
      // (a 401 was not processed, so this is safe for writes too).
      if (token !== undefined && outcome.kind === "response" && outcome.status === 401 && !renewedToken) {
        tokens!.invalidate(token);
        renewedToken = true;
        continue;
      }

      let parsed: Parsed | undefined;
      if (outcome.kind === "response" && outcome.status >= 200 && outcome.status < 300) {
        parsed = parseJson(outcome.text);
        if (parsed.ok || !parsed.incomplete) return response(url, outcome, parsed, attempt);
        outcome = { ...outcome, kind: "truncated" };
      }
      if (!retry(outcome) || attempt > options.maxRetries) {
        if (outcome.kind === "response" || outcome.kind === "truncated") return response(url, outcome, parsed ?? parseJson(outcome.text), attempt);
        throw failure(outcome, method, shown, attempt, options);
      }
      const delay = retryAfterMs(outcome) ?? backoffDelay(attempt - 1, options.backoffMs, random);
      options.log.warn(
        redact(`${what} ${describeOutcome(outcome, options.timeoutMs)}; retry ${attempt} of ${options.maxRetries} in ${delay} ms`),
        outcome.kind === "response" || outcome.kind === "truncated" ? { status: outcome.status, attempt } : { attempt },
      );
      await sleep(delay, options.signal);
      attempt++;
    }
  }

  return {
    printUrl: (url) => printableUrl(url, secretParams),
    exchange,
    async send(request) {
      const res = await exchange(request, retryReads);
      const shown = printableUrl(request.url, secretParams);
      if (res.status >= 200 && res.status < 300) {
        if (res.json === "ok") return { url: res.url, status: res.status, headers: res.headers, body: res.body };
        if (res.json === "invalid") throw notJson(res.text, request.method, shown, res.status, res.attempts);
      }
      const outcome: Outcome = { kind: res.json === "incomplete" ? "truncated" : "response", status: res.status, headers: { ...res.headers }, text: res.text };
      throw failure(outcome, request.method, shown, res.attempts, options);
    },
  };
}

function response(url: URL, outcome: { status: number; headers: Record<string, string>; text: string }, parsed: Parsed, attempts: number): HttpResponse {
  const json = parsed.ok ? "ok" : parsed.incomplete ? "incomplete" : "invalid";
  return { url, status: outcome.status, headers: outcome.headers, text: outcome.text, json, body: parsed.ok ? parsed.body : undefined, attempts };
}

interface WireRequest {
  readonly method: HttpMethod;
  readonly url: URL;
  /** The JSON text of the body; undefined for a GET. */
  readonly data: string | undefined;
  readonly headers: Readonly<Record<string, string>>;
}

async function attemptOnce(instance: AxiosInstance, request: WireRequest, timeoutMs: number, signal: AbortSignal): Promise<Outcome> {
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
    const res = await instance.request<string>({
      method: request.method,
      url: request.url.href,
      headers: request.headers,
      ...(request.data !== undefined ? { data: request.data } : {}),
      signal: controller.signal,
    });
    return { kind: "response", status: res.status, headers: lowerCaseHeaders(res.headers), text: typeof res.data === "string" ? res.data : "" };
  } catch (e) {
    signal.throwIfAborted();
    if (timedOut) return { kind: "timeout" };
    // Only the code and message: an AxiosError carries the request config, Authorization header included.
    const code = (await loadAxios()).isAxiosError(e) ? e.code : undefined;
    const message = e instanceof Error ? e.message : String(e);
    return {
      kind: "network",
      detail: code && !message.includes(code) ? `${message} (${code})` : message,
      permanent: code !== undefined && PERMANENT_NETWORK_CODES.has(code),
      code,
    };
  } finally {
    clearTimeout(timer);
    signal.removeEventListener("abort", onAbort);
  }
}

/** A server's `Retry-After` on a response we retry (429, 503, a 409 of an outstanding idempotent request), capped. */
function retryAfterMs(outcome: Outcome): number | undefined {
  if (outcome.kind !== "response") return undefined;
  const ms = parseRetryAfter(outcome.headers["retry-after"]);
  return ms === undefined ? undefined : Math.min(ms, MAX_RETRY_AFTER_MS);
}

type Parsed = { readonly ok: true; readonly body: unknown } | { readonly ok: false; readonly incomplete: boolean };

/**
 * The JSON body, or whether it failed because it stops early. A body cut short on the
 * wire is not always visible to HTTP (a body delimited by the connection's close, a
 * proxy that ends a chunked stream cleanly), but the parser then fails at the very end
 * of the text: V8 says "Unexpected end of JSON input" or names that last position.
 * A body that fails anywhere before its end is complete and wrong, and no retry fixes it.
 */
function parseJson(text: string): Parsed {
  if (text.trim() === "") return { ok: true, body: null };
  try {
    return { ok: true, body: JSON.parse(text) };
  } catch (e) {
    const message = e instanceof Error ? e.message : "";
    const at = /at position (\d+)/.exec(message);
    const incomplete = message.includes("Unexpected end of JSON input") || (at !== null && Number(at[1]) >= text.trimEnd().length);
    return { ok: false, incomplete };
  }
}

function notJson(text: string, method: string, shown: string, status: number, attempts: number): ApiRequestError {
  return new ApiRequestError(
    `${method} ${shown} returned HTTP ${status} but the body is not JSON: ${snippet(text)}. ` +
      "Check `base_url` and the stream's `path` (an HTML page usually means a wrong URL or a login redirect)",
    method,
    shown,
    status,
    attempts,
  );
}

/** One exchange as the -v log shows it: status and size, or what went wrong. */
function describeExchange(outcome: Outcome, timeoutMs: number): string {
  if (outcome.kind === "response") return `${outcome.status}${STATUS_CODES[outcome.status] ? ` ${STATUS_CODES[outcome.status]}` : ""}, ${Buffer.byteLength(outcome.text)} bytes`;
  return describeOutcome(outcome, timeoutMs);
}

function describeOutcome(outcome: Outcome, timeoutMs: number): string {
  switch (outcome.kind) {
    case "timeout":
      return `timed out after ${timeoutMs} ms`;
    case "network":
      return `failed: ${outcome.detail}`;
    case "response":
      return `failed with HTTP ${outcome.status}${STATUS_CODES[outcome.status] ? ` ${STATUS_CODES[outcome.status]}` : ""}`;
    case "truncated":
      return `returned HTTP ${outcome.status} but the body ended early (${Buffer.byteLength(outcome.text)} bytes, the JSON is incomplete)`;
  }
}

function failure(outcome: Outcome, method: string, shown: string, attempts: number, options: HttpClientOptions): ApiRequestError {
  const what = `${method} ${shown}`;
  const tries = attempts > 1 ? ` (${attempts} attempts)` : "";
  const advice = options.advice ?? { url: "`base_url`", size: "`page_size`" };
  let message: string;
  if (outcome.kind === "response") {
    message = `${what} ${describeOutcome(outcome, options.timeoutMs)}${tries}: ${snippet(outcome.text)}. ${statusHint(outcome.status, options.connectionHint)}`;
  } else if (outcome.kind === "truncated") {
    message =
      `${what} ${describeOutcome(outcome, options.timeoutMs)}${tries}. The API or a proxy on the way closed the response before it was complete: ` +
      `retry the task later, raise \`max_retries\` if this is brief, or lower ${advice.size} so each response is shorter`;
  } else if (outcome.kind === "timeout") {
    message = `${what} ${describeOutcome(outcome, options.timeoutMs)}${tries}. Raise \`timeout_ms\`, or check that the API answers at this URL`;
  } else {
    message = `${what} ${describeOutcome(outcome, options.timeoutMs)}${tries}. Check ${advice.url} (or the host of ${options.connectionHint}) and that the API is reachable from this machine`;
  }
  const status = outcome.kind === "response" || outcome.kind === "truncated" ? outcome.status : undefined;
  return new ApiRequestError(message, method, shown, status, attempts, { kind: outcome.kind, ...(outcome.kind === "network" ? { code: outcome.code } : {}) });
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

export function snippet(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  if (!flat) return "(empty body)";
  return flat.length > BODY_SNIPPET_CHARS ? `${flat.slice(0, BODY_SNIPPET_CHARS)}...` : flat;
}

export { parseRetryAfter };

/** Core's backoff, capped at MAX_BACKOFF_MS. */
export function backoffDelay(retry: number, initialMs: number, random: () => number = Math.random): number {
  return coreBackoffDelay(retry, initialMs, MAX_BACKOFF_MS, random);
}
