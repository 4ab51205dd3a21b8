/**
 * Gmail API v1 request rules, transcribed for the loopback emulator (gmail_server.ts); ADR 0009.
 *
 * Sources, read not copied, each rule below naming the part it comes from:
 *  - The Gmail API discovery document `gmail:v1` (https://gmail.googleapis.com/$discovery/rest?version=v1):
 *    methods, paths, parameters, enums and scopes, read in two generated forms:
 *      - `@googleapis/gmail` 18.0.0 (googleapis' generated client, the one the plugin uses),
 *        build/v1.d.ts: `Params$Resource$Users$*` (parameters and their prose), `Schema$*`
 *        (response shapes) and each method's scope list;
 *      - the discovery JSON as vendored in github.com/googleapis/google-api-go-client,
 *        gmail/v1/gmail-api.json (commit 034a6b8f84f11d7953d99efd16cec6377cd8ed94), for the
 *        enums the generated client leaves out (`format`, `historyTypes`) and defaults.
 *    Neither form states the discovery `revision` it was generated from.
 *  - Gmail's reference pages (developers.google.com/workspace/gmail/api/reference/rest/v1/...):
 *    users.messages.list ("maxResults ... defaults to 100. The maximum allowed value ... is 500",
 *    "labelIds[]: Only return messages with labels that match all of the specified label IDs"),
 *    users.history.list ("Supplying an invalid or out of date startHistoryId typically returns an
 *    HTTP 404"; "History results are returned in chronological order (increasing historyId)").
 *  - Guides: "Searching for messages" (guides/filtering: "dates are interpreted as midnight PST
 *    unless specified in seconds"), "Synchronize clients with Gmail" (guides/sync), "Resolve
 *    errors" (guides/handle-errors: the error bodies and reasons below).
 *
 * Where the description is silent the rule says ASSUMED; where this file refuses more than
 * Gmail might, STRICTER.
 */

export type MethodId =
  | "gmail.users.getProfile"
  | "gmail.users.labels.list"
  | "gmail.users.messages.list"
  | "gmail.users.messages.get"
  | "gmail.users.messages.attachments.get"
  | "gmail.users.history.list";

interface ParamRule {
  readonly type: "string" | "uint32" | "uint64" | "boolean";
  readonly repeated?: boolean;
  readonly enum?: readonly string[];
  readonly required?: boolean;
  /** Largest value of an integer parameter, from the reference prose. */
  readonly max?: number;
}

export interface MethodRule {
  readonly id: MethodId;
  /** `path`, anchored, with the path parameters captured in `pathParams` order. */
  readonly path: RegExp;
  readonly pathParams: readonly string[];
  readonly params: Readonly<Record<string, ParamRule>>;
  /** The method's `scopes`: a token needs one of them. */
  readonly scopes: readonly string[];
}

const MAIL = "https://mail.google.com/";
const scope = (name: string) => `https://www.googleapis.com/auth/gmail.${name}`;
export const METADATA_SCOPE = scope("metadata");

/** Discovery `parameters`: the standard query parameters every method takes. */
const STANDARD_PARAMETERS: Readonly<Record<string, ParamRule>> = {
  "$.xgafv": { type: "string", enum: ["1", "2"] },
  access_token: { type: "string" },
  alt: { type: "string", enum: ["json", "media", "proto"] },
  callback: { type: "string" },
  fields: { type: "string" },
  key: { type: "string" },
  oauth_token: { type: "string" },
  prettyPrint: { type: "boolean" },
  quotaUser: { type: "string" },
  uploadType: { type: "string" },
  upload_protocol: { type: "string" },
};

const USER = "([^/]+)";
const ID = "([^/]+)";

