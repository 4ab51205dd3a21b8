/**
 * The Gladly HTTP client: Basic auth, a timeout for the response to start and an
 * idle timeout while its body streams, retries with backoff for failures worth
 * retrying (network, timeouts, 429, 5xx), and errors that say what to fix. Bodies
 * are never buffered on success: callers get a Node stream. Every message leaving
 * this module passes through the redactor.
 */
import { STATUS_CODES } from "node:http";
import { Readable, Transform } from "node:stream";
import type { AxiosInstance } from "axios";
import { redact, registerSecret, type Logger, backoffDelay as coreBackoffDelay, lowerCaseHeaders, parseRetryAfter, sleep } from "@xo-foundry/core";
import type { GladlyErrorCode } from "./errors.js";

/** Longest wait between two attempts computed from `backoff_ms`. */
export const MAX_BACKOFF_MS = 60_000;

/** Longest `Retry-After` we honour: a task that sleeps longer holds an Airflow worker slot for nothing. */
export const MAX_RETRY_AFTER_MS = 120_000;

/** Error bodies are read up to this size; Gladly's are a few hundred bytes. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;
const SNIPPET_CHARS = 300;

/** Axios error codes that no retry can fix. */
const PERMANENT_NETWORK_CODES = new Set(["ERR_INVALID_URL", "ERR_FR_TOO_MANY_REDIRECTS", "ERR_BAD_OPTION", "ERR_BAD_OPTION_VALUE", "ERR_NOT_SUPPORT", "ENOTFOUND"]);

export interface GladlyClientOptions {
  /** Origin plus optional path prefix, e.g. `https://acme.gladly.com`. */
  readonly baseUrl: URL;
  readonly login: string;
  readonly token: string;
  readonly timeoutMs: number;
  readonly maxRetries: number;
  readonly backoffMs: number;
  readonly log: Logger;
  readonly signal: AbortSignal;
  /** Where the credentials live, e.g. `connection "gladly" (XO_CONN_GLADLY)`. */
  readonly connectionHint: string;
  readonly userAgent: string;
  /** For tests: the jitter source. */
  readonly random?: () => number;
}

export interface GladlyRequest {
  readonly method: "GET" | "POST";
  /** Path under `/api/v1`, e.g. `reports`. */
  readonly path: string;
  readonly query?: Readonly<Record<string, string>>;
  readonly json?: unknown;
  readonly accept: string;
  /** What the request is for, in messages: `report ContactTimestampsReport for 2026-01-15 (America/New_York)`. */
  readonly what: string;
  /** For a 400: what the user should fix for one of Gladly's `attr`s, e.g. `metricSet` -> "the stream's `metric_set`". */
  readonly fixFor?: (attr: string) => string | undefined;
}

export interface StreamedResponse {
  readonly status: number;
  /** Lower-case header names. */
  readonly headers: Readonly<Record<string, string>>;
  /** The body; fails with a timeout error when it stays silent for `timeout_ms`. */
  readonly body: Readable;
}

/** A request that failed for good. The message is redacted and says what to do next. */
export class GladlyApiError extends Error {
  override readonly name = "GladlyApiError";
  /** Set when Gladly refused the request itself (HTTP 400): the user has something to fix. */
  readonly code?: GladlyErrorCode;
  readonly hint?: string;
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly attempts: number,
    /** Gladly's `{ attr, code, detail }` entries of a 400 answer. */
    readonly details: readonly GladlyErrorDetail[] = [],
    rejected?: { readonly code: GladlyErrorCode; readonly hint: string },
  ) {
    super(redact(rejected ? `${message}\n  hint: ${rejected.hint}` : message));
    if (rejected) {
      this.code = rejected.code;
      this.hint = redact(rejected.hint);
    }
  }
}

export interface GladlyErrorDetail {
  readonly attr?: string;
  readonly code?: string;
  readonly detail?: string;
}

export interface GladlyClient {
  readonly baseUrl: URL;
  /** Sends the request, retrying until a 2xx arrives, and returns its body unread. */
  open(request: GladlyRequest): Promise<StreamedResponse>;
  /**
   * Like `open`, then hands the body to `consume`. A body that breaks off (network
   * error, idle timeout) is retried as a whole, so `consume` must start from scratch
   * each time it is called.
   */
  download<T>(request: GladlyRequest, consume: (response: StreamedResponse) => Promise<T>): Promise<T>;
  json(request: GladlyRequest): Promise<unknown>;
}

