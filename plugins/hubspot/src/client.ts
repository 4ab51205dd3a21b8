/**
 * The HubSpot CRM v3 batch calls the sync makes, over one axios instance, one request at a time
 * within the step's request budget (core's requestPace). Upserts by a unique property, archives and reads
 * are idempotent, so every failure worth another try is retried: 429 (after its Retry-After,
 * else with backoff), 5xx, timeouts and network errors. A refusal (401, 403, 4xx) fails at once
 * with a coded error that says what to fix. Nothing from a request (its headers hold the token)
 * reaches a message or a log.
 */
import { STATUS_CODES } from "node:http";
import type { AxiosInstance } from "axios";
import { backoffDelay, lowerCaseHeaders, parseRetryAfter, redact, requestPace, sleep, type Logger } from "@xo-foundry/core";
import { HubSpotError } from "./errors.js";

/** Longest wait between two attempts computed from `backoff_ms`. */
export const MAX_BACKOFF_MS = 30_000;

/** Longest Retry-After honoured: a task sleeping longer holds an Airflow worker slot for nothing. */
export const MAX_RETRY_AFTER_MS = 120_000;

export const DEFAULT_BASE_URL = "https://api.hubapi.com";

export interface HubSpotClientOptions {
  readonly baseUrl: URL;
  readonly token: string;
  /** Where the token lives, for hints: `connection "crm" (XO_CONN_CRM)`. */
  readonly connection: string;
  readonly requestsPerSecond: number;
  readonly maxRetries: number;
  readonly backoffMs: number;
  readonly timeoutMs: number;
  readonly log: Logger;
  readonly signal: AbortSignal;
  /** For tests: the jitter source. */
  readonly random?: () => number;
}

export interface UpsertInput {
  /** The value of the id property that finds (or creates) the object. */
  readonly id: string;
  readonly properties: Readonly<Record<string, string>>;
}

/** SimplePublicObject / SimplePublicUpsertObject, the parts the sync reads. */
export interface CrmObject {
  readonly id: string;
  readonly properties: Readonly<Record<string, string | null>>;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Upserts only: whether the object was created. */
  readonly new?: boolean;
}

/** One StandardError of a 207: what HubSpot refused and why. */
export interface BatchError {
  readonly category: string | undefined;
  /** HubSpot's reason, readable: `email: Email address x is invalid (INVALID_EMAIL)`. */
  readonly message: string;
  /** The inputs it is about (`context.ids`), when HubSpot says. */
  readonly ids: readonly string[];
}

export interface BatchOutcome {
  readonly results: readonly CrmObject[];
  readonly errors: readonly BatchError[];
}

export interface HubSpotClient {
  /** POST /crm/v3/objects/{objectType}/batch/upsert, finding objects by `idProperty`. */
  upsert(objectType: string, idProperty: string, inputs: readonly UpsertInput[]): Promise<BatchOutcome>;
  /** POST /crm/v3/objects/{objectType}/batch/archive, by object id. */
  archive(objectType: string, ids: readonly string[]): Promise<void>;
  /** POST /crm/v3/objects/{objectType}/batch/read, by object id: live objects only. */
  read(objectType: string, ids: readonly string[], properties: readonly string[]): Promise<BatchOutcome>;
}

type Outcome =
  | { readonly kind: "response"; readonly status: number; readonly headers: Record<string, string>; readonly text: string }
  | { readonly kind: "timeout" }
  | { readonly kind: "network"; readonly detail: string; readonly permanent: boolean };

/** Network error codes that no retry can fix: a host that does not exist, a URL that is not one. */
const PERMANENT_NETWORK_CODES = new Set(["ENOTFOUND", "ERR_INVALID_URL", "ERR_BAD_OPTION", "ERR_BAD_OPTION_VALUE", "CERT_HAS_EXPIRED", "ERR_TLS_CERT_ALTNAME_INVALID", "DEPTH_ZERO_SELF_SIGNED_CERT"]);

const SNIPPET_CHARS = 300;

// axios loads with the first request, not when the plugin is discovered: most CLI commands
// (validate, generate) discover plugins and send nothing.
let axiosModule: Promise<typeof import("axios")> | undefined;
const loadAxios = () => (axiosModule ??= import("axios"));

