/**
 * OAuth 2 access tokens for every HTTP plugin: the client credentials grant and the
 * refresh token grant of RFC 6749, and the JWT bearer grant of RFC 7523 that Google
 * service accounts use (with `sub` for domain-wide delegation). One token per grant is
 * cached for the whole process and fetched again a minute before it expires; callers that
 * ask at the same time share one request. Every credential and every token is registered
 * with the redactor before it can reach a log line or an error.
 */
import { createHash } from "node:crypto";
import { connectionEnvVar, describeConnection, type Connection } from "./connections.js";
import { xoError } from "./errors.js";
import type { Logger } from "./log.js";
import { redact, registerSecret } from "./redact.js";
import { backoffDelay, parseRetryAfter, sleep } from "./retry.js";

/** Google's token endpoint: the default for service-account keys without `token_uri`. */
export const GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token";

/** How a client proves who it is to the token endpoint (RFC 6749 section 2.3.1). */
export type ClientAuthentication = "basic" | "body";

export type OAuth2Grant =
  | {
      readonly type: "client_credentials";
      readonly tokenUrl: string;
      readonly clientId: string;
      readonly clientSecret: string;
      readonly scopes?: readonly string[];
      /** Sent as `audience`, which Auth0 and others require for machine-to-machine tokens. */
      readonly audience?: string;
      readonly clientAuth?: ClientAuthentication;
    }
  | {
      readonly type: "refresh_token";
      readonly tokenUrl: string;
      readonly clientId: string;
      readonly clientSecret?: string;
      readonly refreshToken: string;
      readonly scopes?: readonly string[];
      readonly clientAuth?: ClientAuthentication;
    }
  | {
      readonly type: "service_account";
      readonly tokenUrl: string;
      readonly clientEmail: string;
      /** PKCS #8 PEM, as in a service-account key file. */
      readonly privateKey: string;
      readonly privateKeyId?: string;
      readonly scopes: readonly string[];
      /** The user to act as (domain-wide delegation). */
      readonly subject?: string;
    };

export interface AccessTokenSource {
  /** A bearer token valid for at least another minute. */
  token(signal?: AbortSignal): Promise<string>;
  /** Forget `token` after an API refused it (401), so the next call fetches a new one. */
  invalidate(token: string): void;
}

export interface TokenSourceOptions {
  /** The connection id the credentials came from; errors name it and its variable. */
  readonly connection: string;
  readonly log?: Logger;
  /** Timeout of one token request; default 30 s. */
  readonly timeoutMs?: number;
  /** Retries after network errors, 429 and 5xx; default 3. */
  readonly maxRetries?: number;
  /** First retry delay; default 500 ms. */
  readonly backoffMs?: number;
}

/** Tokens are fetched again this long before they expire, so none expires in flight. */
const EXPIRY_MARGIN_MS = 60_000;
/** When a token endpoint gives no `expires_in`, how long a token is trusted. */
const DEFAULT_LIFETIME_S = 3600;
/** Lifetime of a service account's signed assertion; Google accepts at most an hour. */
const ASSERTION_LIFETIME_S = 3600;

interface CachedToken {
  readonly value: string;
  readonly expiresAt: number;
}

interface CacheEntry {
  current?: CachedToken;
  pending?: Promise<CachedToken>;
}

/** One entry per distinct grant, shared by every source, stream and step of the process. */
const cache = new Map<string, CacheEntry>();

export function oauth2TokenSource(grant: OAuth2Grant, options: TokenSourceOptions): AccessTokenSource {
  registerGrantSecrets(grant);
  const key = grantKey(grant);
  const entry = cache.get(key) ?? cache.set(key, {}).get(key)!;
  return {
    async token(signal) {
      const current = entry.current;
      if (current && current.expiresAt - EXPIRY_MARGIN_MS > Date.now()) return current.value;
      // One request for everyone who asks while it is under way.
      entry.pending ??= requestToken(grant, options, signal).finally(() => (entry.pending = undefined));
      const fresh = await entry.pending;
      entry.current = fresh;
      return fresh.value;
    },
    invalidate(token) {
      if (entry.current?.value === token) entry.current = undefined;
    },
  };
}

