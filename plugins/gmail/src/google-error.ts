/**
 * What a failed call to Google's API was, read from whatever the client threw. Google answers
 * errors with `{ "error": { "code", "message", "status", "errors": [{ "message", "domain",
 * "reason" }] } }` (Gmail's "Resolve errors" guide); the reason, not the status alone, tells a
 * rate limit (403 rateLimitExceeded) from a permission problem (403 insufficientPermissions).
 * Nothing from the request (its headers carry the bearer token) is kept.
 */

export type Failure =
  | {
      readonly kind: "http";
      readonly status: number;
      /** Google's `error.message`, or a snippet of a body that is not Google's shape. */
      readonly message: string;
      /** The first `error.errors[].reason`, e.g. `rateLimitExceeded`. */
      readonly reason?: string | undefined;
      /** `error.status`, e.g. `PERMISSION_DENIED`. */
      readonly googleStatus?: string | undefined;
      readonly retryAfter?: string | undefined;
    }
  | { readonly kind: "timeout" }
  | { readonly kind: "network"; readonly detail: string; readonly permanent: boolean };

/** 403 reasons that mean "slow down", per Gmail's guide; other 403s are permanent. */
export const RATE_LIMIT_REASONS: ReadonlySet<string> = new Set(["rateLimitExceeded", "userRateLimitExceeded"]);

/** 403 reasons that mean the project's quota is spent: retrying within the task cannot help. */
export const QUOTA_REASONS: ReadonlySet<string> = new Set(["dailyLimitExceeded", "quotaExceeded"]);

/** Network error codes no retry can fix: a wrong host or URL. */
const PERMANENT_NETWORK_CODES = new Set(["ENOTFOUND", "ERR_INVALID_URL", "ERR_TLS_CERT_ALTNAME_INVALID", "CERT_HAS_EXPIRED", "DEPTH_ZERO_SELF_SIGNED_CERT"]);

const SNIPPET_CHARS = 300;

interface ThrownByClient {
  readonly code?: unknown;
  readonly message?: unknown;
  readonly cause?: unknown;
  readonly response?: { readonly status?: unknown; readonly headers?: unknown; readonly data?: unknown };
}

export function failureOf(error: unknown): Failure {
  const e = (error ?? {}) as ThrownByClient;
  const status = typeof e.response?.status === "number" ? e.response.status : undefined;
  if (status !== undefined) return { kind: "http", status, retryAfter: header(e.response?.headers, "retry-after"), ...googleBody(e.response?.data) };
  const code = networkCode(error);
  const message = typeof e.message === "string" ? e.message : String(error);
  return { kind: "network", detail: code && !message.includes(code) ? `${message} (${code})` : message, permanent: code !== undefined && PERMANENT_NETWORK_CODES.has(code) };
}

export function isRetryable(f: Failure): boolean {
  switch (f.kind) {
    case "timeout":
      return true;
    case "network":
      return !f.permanent;
    case "http":
      return f.status === 429 || f.status >= 500 || (f.status === 403 && f.reason !== undefined && RATE_LIMIT_REASONS.has(f.reason));
  }
}

function googleBody(data: unknown): { message: string; reason?: string; googleStatus?: string } {
  const body = typeof data === "string" ? parseJson(data) : data;
  const error = (body as { error?: unknown } | null)?.error;
  if (typeof error === "object" && error !== null) {
    const err = error as { message?: unknown; status?: unknown; errors?: unknown };
    const first = Array.isArray(err.errors) ? (err.errors[0] as { reason?: unknown; message?: unknown } | undefined) : undefined;
    const message = typeof err.message === "string" ? err.message : typeof first?.message === "string" ? first.message : "(no message)";
    return {
      message,
      ...(typeof first?.reason === "string" ? { reason: first.reason } : {}),
      ...(typeof err.status === "string" ? { googleStatus: err.status } : {}),
    };
  }
  return { message: snippet(typeof data === "string" ? data : data === undefined ? "" : JSON.stringify(data)) };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function header(headers: unknown, name: string): string | undefined {
  // A fetch `Headers` (the client's own class, not always the global one) or a plain object.
  const get = (headers as { get?: unknown } | null)?.get;
  if (typeof get === "function") return (get.call(headers, name) as string | null) ?? undefined;
  if (typeof headers === "object" && headers !== null) {
    for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name && v !== undefined && v !== null) return String(v);
  }
  return undefined;
}

function networkCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 5; depth++, e = (e as ThrownByClient).cause) {
    const code = (e as ThrownByClient).code;
    if (typeof code === "string" && code !== "" && !/^\d+$/.test(code)) return code;
  }
  return undefined;
}

function snippet(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  if (!flat) return "(empty body)";
  return flat.length > SNIPPET_CHARS ? `${flat.slice(0, SNIPPET_CHARS)}...` : flat;
}