export function createHubSpotClient(options: HubSpotClientOptions): HubSpotClient {
  const budget = requestPace(options.requestsPerSecond);
  const random = options.random ?? Math.random;
  let instance: Promise<AxiosInstance> | undefined;
  const http = () =>
    (instance ??= loadAxios().then(({ default: axios }) =>
      axios.create({
        baseURL: options.baseUrl.href.replace(/\/+$/, ""),
        headers: { Accept: "application/json", "Content-Type": "application/json", Authorization: `Bearer ${options.token}` },
        // Statuses and bodies are judged here, to decide on retries and to quote HubSpot in errors.
        responseType: "text",
        transformResponse: [(data: unknown) => data],
        validateStatus: () => true,
        maxRedirects: 0,
      }),
    ));

  async function attempt(path: string, body: unknown): Promise<Outcome> {
    const timeout = AbortSignal.timeout(options.timeoutMs);
    try {
      const response = await (await http()).post<string>(path, body, { signal: AbortSignal.any([options.signal, timeout]) });
      return { kind: "response", status: response.status, headers: lowerCaseHeaders(response.headers), text: typeof response.data === "string" ? response.data : "" };
    } catch (e) {
      // axios wraps an abort in its own error; the runtime wants the signal's reason.
      options.signal.throwIfAborted();
      if (timeout.aborted) return { kind: "timeout" };
      const code = (e as { code?: unknown }).code;
      const detail = e instanceof Error ? e.message : String(e);
      return { kind: "network", detail: typeof code === "string" && !detail.includes(code) ? `${detail} (${code})` : detail, permanent: typeof code === "string" && PERMANENT_NETWORK_CODES.has(code) };
    }
  }

  /** Sends until HubSpot answers 2xx with JSON (or 204), retrying what is worth it; throws a coded error otherwise. */
  async function send(operation: string, path: string, body: unknown): Promise<unknown> {
    const what = `${operation} (POST ${path})`;
    for (let retry = 0; ; retry++) {
      await budget(options.signal);
      const outcome = await attempt(path, body);
      let failure: string;
      let wait: number | undefined;
      if (outcome.kind === "response") {
        const { status, text } = outcome;
        if (status >= 200 && status < 300) {
          if (status === 204 || text.trim() === "") return undefined;
          const parsed = parseJson(text);
          if (parsed.ok) return parsed.value;
          failure = `answered ${status} with a body that is not JSON: ${snippet(text)}`;
        } else if (status === 429 || status >= 500) {
          failure = `answered ${describeStatus(status)}${hubspotReason(text)}`;
          const retryAfter = parseRetryAfter(outcome.headers["retry-after"]);
          if (retryAfter !== undefined) wait = Math.min(retryAfter, MAX_RETRY_AFTER_MS);
        } else {
          throw refusal(status, text, what, options.connection);
        }
      } else if (outcome.kind === "timeout") {
        failure = `got no answer within ${options.timeoutMs} ms`;
      } else {
        failure = `could not reach HubSpot: ${outcome.detail}`;
        if (outcome.permanent) throw unavailable(what, failure, retry + 1);
      }
      if (retry >= options.maxRetries) {
        if (outcome.kind === "response" && outcome.status === 429) {
          throw new HubSpotError(
            "HUBSPOT_RATE_LIMITED",
            redact(`${what} ${failure} after ${retry + 1} attempts`),
            "lower rate.requests_per_second or raise max_retries; every app of the HubSpot account shares the limit",
            { status: 429, category: "RATE_LIMITS" },
          );
        }
        if (outcome.kind === "response" && outcome.status < 300) {
          throw new HubSpotError("HUBSPOT_RESPONSE_INVALID", redact(`${what} ${failure}`), "check that the connection's host is HubSpot's API (https://api.hubapi.com)", { status: outcome.status });
        }
        throw unavailable(what, failure, retry + 1);
      }
      const delay = wait ?? backoffDelay(retry, options.backoffMs, MAX_BACKOFF_MS, random);
      options.log.warn(redact(`${what} ${failure}; retry ${retry + 1} of ${options.maxRetries} in ${delay} ms`));
      await sleep(delay, options.signal);
    }
  }

  const objectsPath = (objectType: string, operation: string) => `/crm/v3/objects/${encodeURIComponent(objectType)}/batch/${operation}`;

  return {
    async upsert(objectType, idProperty, inputs) {
      const body = await send(`upsert of ${inputs.length} ${objectType}`, objectsPath(objectType, "upsert"), {
        inputs: inputs.map((i) => ({ id: i.id, idProperty, properties: i.properties })),
      });
      return batchOutcome(body, `upsert of ${objectType}`);
    },
    async archive(objectType, ids) {
      await send(`archive of ${ids.length} ${objectType}`, objectsPath(objectType, "archive"), { inputs: ids.map((id) => ({ id })) });
    },
    async read(objectType, ids, properties) {
      const body = await send(`read of ${ids.length} ${objectType}`, `${objectsPath(objectType, "read")}?archived=false`, {
        inputs: ids.map((id) => ({ id })),
        properties,
        propertiesWithHistory: [],
      });
      return batchOutcome(body, `read of ${objectType}`);
    },
  };
}

