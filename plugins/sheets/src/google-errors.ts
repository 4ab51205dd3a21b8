/**
 * Failed Sheets API calls: what Google said (its JSON error body, `{ error: { code, message,
 * status, errors?: [{ reason }], details?: [{ reason }] } }`, described in Google's API design
 * guide, AIP-193, and in the Sheets "Troubleshoot API errors" page), whether trying again can
 * help, and the plugin error a user gets when it cannot.
 */
import { STATUS_CODES } from "node:http";
import { SheetsError } from "./errors.js";

/** What went wrong with one attempt. */
export type Failure =
  | {
      readonly kind: "response";
      readonly status: number;
      /** Google's `error.status`, e.g. `NOT_FOUND`, when the body has one. */
      readonly googleStatus: string | undefined;
      readonly message: string;
      /** `errors[].reason` and `details[].reason`, e.g. `rateLimitExceeded`, `RATE_LIMIT_EXCEEDED`. */
      readonly reasons: readonly string[];
      readonly retryAfter: string | undefined;
    }
  | { readonly kind: "network"; readonly detail: string };

/** Reasons with which Google answers 403 for a rate limit, in the old (`errors`) and the new (`details`) error shapes. */
const RATE_LIMIT_REASONS = new Set(["rateLimitExceeded", "userRateLimitExceeded", "RATE_LIMIT_EXCEEDED"]);
/** Reasons of a 403 that say the token lacks a scope. */
const SCOPE_REASONS = new Set(["ACCESS_TOKEN_SCOPE_INSUFFICIENT", "insufficientPermissions"]);
/** Reasons of a 403 that say the API is off in the caller's Cloud project. */
const DISABLED_REASONS = new Set(["SERVICE_DISABLED", "accessNotConfigured"]);

/** Reads the error a googleapis (gaxios) call rejected with. Only status, body and Retry-After: the error also carries the request, Authorization header included. */
export function failureOf(e: unknown): Failure {
  const response = (e as { response?: { status?: unknown; data?: unknown; headers?: unknown } } | null)?.response;
  if (response && typeof response.status === "number") {
    const body = errorBody(response.data);
    return {
      kind: "response",
      status: response.status,
      googleStatus: body.status,
      message: body.message ?? STATUS_CODES[response.status] ?? `HTTP ${response.status}`,
      reasons: body.reasons,
      retryAfter: header(response.headers, "retry-after"),
    };
  }
  const code = (e as { code?: unknown } | null)?.code;
  const message = e instanceof Error ? e.message : String(e);
  return { kind: "network", detail: typeof code === "string" && !message.includes(code) ? `${message} (${code})` : message };
}

function errorBody(data: unknown): { message?: string; status?: string; reasons: string[] } {
  let parsed = data;
  if (typeof data === "string") {
    try {
      parsed = JSON.parse(data);
    } catch {
      return { ...(data.trim() ? { message: data.trim().slice(0, 300) } : {}), reasons: [] };
    }
  }
  const error = (parsed as { error?: unknown } | null)?.error;
  if (typeof error !== "object" || error === null) return { reasons: [] };
  const e = error as { message?: unknown; status?: unknown; errors?: unknown; details?: unknown };
  const reasons = [...listOf(e.errors), ...listOf(e.details)]
    .map((item) => (item as { reason?: unknown }).reason)
    .filter((r): r is string => typeof r === "string");
  return {
    ...(typeof e.message === "string" ? { message: e.message } : {}),
    ...(typeof e.status === "string" ? { status: e.status } : {}),
    reasons,
  };
}

function listOf(value: unknown): object[] {
  return Array.isArray(value) ? value.filter((v): v is object => typeof v === "object" && v !== null) : [];
}

function header(headers: unknown, name: string): string | undefined {
  if (headers && typeof (headers as Headers).get === "function") return (headers as Headers).get(name) ?? undefined;
  const value = (headers as Record<string, unknown> | undefined)?.[name];
  return typeof value === "string" ? value : undefined;
}

/** 429, a 403 for a rate limit, 5xx and network errors (timeouts included) can pass; anything else is an answer. */
export function isRetryable(failure: Failure): boolean {
  if (failure.kind === "network") return true;
  const { status } = failure;
  return status === 429 || status >= 500 || (status === 403 && failure.reasons.some((r) => RATE_LIMIT_REASONS.has(r)));
}