type Outcome =
  | { readonly kind: "response"; readonly status: number; readonly headers: Record<string, string>; readonly body: Readable }
  | { readonly kind: "error-response"; readonly status: number; readonly headers: Record<string, string>; readonly text: string }
  | { readonly kind: "timeout" }
  | { readonly kind: "network"; readonly detail: string; readonly permanent: boolean };

type Failure = Exclude<Outcome, { kind: "response" }>;

/** A body that broke off mid-stream. `download` retries it; a `consume` callback throws it when the content proves incomplete. */
export class BodyInterrupted extends Error {
  override readonly name = "BodyInterrupted";
  constructor(readonly detail: string) {
    super(detail);
  }
}

// axios loads on the first request, not when the plugin is discovered: every CLI
// command discovers plugins, and most of them (validate, generate) make no request.
let axiosModule: Promise<typeof import("axios")> | undefined;
const loadAxios = () => (axiosModule ??= import("axios"));

export function createGladlyClient(options: GladlyClientOptions): GladlyClient {
  registerSecret(options.token);
  const basic = Buffer.from(`${options.login}:${options.token}`).toString("base64");
  // The redactor knows the raw and URL-encoded forms, not the base64 one.
  registerSecret(basic);

  let instance: Promise<AxiosInstance> | undefined;
  const axiosInstance = () =>
    (instance ??= loadAxios().then(({ default: axios }) =>
      axios.create({
        headers: { "User-Agent": options.userAgent, Authorization: `Basic ${basic}` },
        responseType: "stream",
        validateStatus: () => true,
        // A redirect from the API means a wrong host (a login page); follow none and report it.
        maxRedirects: 0,
      }),
    ));
  const random = options.random ?? Math.random;

  const urlOf = (request: GladlyRequest) => {
    const url = new URL(`${options.baseUrl.pathname.replace(/\/+$/, "")}/api/v1/${request.path}`, options.baseUrl);
    for (const [k, v] of Object.entries(request.query ?? {})) url.searchParams.set(k, v);
    return url;
  };

  async function retrying<T>(request: GladlyRequest, onResponse: (response: StreamedResponse) => Promise<T>): Promise<T> {
    const url = urlOf(request);
    const label = `${request.method} ${url.pathname}${url.search}`;
    for (let attempt = 1; ; attempt++) {
      options.signal.throwIfAborted();
      const outcome = await sendOnce(await axiosInstance(), url, request, options);
      let failure: Failure;
      if (outcome.kind === "response") {
        try {
          return await onResponse({ status: outcome.status, headers: outcome.headers, body: outcome.body });
        } catch (e) {
          outcome.body.destroy();
          if (!(e instanceof BodyInterrupted)) throw e;
          options.signal.throwIfAborted();
          failure = { kind: "network", detail: `the response broke off: ${e.detail}`, permanent: false };
        }
      } else {
        failure = outcome;
      }
      if (!isRetryable(failure) || attempt > options.maxRetries) throw toError(failure, request, label, attempt, options);
      const delay = retryAfterMs(failure) ?? backoffDelay(attempt - 1, options.backoffMs, random);
      options.log.warn(
        redact(`${label} (${request.what}) ${describe(failure, options.timeoutMs)}; retry ${attempt} of ${options.maxRetries} in ${delay} ms`),
        failure.kind === "error-response" ? { status: failure.status, attempt } : { attempt },
      );
      await sleep(delay, options.signal);
    }
  }

  return {
    baseUrl: options.baseUrl,
    open: (request) => retrying(request, async (response) => response),
    download: (request, consume) =>
      retrying(request, async (response) => {
        try {
          return await consume(response);
        } catch (e) {
          // Stream failures (socket reset, idle timeout) are transient; anything else is the caller's own error.
          if (isStreamFailure(e)) throw new BodyInterrupted(e instanceof Error ? e.message : String(e));
          throw e;
        }
      }),
    async json(request) {
      return retrying(request, async (response) => {
        const text = await readText(response.body, Number.POSITIVE_INFINITY).catch((e: unknown) => {
          throw new BodyInterrupted(e instanceof Error ? e.message : String(e));
        });
        try {
          return JSON.parse(text) as unknown;
        } catch {
          throw new GladlyApiError(
            `${request.method} ${urlOf(request).pathname} (${request.what}) returned HTTP ${response.status} but the body is not JSON: ${snippet(text)}. ` +
              "Check `organization` or `base_url` (an HTML page usually means a wrong host or a login page)",
            response.status,
            1,
          );
        }
      });
    },
  };
}