/** A 401, 403 or other 4xx as the coded error that says what to fix. */
function refusal(status: number, text: string, what: string, connection: string): HubSpotError {
  const body = parseJson(text);
  const error = body.ok && isObject(body.value) ? body.value : {};
  const category = typeof error.category === "string" ? error.category : undefined;
  const reason = readableReason(error) ?? snippet(text);
  const answer = { status, category, reason };
  const said = `${describeStatus(status)}${category ? ` ${category}` : ""}: ${reason}`;
  if (status === 401) {
    return new HubSpotError(
      "HUBSPOT_AUTH_FAILED",
      `HubSpot refused the access token of ${connection} for ${what} (${said})`,
      `renew the private app's access token (HubSpot: Settings > Integrations > Private Apps > your app > Auth) and put it in the password of ${connection}`,
      answer,
    );
  }
  if (status === 403) {
    const scopes = requiredScopes(error);
    return new HubSpotError(
      "HUBSPOT_FORBIDDEN",
      `HubSpot refused ${what} to the private app of ${connection} (${said}${scopes.length > 0 ? `; required: ${scopes.join(", ")}` : ""})`,
      scopes.length > 0
        ? `give the private app the scope${scopes.length > 1 ? "s" : ""} ${scopes.join(", ")} (HubSpot: Settings > Integrations > Private Apps > your app > Scopes)`
        : "check the private app's scopes (crm.objects.<type>.read and .write) in HubSpot: Settings > Integrations > Private Apps > your app > Scopes",
      answer,
    );
  }
  const unknown = unknownProperties(error, text);
  if (unknown.length > 0) {
    return new HubSpotError(
      "HUBSPOT_PROPERTY_UNKNOWN",
      `HubSpot has no ${unknown.map((p) => JSON.stringify(p)).join(", ")} propert${unknown.length > 1 ? "ies" : "y"} for ${what} (${said})`,
      "create the property in HubSpot, or map the column to an existing property's internal name in `properties: { column: property }`",
      answer,
    );
  }
  return new HubSpotError("HUBSPOT_REQUEST_REFUSED", `HubSpot refused ${what} (${said})`, "fix what HubSpot names above in the step's options or the model", {
    ...answer,
    aboutValues: status === 400 && refusesValues(error, text),
  });
}

function unavailable(what: string, failure: string, attempts: number): HubSpotError {
  return new HubSpotError(
    "HUBSPOT_UNAVAILABLE",
    redact(`${what} ${failure} (${attempts} attempt${attempts > 1 ? "s" : ""})`),
    "re-run the task later (what was sent is idempotent); check the connection's host if it never works",
  );
}

/** A 200/207 batch response: its results and its errors. */
function batchOutcome(body: unknown, what: string): BatchOutcome {
  if (!isObject(body) || !Array.isArray(body.results)) {
    throw new HubSpotError("HUBSPOT_RESPONSE_INVALID", `the ${what} answer has no \`results\` list: ${snippet(JSON.stringify(body) ?? "")}`, "check that the connection's host is HubSpot's API");
  }
  const results: CrmObject[] = [];
  for (const r of body.results) {
    if (!isObject(r) || typeof r.id !== "string" || !isObject(r.properties) || typeof r.updatedAt !== "string") {
      throw new HubSpotError("HUBSPOT_RESPONSE_INVALID", `the ${what} answer has a result without id, properties or updatedAt: ${snippet(JSON.stringify(r) ?? "")}`, "check that the connection's host is HubSpot's API");
    }
    results.push({
      id: r.id,
      properties: r.properties as Record<string, string | null>,
      createdAt: typeof r.createdAt === "string" ? r.createdAt : r.updatedAt,
      updatedAt: r.updatedAt,
      ...(typeof r.new === "boolean" ? { new: r.new } : {}),
    });
  }
  const errors: BatchError[] = (Array.isArray(body.errors) ? body.errors : []).filter(isObject).map((e) => ({
    category: typeof e.category === "string" ? e.category : undefined,
    message: readableReason(e) ?? "refused without a reason",
    ids: contextIds(e),
  }));
  return { results, errors };
}