export const METHODS: readonly MethodRule[] = [
  {
    id: "gmail.users.getProfile",
    path: new RegExp(`^/gmail/v1/users/${USER}/profile$`),
    pathParams: ["userId"],
    params: {},
    scopes: [MAIL, scope("compose"), scope("metadata"), scope("modify"), scope("readonly")],
  },
  {
    id: "gmail.users.labels.list",
    path: new RegExp(`^/gmail/v1/users/${USER}/labels$`),
    pathParams: ["userId"],
    params: {},
    scopes: [MAIL, scope("labels"), scope("metadata"), scope("modify"), scope("readonly")],
  },
  {
    id: "gmail.users.messages.list",
    path: new RegExp(`^/gmail/v1/users/${USER}/messages$`),
    pathParams: ["userId"],
    params: {
      includeSpamTrash: { type: "boolean" },
      labelIds: { type: "string", repeated: true },
      maxResults: { type: "uint32", max: 500 },
      pageToken: { type: "string" },
      q: { type: "string" },
    },
    scopes: [MAIL, scope("metadata"), scope("modify"), scope("readonly")],
  },
  {
    id: "gmail.users.messages.attachments.get",
    path: new RegExp(`^/gmail/v1/users/${USER}/messages/${ID}/attachments/${ID}$`),
    pathParams: ["userId", "messageId", "id"],
    params: {},
    scopes: [MAIL, scope("addons.current.message.action"), scope("addons.current.message.readonly"), scope("modify"), scope("readonly")],
  },
  {
    id: "gmail.users.messages.get",
    path: new RegExp(`^/gmail/v1/users/${USER}/messages/${ID}$`),
    pathParams: ["userId", "id"],
    params: {
      format: { type: "string", enum: ["minimal", "full", "raw", "metadata"] },
      metadataHeaders: { type: "string", repeated: true },
    },
    scopes: [
      MAIL,
      scope("addons.current.message.action"),
      scope("addons.current.message.metadata"),
      scope("addons.current.message.readonly"),
      scope("metadata"),
      scope("modify"),
      scope("readonly"),
    ],
  },
  {
    id: "gmail.users.history.list",
    path: new RegExp(`^/gmail/v1/users/${USER}/history$`),
    pathParams: ["userId"],
    params: {
      historyTypes: { type: "string", repeated: true, enum: ["messageAdded", "messageDeleted", "labelAdded", "labelRemoved"] },
      labelId: { type: "string" },
      maxResults: { type: "uint32", max: 500 },
      pageToken: { type: "string" },
      startHistoryId: { type: "uint64", required: true },
    },
    scopes: [MAIL, scope("metadata"), scope("modify"), scope("readonly")],
  },
];

/** `maxResults` when a list request gives none: "This field defaults to 100." */
export const DEFAULT_MAX_RESULTS = 100;

export type ParamValue = string | number | boolean | readonly string[];

export function matchMethod(method: string, pathname: string): { rule: MethodRule; pathParams: Record<string, string> } | undefined {
  // Only GET methods are served; anything else is an unknown route (STRICTER: Google would answer 405 or 404).
  if (method !== "GET") return undefined;
  for (const rule of METHODS) {
    const m = rule.path.exec(pathname);
    if (!m) continue;
    const pathParams: Record<string, string> = {};
    rule.pathParams.forEach((name, i) => (pathParams[name] = decodeURIComponent(m[i + 1]!)));
    return { rule, pathParams };
  }
  return undefined;
}

/** The query parameters as the rule types them, or Google's 400 for the first one it refuses. */
export function readParams(rule: MethodRule, query: URLSearchParams): { params: Record<string, ParamValue> } | { error: GoogleError } {
  const params: Record<string, ParamValue> = {};
  for (const name of new Set(query.keys())) {
    const p = rule.params[name] ?? STANDARD_PARAMETERS[name];
    // STRICTER: Google ignores unknown query parameters; refusing them catches a misspelt one.
    if (!p) return { error: badRequest(`Unknown parameter: '${name}' (the emulator refuses parameters the discovery document does not list)`, "invalidParameter") };
    const values = query.getAll(name);
    // STRICTER: a non-repeated parameter given twice.
    if (!p.repeated && values.length > 1) return { error: badRequest(`Parameter '${name}' is not repeated but was given ${values.length} times`, "invalidParameter") };
    for (const v of values) {
      if (p.enum && !p.enum.includes(v)) return { error: badRequest(`Invalid value at '${name}' (TYPE_ENUM), "${v}"`, "invalid") };
      if ((p.type === "uint32" || p.type === "uint64") && !/^\d+$/.test(v)) return { error: badRequest(`Invalid value at '${name}' (TYPE_${p.type.toUpperCase()}), "${v}"`, "invalid") };
      if (p.type === "boolean" && v !== "true" && v !== "false") return { error: badRequest(`Invalid value at '${name}' (TYPE_BOOL), "${v}"`, "invalid") };
    }
    const one = values[0]!;
    params[name] = p.repeated ? values : p.type === "uint32" ? Number(one) : p.type === "boolean" ? one === "true" : one;
    // STRICTER: the reference says the maximum is 500; Gmail may cap silently instead of refusing.
    if (p.max !== undefined && typeof params[name] === "number" && params[name] > p.max) {
      return { error: badRequest(`Invalid value at '${name}': ${one} is above the maximum of ${p.max}`, "invalid") };
    }
  }
  for (const [name, p] of Object.entries(rule.params)) {
    // ASSUMED wording; the requirement is the reference's ("Required. Returns history records after ...").
    if (p.required && !query.has(name)) return { error: badRequest(`Required parameter: ${name}`, "required") };
  }
  return { params };
}