/** Errors raised by a broken or silent response stream. */
class IdleTimeout extends Error {
  override readonly name = "IdleTimeout";
}

const STREAM_FAILURE_CODES = new Set(["ECONNRESET", "ECONNABORTED", "EPIPE", "ETIMEDOUT", "ERR_STREAM_PREMATURE_CLOSE", "ERR_CANCELED"]);

function isStreamFailure(e: unknown): boolean {
  if (e instanceof IdleTimeout || e instanceof BodyInterrupted) return true;
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === "string" && STREAM_FAILURE_CODES.has(code);
}

async function sendOnce(instance: AxiosInstance, url: URL, request: GladlyRequest, options: GladlyClientOptions): Promise<Outcome> {
  // Bounds the wait for the response to start; the body is watched for silence separately.
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, options.timeoutMs);
  const onAbort = () => controller.abort(options.signal.reason);
  options.signal.addEventListener("abort", onAbort, { once: true });
  const cleanup = () => {
    clearTimeout(timer);
    options.signal.removeEventListener("abort", onAbort);
  };
  try {
    const res = await instance.request<Readable>({
      method: request.method,
      url: url.href,
      headers: { Accept: request.accept, ...(request.json !== undefined ? { "Content-Type": "application/json" } : {}) },
      ...(request.json !== undefined ? { data: JSON.stringify(request.json) } : {}),
      signal: controller.signal,
    });
    clearTimeout(timer);
    const headers = lowerCaseHeaders(res.headers);
    if (res.status >= 200 && res.status < 300) {
      const body = watchIdle(res.data, options.timeoutMs);
      body.once("close", cleanup);
      return { kind: "response", status: res.status, headers, body };
    }
    const text = await readText(res.data, MAX_ERROR_BODY_BYTES).catch(() => "");
    cleanup();
    return { kind: "error-response", status: res.status, headers, text };
  } catch (e) {
    cleanup();
    options.signal.throwIfAborted();
    if (timedOut) return { kind: "timeout" };
    // Only the code and message: an AxiosError carries the request config, Authorization header included.
    const code = (await loadAxios()).isAxiosError(e) ? e.code : undefined;
    const message = e instanceof Error ? e.message : String(e);
    return { kind: "network", detail: code && !message.includes(code) ? `${message} (${code})` : message, permanent: code !== undefined && PERMANENT_NETWORK_CODES.has(code) };
  }
}

/** Passes the body through, failing it when no byte arrives for `ms`. */
function watchIdle(source: Readable, ms: number): Readable {
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => out.destroy(new IdleTimeout(`no data for ${ms} ms`)), ms);
  };
  const out = new Transform({
    transform(chunk, _encoding, callback) {
      arm();
      callback(null, chunk);
    },
    flush(callback) {
      clearTimeout(timer);
      callback();
    },
  });
  source.on("error", (e) => out.destroy(e));
  // An aborted response (socket closed early) ends without an error event on some Node versions.
  source.on("aborted", () => out.destroy(new BodyInterrupted("the connection closed before the body ended")));
  out.on("close", () => {
    clearTimeout(timer);
    source.destroy();
  });
  // Keeps a body nobody reads (an abandoned extract) from crashing the process when its timer fires.
  out.on("error", () => {});
  source.pipe(out);
  arm();
  return out;
}

async function readText(body: Readable, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    if (size < limit) chunks.push(buf);
    size += buf.length;
  }
  return Buffer.concat(chunks).toString("utf8");
}

function isRetryable(failure: Failure): boolean {
  if (failure.kind === "timeout") return true;
  if (failure.kind === "network") return !failure.permanent;
  return failure.status === 429 || failure.status >= 500;
}

function retryAfterMs(failure: Failure): number | undefined {
  if (failure.kind !== "error-response" || (failure.status !== 429 && failure.status !== 503)) return undefined;
  const ms = parseRetryAfter(failure.headers["retry-after"]);
  return ms === undefined ? undefined : Math.min(ms, MAX_RETRY_AFTER_MS);
}