/** HubSpot's reason, preferring its structured `errors[]` (`email: ... (INVALID_EMAIL)`) over the message that embeds them as JSON. */
function readableReason(error: Record<string, unknown>): string | undefined {
  const details = (Array.isArray(error.errors) ? error.errors : []).filter(isObject).filter((d) => typeof d.message === "string");
  const structured = details.filter((d) => typeof d.code === "string" || typeof d.in === "string");
  if (structured.length > 0) return structured.map((d) => `${typeof d.in === "string" ? `${d.in}: ` : ""}${String(d.message)}${typeof d.code === "string" ? ` (${d.code})` : ""}`).join("; ");
  if (typeof error.message === "string" && error.message !== "") return error.message;
  return details.length > 0 ? details.map((d) => String(d.message)).join("; ") : undefined;
}

/** Every id a StandardError's `context` lists (HubSpot names them `ids`). */
function contextIds(error: Record<string, unknown>): string[] {
  const context = isObject(error.context) ? error.context : {};
  const ids = context.ids;
  return Array.isArray(ids) ? ids.map(String) : [];
}

function requiredScopes(error: Record<string, unknown>): string[] {
  const scopes = new Set<string>();
  for (const d of (Array.isArray(error.errors) ? error.errors : []).filter(isObject)) {
    const context = isObject(d.context) ? d.context : {};
    for (const key of ["requiredGranularScopes", "requiredScopes"]) {
      const list = context[key];
      if (Array.isArray(list)) for (const s of list) scopes.add(String(s));
    }
  }
  return [...scopes];
}

/**
 * Whether a 400 is about some inputs' values (HubSpot's "Property values were not valid", an
 * INVALID_* code, duplicate ids) rather than the request itself (an unknown object type).
 */
function refusesValues(error: Record<string, unknown>, text: string): boolean {
  if (text.includes("Property values were not valid") || text.includes("Duplicate IDs")) return true;
  return (Array.isArray(error.errors) ? error.errors : []).filter(isObject).some((d) => typeof d.code === "string" && d.code.startsWith("INVALID_"));
}

/** Properties a 400 says do not exist, from `errors[]` or from the JSON list HubSpot embeds in its message. */
function unknownProperties(error: Record<string, unknown>, text: string): string[] {
  if (!text.includes("PROPERTY_DOESNT_EXIST")) return [];
  const names = new Set<string>();
  for (const d of (Array.isArray(error.errors) ? error.errors : []).filter(isObject)) {
    if (d.code === "PROPERTY_DOESNT_EXIST" && typeof d.in === "string") names.add(d.in);
  }
  const message = typeof error.message === "string" ? error.message : "";
  const list = message.indexOf("[");
  if (list >= 0) {
    const parsed = parseJson(message.slice(list));
    if (parsed.ok && Array.isArray(parsed.value)) {
      for (const p of parsed.value.filter(isObject)) if (p.error === "PROPERTY_DOESNT_EXIST" && typeof p.name === "string") names.add(p.name);
    }
  }
  return names.size > 0 ? [...names] : ["(unnamed)"];
}

function hubspotReason(text: string): string {
  const parsed = parseJson(text);
  if (!parsed.ok || !isObject(parsed.value)) return text.trim() ? `: ${snippet(text)}` : "";
  const reason = readableReason(parsed.value);
  const policy = typeof parsed.value.policyName === "string" ? ` [${parsed.value.policyName}]` : "";
  return reason ? `: ${reason}${policy}` : policy;
}

function describeStatus(status: number): string {
  return `HTTP ${status}${STATUS_CODES[status] ? ` ${STATUS_CODES[status]}` : ""}`;
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function snippet(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return redact(flat.length > SNIPPET_CHARS ? `${flat.slice(0, SNIPPET_CHARS)}...` : flat);
}