/** Drops every cached token (tests that restart their token endpoint). */
export function clearOAuth2Cache(): void {
  cache.clear();
}

function grantKey(grant: OAuth2Grant): string {
  return createHash("sha256").update(JSON.stringify(grant)).digest("hex");
}

function registerGrantSecrets(grant: OAuth2Grant): void {
  switch (grant.type) {
    case "client_credentials":
      registerSecret(grant.clientSecret, { login: grant.clientId });
      break;
    case "refresh_token":
      registerSecret(grant.refreshToken);
      registerSecret(grant.clientSecret, { login: grant.clientId });
      break;
    case "service_account":
      registerSecret(grant.privateKey);
      break;
  }
}

// ---------------------------------------------------------------- the token request

async function requestToken(grant: OAuth2Grant, options: TokenSourceOptions, signal: AbortSignal | undefined): Promise<CachedToken> {
  const maxRetries = options.maxRetries ?? 3;
  const where = describeConnection(options.connection);
  for (let attempt = 1; ; attempt++) {
    signal?.throwIfAborted();
    const { body, headers } = await tokenRequest(grant);
    const outcome = await post(grant.tokenUrl, body, headers, options.timeoutMs ?? 30_000, signal);
    if (outcome.kind === "response" && outcome.status >= 200 && outcome.status < 300) {
      return parseToken(outcome.text, grant.tokenUrl, where);
    }
    const retryable = outcome.kind === "network" || outcome.status === 429 || outcome.status >= 500;
    if (!retryable) throw refused(outcome.status, outcome.text, grant, options.connection);
    if (attempt > maxRetries) {
      const detail = outcome.kind === "network" ? outcome.detail : `HTTP ${outcome.status}`;
      throw xoError("XO_OAUTH_UNAVAILABLE", { connection: options.connection, envVar: connectionEnvVar(options.connection), tokenUrl: grant.tokenUrl, detail: redact(detail), attempts: attempt });
    }
    const delay = (outcome.kind === "response" ? parseRetryAfter(outcome.retryAfter) : undefined) ?? backoffDelay(attempt - 1, options.backoffMs ?? 500, 30_000);
    options.log?.warn(`token request to ${grant.tokenUrl} failed (${outcome.kind === "network" ? redact(outcome.detail) : `HTTP ${outcome.status}`}); retry ${attempt} of ${maxRetries} in ${delay} ms`);
    await sleep(delay, signal ?? new AbortController().signal);
  }
}

async function tokenRequest(grant: OAuth2Grant): Promise<{ body: URLSearchParams; headers: Record<string, string> }> {
  const body = new URLSearchParams();
  const headers: Record<string, string> = {};
  const client = (id: string, secret: string | undefined, how: ClientAuthentication) => {
    if (how === "basic" && secret !== undefined) {
      // RFC 6749 section 2.3.1: both parts form-encoded before they are joined.
      const encoded = Buffer.from(`${formEncode(id)}:${formEncode(secret)}`).toString("base64");
      registerSecret(encoded);
      headers.Authorization = `Basic ${encoded}`;
    } else {
      body.set("client_id", id);
      if (secret !== undefined) body.set("client_secret", secret);
    }
  };
  switch (grant.type) {
    case "client_credentials":
      body.set("grant_type", "client_credentials");
      if (grant.scopes?.length) body.set("scope", grant.scopes.join(" "));
      if (grant.audience !== undefined) body.set("audience", grant.audience);
      client(grant.clientId, grant.clientSecret, grant.clientAuth ?? "basic");
      break;
    case "refresh_token":
      body.set("grant_type", "refresh_token");
      body.set("refresh_token", grant.refreshToken);
      if (grant.scopes?.length) body.set("scope", grant.scopes.join(" "));
      // Google and most providers of refresh tokens expect the client in the body.
      client(grant.clientId, grant.clientSecret, grant.clientAuth ?? "body");
      break;
    case "service_account": {
      body.set("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer");
      const assertion = await signAssertion(grant);
      registerSecret(assertion);
      body.set("assertion", assertion);
      break;
    }
  }
  return { body, headers };
}

function formEncode(text: string): string {
  return new URLSearchParams({ x: text }).toString().slice(2);
}