function describe(failure: Failure, timeoutMs: number): string {
  switch (failure.kind) {
    case "timeout":
      return `got no response within ${timeoutMs} ms`;
    case "network":
      return `failed: ${failure.detail}`;
    case "error-response":
      return `failed with HTTP ${failure.status}${STATUS_CODES[failure.status] ? ` ${STATUS_CODES[failure.status]}` : ""}`;
  }
}

/** Gladly's 400 body: `{ "errors": [ { "attr", "code", "detail" } ] }`. */
export function gladlyErrorDetails(text: string): GladlyErrorDetail[] {
  try {
    const body = JSON.parse(text) as { errors?: unknown };
    if (!Array.isArray(body.errors)) return [];
    return body.errors
      .filter((e): e is Record<string, unknown> => typeof e === "object" && e !== null)
      .map((e) => ({
        ...(typeof e.attr === "string" ? { attr: e.attr } : {}),
        ...(typeof e.code === "string" ? { code: e.code } : {}),
        ...(typeof e.detail === "string" ? { detail: e.detail } : {}),
      }));
  } catch {
    return [];
  }
}

function formatDetail(d: GladlyErrorDetail): string {
  const head = d.attr ? `${d.attr}: ` : "";
  const body = d.detail ?? "(no detail)";
  return `${head}${body}${d.code ? ` (${d.code})` : ""}`;
}

function toError(failure: Failure, request: GladlyRequest, label: string, attempts: number, options: GladlyClientOptions): GladlyApiError {
  const tries = attempts > 1 ? ` after ${attempts} attempts` : "";
  if (failure.kind === "timeout") {
    return new GladlyApiError(
      `${label} (${request.what}) ${describe(failure, options.timeoutMs)}${tries}. Raise \`timeout_ms\` (large reports take minutes), or narrow the window`,
      undefined,
      attempts,
    );
  }
  if (failure.kind === "network") {
    return new GladlyApiError(
      `${label} (${request.what}) ${describe(failure, options.timeoutMs)}${tries}. Check \`organization\`/\`base_url\` (or the host of ${options.connectionHint}) and that ${options.baseUrl.origin} is reachable from this machine`,
      undefined,
      attempts,
    );
  }
  const { status, text } = failure;
  if (status === 400 || status === 422) {
    const details = gladlyErrorDetails(text);
    const listed = details.length ? details.map(formatDetail).join("; ") : snippet(text);
    const fixes = [...new Set(details.map((d) => (d.attr ? request.fixFor?.(d.attr) : undefined)).filter((f): f is string => f !== undefined))];
    const hint = fixes.length
      ? `fix ${fixes.join(" and ")}: Gladly's API reference (developer.gladly.com/rest/) lists what each parameter accepts`
      : "check the stream's options against Gladly's API reference (developer.gladly.com/rest/)";
    return new GladlyApiError(`Gladly rejected ${request.what} (${label}, HTTP ${status}): ${listed}`, status, attempts, details, { code: "XO_GLADLY_REQUEST_REJECTED", hint });
  }
  if (status === 401 || status === 403) {
    return new GladlyApiError(
      `Gladly refused the credentials of ${options.connectionHint} (HTTP ${status} for ${request.what}): check the agent email and API token` +
        (status === 403 ? ", and that this agent's API token is allowed to use this API" : ""),
      status,
      attempts,
    );
  }
  const hint =
    status === 404
      ? "Check `organization`/`base_url`, and for exports the job id and file name (Gladly keeps export jobs and their files for 14 days)"
      : status === 429
        ? "Gladly kept rate limiting this client: run fewer Gladly tasks at once (an Airflow pool), or raise `max_retries` or `backoff_ms`"
        : status >= 500
          ? "Gladly kept failing: retry the task later, or raise `max_retries` if the failures are brief"
          : "See Gladly's API documentation for this status";
  return new GladlyApiError(`${label} (${request.what}) ${describe(failure, options.timeoutMs)}${tries}: ${snippet(text)}. ${hint}`, status, attempts);
}

function snippet(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  if (!flat) return "(empty body)";
  return flat.length > SNIPPET_CHARS ? `${flat.slice(0, SNIPPET_CHARS)}...` : flat;
}

export { parseRetryAfter };

/** Core's backoff, capped at MAX_BACKOFF_MS. */
export function backoffDelay(retry: number, initialMs: number, random: () => number = Math.random): number {
  return coreBackoffDelay(retry, initialMs, MAX_BACKOFF_MS, random);
}
