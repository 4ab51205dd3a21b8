/**
 * An OAuth 2 token endpoint on 127.0.0.1 for tests of plugins that call OAuth-protected
 * APIs, and the access-token check their API emulators share. It follows RFC 6749
 * (section 4.4 client credentials, section 6 refresh, section 2.3.1 client authentication by
 * Basic header or body, section 5.2 error responses) and RFC 7523 (JWT bearer assertions),
 * as Google's endpoint applies them to service accounts: the assertion is RS256-signed by
 * the key of `iss`, `aud` is the token URL, it lives at most an hour, `scope` lists the
 * scopes and `sub` is the user to act as. Errors use Google's texts where Google documents
 * them ("Token has been expired or revoked.", "Invalid JWT Signature.").
 */
import { generateKeyPairSync, randomBytes, type KeyObject } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface OAuthServerOptions {
  /** Lifetime of issued access tokens; default 3600 s. */
  readonly tokenTtlSeconds?: number;
}

export interface ServiceAccountKeyFile {
  readonly type: "service_account";
  readonly project_id: string;
  readonly private_key_id: string;
  readonly private_key: string;
  readonly client_email: string;
  readonly client_id: string;
  readonly token_uri: string;
}

export interface OAuthClient {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly refreshToken?: string;
}

export interface TokenRequestRecord {
  readonly grantType: string;
  readonly status: number;
  readonly clientId?: string;
  readonly email?: string;
  readonly subject?: string;
  readonly scope?: string;
  /** How the client authenticated: `basic`, `body`, or `none` (JWT bearer). */
  readonly clientAuth: "basic" | "body" | "none";
}

export type TokenCheck =
  | { readonly ok: true; readonly scopes: readonly string[]; readonly clientId?: string; readonly email?: string; readonly subject?: string }
  | { readonly ok: false; readonly reason: "missing" | "unknown" | "expired" | "scope" };

export interface OAuthServer {
  readonly tokenUrl: string;
  /** A service account whose key file signs assertions this endpoint accepts. */
  serviceAccount(input: { email: string }): { readonly email: string; readonly keyJson: ServiceAccountKeyFile };
  /** An OAuth client; with `refreshToken`, a refresh token issued to it. */
  client(input?: { refreshToken?: boolean }): OAuthClient;
  /** Checks an `Authorization` header as a resource server would; `scope` must have been granted. */
  verify(authorization: string | undefined, scope?: string): TokenCheck;
  /** Every access token issued so far expires now. */
  expireAll(): void;
  /** The refresh token stops working, as when a user removes the app's access. */
  revoke(refreshToken: string): void;
  /** Answer the next `times` token requests with `status` (429 or 5xx), optionally with Retry-After. */
  failNext(status: number, times?: number, retryAfter?: string): void;
  readonly requests: readonly TokenRequestRecord[];
  stop(): Promise<void>;
}

const JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const MAX_ASSERTION_LIFETIME_S = 3600;

interface Issued {
  readonly expiresAt: number;
  readonly scopes: readonly string[];
  readonly clientId?: string;
  readonly email?: string;
  readonly subject?: string;
}

interface TokenGrant {
  readonly scopes: readonly string[];
  readonly clientId?: string;
  readonly email?: string;
  readonly subject?: string;
}

class OAuthFailure extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
  ) {
    super(description);
  }
}