/** One line for logs and messages: `HTTP 404 NOT_FOUND: Requested entity was not found.` */
export function describeFailure(failure: Failure): string {
  if (failure.kind === "network") return `failed: ${failure.detail}`;
  return `got HTTP ${failure.status}${failure.googleStatus ? ` ${failure.googleStatus}` : ""}: ${failure.message}`;
}

/** Who reads the spreadsheet, for hints that say whom to share it with. */
export interface Identity {
  /** `connection "finance_google" (XO_CONN_FINANCE_GOOGLE)` */
  readonly connection: string;
  /** The service account's client_email, when the connection holds a key. */
  readonly serviceAccount: string | undefined;
}

/** What a request was for: the spreadsheet, and the range it read when it read one. */
export interface RequestInfo {
  readonly spreadsheetId: string;
  /** `the list of sheets`, `rows 2 to 5001 of 'Budget 2026'` */
  readonly what: string;
  readonly range?: string;
}

/** The plugin error for a failure that retries cannot fix, or that they did not. */
export function toSheetsError(failure: Failure, request: RequestInfo, identity: Identity, attempts: number): SheetsError {
  const where = `spreadsheet ${request.spreadsheetId}${request.range ? `, range ${request.range}` : ""} (${request.what})`;
  const tries = attempts > 1 ? ` after ${attempts} attempts` : "";
  const share = identity.serviceAccount
    ? `share the spreadsheet with the service account ${identity.serviceAccount} (Share > add it as Viewer)`
    : `make sure the Google account that authorized ${identity.connection} can open the spreadsheet`;
  if (failure.kind === "network" || isRetryable(failure)) {
    return new SheetsError(
      "SHEETS_UNAVAILABLE",
      `Google Sheets ${describeFailure(failure)} for ${where}${tries}`,
      failure.kind === "response" && (failure.status === 429 || failure.status === 403)
        ? "the read quota ran out (Sheets allows 300 read requests per minute per project and 60 per user): run fewer Sheets tasks at once (an Airflow pool), raise `batch_rows` so fewer requests are needed, or raise `max_retries`/`backoff_ms`"
        : "Google or the network kept failing: re-run the task later, or raise `max_retries`/`timeout_ms`; check `root_url` if you set it",
      failure.kind === "response" ? failure.status : undefined,
    );
  }
  const { status, reasons } = failure;
  const said = `Google Sheets ${describeFailure(failure)}`;
  if (status === 404) {
    return new SheetsError("SHEETS_NOT_FOUND", `${said}, for ${where}`, `check \`spreadsheet_id\` (the part of the spreadsheet's URL between /d/ and /edit), and ${share}`, status);
  }
  if (status === 403) {
    const hint = reasons.some((r) => SCOPE_REASONS.has(r))
      ? `the access token of ${identity.connection} lacks a Sheets scope: authorize the OAuth client again with https://www.googleapis.com/auth/spreadsheets.readonly`
      : reasons.some((r) => DISABLED_REASONS.has(r))
        ? `enable the Google Sheets API in the Google Cloud project of ${identity.connection} (APIs & Services > Library > Google Sheets API)`
        : share;
    return new SheetsError("SHEETS_PERMISSION_DENIED", `${said}, for ${where}`, hint, status);
  }
  if (status === 401) {
    return new SheetsError(
      "SHEETS_UNAUTHENTICATED",
      `${said}, for ${where}, with a freshly issued access token too`,
      `check the credentials in ${identity.connection} and \`token_url\`: Google does not accept the tokens its token endpoint issues for them`,
      status,
    );
  }
  if (status === 400 && /unable to parse range|exceeds grid limits/i.test(failure.message)) {
    return new SheetsError(
      "SHEETS_RANGE_INVALID",
      `${said}, for ${where}`,
      "check the stream's `range` or `sheet`: sheet titles must match exactly (case and spaces included) and the cells must lie within the sheet",
      status,
    );
  }
  return new SheetsError("SHEETS_REQUEST_REJECTED", `${said}, for ${where}`, "fix the option Google's message points at; if it names none, report it with this message", status);
}