// jose loads only for service accounts: most runs never sign anything.
async function signAssertion(grant: Extract<OAuth2Grant, { type: "service_account" }>): Promise<string> {
  const { SignJWT, importPKCS8 } = await import("jose");
  let key: Awaited<ReturnType<typeof importPKCS8>>;
  try {
    key = await importPKCS8(grant.privateKey, "RS256");
  } catch {
    throw new Error("the service account's private_key is not a PKCS #8 PEM key; paste the key file's private_key unchanged");
  }
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({ scope: grant.scopes.join(" ") })
    .setProtectedHeader({ alg: "RS256", typ: "JWT", ...(grant.privateKeyId !== undefined ? { kid: grant.privateKeyId } : {}) })
    .setIssuer(grant.clientEmail)
    .setAudience(grant.tokenUrl)
    .setIssuedAt(now)
    .setExpirationTime(now + ASSERTION_LIFETIME_S);
  if (grant.subject !== undefined) jwt.setSubject(grant.subject);
  return jwt.sign(key);
}

type Outcome =
  | { readonly kind: "response"; readonly status: number; readonly text: string; readonly retryAfter?: string }
  | { readonly kind: "network"; readonly detail: string };

async function post(url: string, body: URLSearchParams, headers: Record<string, string>, timeoutMs: number, signal: AbortSignal | undefined): Promise<Outcome> {
  const timeout = AbortSignal.timeout(timeoutMs);
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json", ...headers },
      body,
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      redirect: "error",
    });
    const retryAfter = response.headers.get("retry-after") ?? undefined;
    return { kind: "response", status: response.status, text: await response.text(), ...(retryAfter !== undefined ? { retryAfter } : {}) };
  } catch (e) {
    signal?.throwIfAborted();
    if (timeout.aborted) return { kind: "network", detail: `no answer within ${timeoutMs} ms` };
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    return { kind: "network", detail: cause?.code ?? cause?.message ?? (e instanceof Error ? e.message : String(e)) };
  }
}

function parseToken(text: string, tokenUrl: string, where: string): CachedToken {
  let body: { access_token?: unknown; expires_in?: unknown; token_type?: unknown } | undefined;
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    // Fall through to the error below.
  }
  const value = body?.access_token;
  if (typeof value !== "string" || value === "") {
    throw new Error(`the token endpoint ${tokenUrl} answered without an access_token for ${where}; check the token URL`);
  }
  if (typeof body?.token_type === "string" && body.token_type.toLowerCase() !== "bearer") {
    throw new Error(`the token endpoint ${tokenUrl} issued a ${JSON.stringify(body.token_type)} token; only bearer tokens are supported`);
  }
  registerSecret(value);
  const lifetime = typeof body?.expires_in === "number" ? body.expires_in : typeof body?.expires_in === "string" ? Number(body.expires_in) : DEFAULT_LIFETIME_S;
  return { value, expiresAt: Date.now() + (Number.isFinite(lifetime) ? lifetime : DEFAULT_LIFETIME_S) * 1000 };
}

/** The endpoint said no: RFC 6749 section 5.2 errors, with a fix for the ones people meet. */
function refused(status: number, text: string, grant: OAuth2Grant, connection: string) {
  let error = `HTTP ${status}`;
  let description: string | undefined;
  try {
    const body = JSON.parse(text) as { error?: unknown; error_description?: unknown };
    if (typeof body.error === "string") error = body.error;
    if (typeof body.error_description === "string") description = body.error_description;
  } catch {
    // Not JSON: the status is all we can say.
  }
  return xoError("XO_OAUTH_REFUSED", {
    connection,
    envVar: connectionEnvVar(connection),
    grant: grant.type,
    tokenUrl: grant.tokenUrl,
    error: redact(error),
    ...(description !== undefined ? { description: redact(description).slice(0, 300) } : {}),
  });
}

// ---------------------------------------------------------------- grants from connections

export interface GrantRequest {
  readonly scopes: readonly string[];
  /** The user to act as, for service accounts with domain-wide delegation. */
  readonly subject?: string | undefined;
  /** The token endpoint; a service-account key's own `token_uri` is used when unset. */
  readonly tokenUrl?: string | undefined;
  /** What to assume when the connection holds only a client id and secret. */
  readonly fallback?: "client_credentials";
  readonly audience?: string | undefined;
  readonly clientAuth?: ClientAuthentication | undefined;
}