export async function startOAuthServer(options: OAuthServerOptions = {}): Promise<OAuthServer> {
  const ttl = options.tokenTtlSeconds ?? 3600;
  const clients = new Map<string, string>();
  const refreshTokens = new Map<string, { clientId: string; revoked: boolean }>();
  const accounts = new Map<string, KeyObject>();
  const issued = new Map<string, Issued>();
  const requests: TokenRequestRecord[] = [];
  const failures: { status: number; retryAfter?: string | undefined }[] = [];
  const { jwtVerify, decodeJwt } = await import("jose");
  const secret = (prefix: string) => `${prefix}-${randomBytes(12).toString("hex")}`;

  async function grant(req: IncomingMessage, form: URLSearchParams, record: { -readonly [K in keyof TokenRequestRecord]?: TokenRequestRecord[K] }): Promise<TokenGrant> {
    const grantType = form.get("grant_type") ?? "";
    record.grantType = grantType;
    if (grantType === JWT_BEARER) {
      record.clientAuth = "none";
      return assertionGrant(form.get("assertion") ?? "", record);
    }
    const clientId = authenticateClient(req, form, record);
    record.clientId = clientId;
    const scopes = (form.get("scope") ?? "").split(" ").filter(Boolean);
    record.scope = form.get("scope") ?? undefined;
    if (grantType === "client_credentials") return { scopes, clientId };
    if (grantType === "refresh_token") {
      const token = refreshTokens.get(form.get("refresh_token") ?? "");
      if (!token || token.revoked || token.clientId !== clientId) throw new OAuthFailure(400, "invalid_grant", "Token has been expired or revoked.");
      return { scopes, clientId };
    }
    throw new OAuthFailure(400, "unsupported_grant_type", `Invalid grant_type: ${grantType}`);
  }

  function authenticateClient(req: IncomingMessage, form: URLSearchParams, record: { clientAuth?: TokenRequestRecord["clientAuth"] }): string {
    const header = req.headers.authorization;
    let id: string | undefined;
    let given: string | undefined;
    if (header?.startsWith("Basic ")) {
      record.clientAuth = "basic";
      const decoded = Buffer.from(header.slice(6), "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      const decode = (s: string) => new URLSearchParams(`x=${s}`).get("x") ?? "";
      id = decode(decoded.slice(0, colon));
      given = decode(decoded.slice(colon + 1));
      if (form.has("client_secret")) throw new OAuthFailure(400, "invalid_request", "client authentication must use one method only");
    } else {
      record.clientAuth = "body";
      id = form.get("client_id") ?? undefined;
      given = form.get("client_secret") ?? undefined;
    }
    if (id === undefined || clients.get(id) === undefined || clients.get(id) !== given) {
      throw new OAuthFailure(401, "invalid_client", "The OAuth client was not found.");
    }
    return id;
  }

  async function assertionGrant(assertion: string, record: { email?: string; subject?: string; scope?: string }): Promise<TokenGrant> {
    let claims: ReturnType<typeof decodeJwt>;
    try {
      claims = decodeJwt(assertion);
    } catch {
      throw new OAuthFailure(400, "invalid_grant", "Invalid JWT: the assertion is not a JWT.");
    }
    const email = typeof claims.iss === "string" ? claims.iss : "";
    const key = accounts.get(email);
    if (!key) throw new OAuthFailure(400, "invalid_grant", "Invalid JWT Signature.");
    try {
      await jwtVerify(assertion, key, { algorithms: ["RS256"], audience: tokenUrl, issuer: email, requiredClaims: ["iat", "exp"] });
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === "ERR_JWT_EXPIRED") throw new OAuthFailure(400, "invalid_grant", "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.");
      if (code === "ERR_JWT_CLAIM_VALIDATION_FAILED") throw new OAuthFailure(400, "invalid_grant", `Invalid JWT: ${(e as Error).message}`);
      throw new OAuthFailure(400, "invalid_grant", "Invalid JWT Signature.");
    }
    if ((claims.exp ?? 0) - (claims.iat ?? 0) > MAX_ASSERTION_LIFETIME_S) {
      throw new OAuthFailure(400, "invalid_grant", "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.");
    }
    const scope = typeof claims.scope === "string" ? claims.scope : "";
    if (!scope) throw new OAuthFailure(400, "invalid_scope", "Invalid OAuth scope or ID token audience provided.");
    record.email = email;
    record.scope = scope;
    if (typeof claims.sub === "string") record.subject = claims.sub;
    return { scopes: scope.split(" ").filter(Boolean), email, ...(typeof claims.sub === "string" ? { subject: claims.sub } : {}) };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const reply = (status: number, body: object, headers: Record<string, string> = {}) => {
      res.writeHead(status, { "Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store", Pragma: "no-cache", ...headers });
      res.end(JSON.stringify(body));
    };
    if (req.method !== "POST" || new URL(req.url ?? "/", "http://x").pathname !== "/token") return reply(404, { error: "not_found" });
    const failure = failures.shift();
    if (failure) {
      requests.push({ grantType: "", status: failure.status, clientAuth: "none" });
      return reply(failure.status, { error: "temporarily_unavailable" }, failure.retryAfter !== undefined ? { "Retry-After": failure.retryAfter } : {});
    }
    const record: { -readonly [K in keyof TokenRequestRecord]?: TokenRequestRecord[K] } = { grantType: "", clientAuth: "none" };
    try {
      if (!(req.headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded")) {
        throw new OAuthFailure(400, "invalid_request", "the request body must be application/x-www-form-urlencoded");
      }
      const granted = await grant(req, new URLSearchParams(Buffer.concat(chunks).toString("utf8")), record);
      const accessToken = secret("at");
      issued.set(accessToken, { expiresAt: Date.now() + ttl * 1000, ...granted });
      requests.push({ ...(record as TokenRequestRecord), status: 200 });
      reply(200, { access_token: accessToken, expires_in: ttl, token_type: "Bearer", ...(granted.scopes.length ? { scope: granted.scopes.join(" ") } : {}) });
    } catch (e) {
      if (!(e instanceof OAuthFailure)) throw e;
      requests.push({ ...(record as TokenRequestRecord), status: e.status });
      reply(e.status, { error: e.error, error_description: e.description }, e.status === 401 && record.clientAuth === "basic" ? { "WWW-Authenticate": 'Basic realm="token"' } : {});
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const tokenUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;

  return {
    tokenUrl,
    requests,
    serviceAccount({ email }) {
      const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
      accounts.set(email, publicKey);
      const keyJson: ServiceAccountKeyFile = {
        type: "service_account",
        project_id: "xo-foundry-test",
        private_key_id: randomBytes(20).toString("hex"),
        private_key: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
        client_email: email,
        client_id: String(100000000000000000000n + BigInt(accounts.size)),
        token_uri: tokenUrl,
      };
      return { email, keyJson };
    },
    client(input = {}) {
      const clientId = `${randomBytes(6).toString("hex")}.apps.example.test`;
      const clientSecret = secret("cs");
      clients.set(clientId, clientSecret);
      if (!input.refreshToken) return { clientId, clientSecret };
      const refreshToken = secret("rt");
      refreshTokens.set(refreshToken, { clientId, revoked: false });
      return { clientId, clientSecret, refreshToken };
    },
    verify(authorization, scope) {
      const match = /^Bearer (\S+)$/.exec(authorization ?? "");
      if (!match) return { ok: false, reason: "missing" };
      const token = issued.get(match[1]!);
      if (!token) return { ok: false, reason: "unknown" };
      if (token.expiresAt <= Date.now()) return { ok: false, reason: "expired" };
      if (scope !== undefined && !token.scopes.includes(scope)) return { ok: false, reason: "scope" };
      return {
        ok: true,
        scopes: token.scopes,
        ...(token.clientId !== undefined ? { clientId: token.clientId } : {}),
        ...(token.email !== undefined ? { email: token.email } : {}),
        ...(token.subject !== undefined ? { subject: token.subject } : {}),
      };
    },
    expireAll() {
      for (const [value, token] of issued) issued.set(value, { ...token, expiresAt: 0 });
    },
    revoke(refreshToken) {
      const token = refreshTokens.get(refreshToken);
      if (token) token.revoked = true;
    },
    failNext(status, times = 1, retryAfter) {
      for (let i = 0; i < times; i++) failures.push({ status, retryAfter });
    },
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}