// ------------------------------------------------------------------ error bodies

/**
 * An error as Google's JSON APIs answer it ("Resolve errors" guide): `error.code`, `error.message`,
 * `error.errors[{message, domain, reason}]`. The guide's examples carry no `error.status`; live
 * Google APIs add the google.rpc code name there, and so does the emulator (the plugin does not
 * rely on it).
 */
export class GoogleError {
  constructor(
    readonly code: number,
    readonly status: string,
    readonly message: string,
    readonly reason: string,
    readonly domain: string = "global",
    readonly headers: Readonly<Record<string, string>> = {},
    readonly itemMessage: string = message,
  ) {}

  body(): object {
    return { error: { code: this.code, message: this.message, errors: [{ message: this.itemMessage, domain: this.domain, reason: this.reason }], status: this.status } };
  }
}

export function badRequest(message: string, reason = "badRequest"): GoogleError {
  return new GoogleError(400, "INVALID_ARGUMENT", message, reason);
}

/** "Resolve a 401 error": reason authError, "Invalid Credentials"; the WWW-Authenticate header is RFC 6750's (ASSUMED values). */
export function invalidCredentials(): GoogleError {
  return new GoogleError(401, "UNAUTHENTICATED", "Invalid Credentials", "authError", "global", { "WWW-Authenticate": 'Bearer realm="https://accounts.google.com/", error="invalid_token"' });
}

/** A token without any of the method's scopes. ASSUMED wording (Google's common answer). */
export function insufficientScopes(): GoogleError {
  return new GoogleError(403, "PERMISSION_DENIED", "Request had insufficient authentication scopes.", "insufficientPermissions", "global", {}, "Insufficient Permission");
}

/** `userId` other than `me` or the mailbox of the token. ASSUMED wording (Gmail's common answer). */
export function delegationDenied(userId: string): GoogleError {
  return new GoogleError(403, "PERMISSION_DENIED", `Delegation denied for ${userId}`, "forbidden");
}

/** gmail.metadata tokens: the `q` parameter's description ("cannot be used when accessing the api using the gmail.metadata scope"). Wording ASSUMED. */
export function metadataScope(message: string): GoogleError {
  return new GoogleError(403, "PERMISSION_DENIED", message, "forbidden");
}

/** A service account acting as itself (no `sub`), or a user without Gmail. ASSUMED wording (Google's common answer). */
export function failedPrecondition(): GoogleError {
  return new GoogleError(400, "FAILED_PRECONDITION", "Precondition check failed.", "failedPrecondition");
}

/** Google's generic 404 body. ASSUMED wording. */
export function notFound(): GoogleError {
  return new GoogleError(404, "NOT_FOUND", "Requested entity was not found.", "notFound");
}

/** Scripted quota and server faults, as the "Resolve errors" guide shows them. */
export const FAULTS = {
  /** "Resolve a 429 error: Too many requests" (domain usageLimits, reason rateLimitExceeded). */
  tooManyRequests: (retryAfter?: string) =>
    new GoogleError(429, "RESOURCE_EXHAUSTED", "Too many concurrent requests for user", "rateLimitExceeded", "usageLimits", retryAfter !== undefined ? { "Retry-After": retryAfter } : {}),
  /** "Resolve a 403 error: Project rate limit exceeded". */
  rateLimitExceeded: () => new GoogleError(403, "PERMISSION_DENIED", "Rate Limit Exceeded", "rateLimitExceeded", "usageLimits"),
  /** "Resolve a 403 error: User rate limit exceeded". */
  userRateLimitExceeded: () => new GoogleError(403, "PERMISSION_DENIED", "User Rate Limit Exceeded", "userRateLimitExceeded", "usageLimits"),
  /** "Resolve a 403 error: Daily limit exceeded". */
  dailyLimitExceeded: () => new GoogleError(403, "PERMISSION_DENIED", "Daily Limit Exceeded", "dailyLimitExceeded", "usageLimits"),
  /** "Resolve a 403 error: The domain administrators have disabled Gmail apps". */
  domainPolicy: () => new GoogleError(403, "PERMISSION_DENIED", "The domain administrators have disabled Gmail apps.", "domainPolicy"),
  /** "Resolve a 500 error: Backend error". */
  backendError: () => new GoogleError(500, "INTERNAL", "Backend Error", "backendError"),
  /** The guide lists 502, 503 and 504 with 500; the body is ASSUMED alike. */
  unavailable: (retryAfter?: string) => new GoogleError(503, "UNAVAILABLE", "The service is currently unavailable.", "backendError", "global", retryAfter !== undefined ? { "Retry-After": retryAfter } : {}),
} as const;