/**
 * The grant a connection's credentials describe:
 * - a service-account key (the JSON key file) in `extra.keyfile_dict` (Airflow's Google
 *   provider names it so; a JSON string or an object) or `extra.key_json`;
 * - an OAuth client with a refresh token: login = client id, password = client secret,
 *   `extra.refresh_token`;
 * - with `fallback: "client_credentials"`, a bare client id and secret.
 */
export function oauth2GrantFromConnection(connection: Connection, request: GrantRequest): OAuth2Grant {
  const invalid = (detail: string) => xoError("XO_CONNECTION_INVALID", { id: connection.id, envVar: connectionEnvVar(connection.id), detail });
  const extra = connection.extra;
  const keyField = extra.keyfile_dict ?? extra.key_json ?? extra["extra__google_cloud_platform__keyfile_dict"];
  if (keyField !== undefined) {
    const key = serviceAccountKey(keyField, invalid);
    return {
      type: "service_account",
      tokenUrl: request.tokenUrl ?? key.token_uri ?? GOOGLE_TOKEN_URL,
      clientEmail: key.client_email,
      privateKey: key.private_key,
      ...(key.private_key_id !== undefined ? { privateKeyId: key.private_key_id } : {}),
      scopes: request.scopes,
      ...(request.subject !== undefined ? { subject: request.subject } : {}),
    };
  }
  if (request.subject !== undefined) throw invalid("`subject` (domain-wide delegation) needs a service-account key in extra.keyfile_dict");
  if (!connection.login) throw invalid("an OAuth client needs its client id as the connection's login, or a service-account key in extra.keyfile_dict");
  const clientAuth = request.clientAuth !== undefined ? { clientAuth: request.clientAuth } : {};
  const refreshToken = extra.refresh_token;
  if (typeof refreshToken === "string" && refreshToken !== "") {
    return {
      type: "refresh_token",
      tokenUrl: request.tokenUrl ?? GOOGLE_TOKEN_URL,
      clientId: connection.login,
      ...(connection.password ? { clientSecret: connection.password } : {}),
      refreshToken,
      ...(request.scopes.length ? { scopes: request.scopes } : {}),
      ...clientAuth,
    };
  }
  if (request.fallback === "client_credentials") {
    if (!connection.password) throw invalid("the client credentials grant needs the client secret as the connection's password");
    if (request.tokenUrl === undefined) throw invalid("the client credentials grant needs a token URL");
    return {
      type: "client_credentials",
      tokenUrl: request.tokenUrl,
      clientId: connection.login,
      clientSecret: connection.password,
      ...(request.scopes.length ? { scopes: request.scopes } : {}),
      ...(request.audience !== undefined ? { audience: request.audience } : {}),
      ...clientAuth,
    };
  }
  throw invalid("no OAuth credentials: set extra.refresh_token (with the client id as login and the secret as password), or a service-account key in extra.keyfile_dict");
}

interface ServiceAccountKey {
  readonly client_email: string;
  readonly private_key: string;
  readonly private_key_id?: string;
  readonly token_uri?: string;
}

function serviceAccountKey(field: unknown, invalid: (detail: string) => Error): ServiceAccountKey {
  let key: unknown = field;
  if (typeof field === "string") {
    try {
      key = JSON.parse(field);
    } catch {
      // Never quote it: it is a private key.
      throw invalid("extra.keyfile_dict is not valid JSON; paste the service account's key file as it was downloaded");
    }
  }
  const k = key as Partial<Record<keyof ServiceAccountKey, unknown>> | null;
  if (typeof k !== "object" || k === null || typeof k.client_email !== "string" || typeof k.private_key !== "string") {
    throw invalid("extra.keyfile_dict needs the key file's client_email and private_key");
  }
  registerSecret(k.private_key);
  return {
    client_email: k.client_email,
    private_key: k.private_key,
    ...(typeof k.private_key_id === "string" ? { private_key_id: k.private_key_id } : {}),
    ...(typeof k.token_uri === "string" ? { token_uri: k.token_uri } : {}),
  };
}
