/**
 * Core's OAuth 2 helper against the loopback token endpoint: every grant over real HTTP,
 * a real RS256 assertion for the service account, caching, refresh and the errors users see.
 * Emulated: the token endpoint itself (RFC 6749 and RFC 7523, with Google's error texts).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { clearOAuth2Cache, isXoError, oauth2GrantFromConnection, oauth2TokenSource, redact, type Connection } from "@xo-foundry/core";
import { recordingLogger } from "./log.js";
import { startOAuthServer, type OAuthServer } from "./oauth.js";

let oauth: OAuthServer;
beforeAll(async () => {
  oauth = await startOAuthServer({ tokenTtlSeconds: 3600 });
});
afterAll(() => oauth.stop());
afterEach(() => clearOAuth2Cache());

const SCOPE = "https://www.googleapis.com/auth/gmail.readonly";
const connection = (fields: Partial<Connection>): Connection => ({ id: "mailbox", extra: {}, ...fields });

async function failure(promise: Promise<unknown>) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isXoError(error)) throw new Error(`expected an XoError, got ${String(error)}`);
  return error.diagnostics[0]!;
}

describe("oauth2TokenSource", () => {
  it("gets a token with a signed service-account assertion, acting as the subject", async () => {
    const { keyJson } = oauth.serviceAccount({ email: "etl@proj.iam.gserviceaccount.com" });
    const grant = oauth2GrantFromConnection(connection({ extra: { keyfile_dict: JSON.stringify(keyJson) } }), { scopes: [SCOPE], subject: "ops@example.com" });
    expect(grant).toMatchObject({ type: "service_account", tokenUrl: oauth.tokenUrl, clientEmail: "etl@proj.iam.gserviceaccount.com", subject: "ops@example.com" });
    const token = await oauth2TokenSource(grant, { connection: "mailbox" }).token();
    expect(oauth.verify(`Bearer ${token}`, SCOPE)).toMatchObject({ ok: true, email: "etl@proj.iam.gserviceaccount.com", subject: "ops@example.com" });
    // The token is a secret from now on.
    expect(redact(`got ${token}`)).not.toContain(token);
  });

  it("refreshes with a refresh token, the client in the body", async () => {
    const client = oauth.client({ refreshToken: true });
    const grant = oauth2GrantFromConnection(connection({ login: client.clientId, password: client.clientSecret, extra: { refresh_token: client.refreshToken } }), { scopes: [], tokenUrl: oauth.tokenUrl });
    const token = await oauth2TokenSource(grant, { connection: "mailbox" }).token();
    expect(oauth.verify(`Bearer ${token}`)).toMatchObject({ ok: true, clientId: client.clientId });
    expect(oauth.requests.at(-1)).toMatchObject({ grantType: "refresh_token", clientAuth: "body", status: 200 });
  });

  it("uses client credentials with HTTP Basic, scopes and audience", async () => {
    const client = oauth.client();
    const grant = oauth2GrantFromConnection(connection({ login: client.clientId, password: client.clientSecret }), {
      scopes: ["orders.read"],
      tokenUrl: oauth.tokenUrl,
      fallback: "client_credentials",
      audience: "https://api.example.test",
    });
    const token = await oauth2TokenSource(grant, { connection: "crm" }).token();
    expect(oauth.verify(`Bearer ${token}`, "orders.read")).toMatchObject({ ok: true });
    expect(oauth.requests.at(-1)).toMatchObject({ grantType: "client_credentials", clientAuth: "basic", scope: "orders.read" });
  });

  it("asks once for callers that ask together, caches, and asks again after an invalidation", async () => {
    const client = oauth.client({ refreshToken: true });
    const grant = oauth2GrantFromConnection(connection({ login: client.clientId, password: client.clientSecret, extra: { refresh_token: client.refreshToken } }), { scopes: [], tokenUrl: oauth.tokenUrl });
    const before = oauth.requests.length;
    const source = oauth2TokenSource(grant, { connection: "mailbox" });
    const tokens = await Promise.all([source.token(), source.token(), oauth2TokenSource(grant, { connection: "mailbox" }).token()]);
    expect(new Set(tokens).size).toBe(1);
    expect(await source.token()).toBe(tokens[0]);
    expect(oauth.requests.length - before).toBe(1);
    // An API said 401 (the token expired early): the next call fetches a new one.
    oauth.expireAll();
    source.invalidate(tokens[0]!);
    const fresh = await source.token();
    expect(fresh).not.toBe(tokens[0]);
    expect(oauth.verify(`Bearer ${fresh}`)).toMatchObject({ ok: true });
  });

  it("fetches a new token a minute before the cached one expires", async () => {
    const shortLived = await startOAuthServer({ tokenTtlSeconds: 30 });
    try {
      const client = shortLived.client({ refreshToken: true });
      const grant = oauth2GrantFromConnection(connection({ login: client.clientId, password: client.clientSecret, extra: { refresh_token: client.refreshToken } }), { scopes: [], tokenUrl: shortLived.tokenUrl });
      const source = oauth2TokenSource(grant, { connection: "mailbox" });
      const first = await source.token();
      // 30 s is inside the one-minute margin, so the cached token is never handed out again.
      expect(await source.token()).not.toBe(first);
      expect(shortLived.requests).toHaveLength(2);
    } finally {
      await shortLived.stop();
    }
  });

  it("retries 503 and 429 (honouring Retry-After), then succeeds", async () => {
    const client = oauth.client({ refreshToken: true });
    const grant = oauth2GrantFromConnection(connection({ login: client.clientId, password: client.clientSecret, extra: { refresh_token: client.refreshToken } }), { scopes: [], tokenUrl: oauth.tokenUrl });
    oauth.failNext(503);
    oauth.failNext(429, 1, "0");
    const log = recordingLogger();
    const token = await oauth2TokenSource(grant, { connection: "mailbox", log, backoffMs: 1 }).token();
    expect(oauth.verify(`Bearer ${token}`)).toMatchObject({ ok: true });
    expect(log.warnings).toEqual([expect.stringMatching(/HTTP 503\); retry 1 of 3/), expect.stringMatching(/HTTP 429\); retry 2 of 3 in 0 ms/)]);
  });

  it("names the connection, not the secret, when a refresh token was revoked", async () => {
    const client = oauth.client({ refreshToken: true });
    oauth.revoke(client.refreshToken!);
    const grant = oauth2GrantFromConnection(connection({ login: client.clientId, password: client.clientSecret, extra: { refresh_token: client.refreshToken } }), { scopes: [], tokenUrl: oauth.tokenUrl });
    const d = await failure(oauth2TokenSource(grant, { connection: "mailbox" }).token());
    expect(d.code).toBe("XO_OAUTH_REFUSED");
    expect(d.message).toBe(`the token endpoint ${oauth.tokenUrl} refused the refresh token grant of connection "mailbox": invalid_grant (Token has been expired or revoked.)`);
    expect(d.hint).toMatch(/refresh token was revoked or has expired.*XO_CONN_MAILBOX/);
    expect(JSON.stringify(d)).not.toContain(client.refreshToken);
    expect(JSON.stringify(d)).not.toContain(client.clientSecret);
  });

  it("says which credential is wrong for a bad client secret and an unknown service account", async () => {
    const client = oauth.client();
    const wrong = oauth2GrantFromConnection(connection({ login: client.clientId, password: "not-the-secret" }), { scopes: [], tokenUrl: oauth.tokenUrl, fallback: "client_credentials" });
    const bad = await failure(oauth2TokenSource(wrong, { connection: "crm" }).token());
    expect(bad).toMatchObject({ code: "XO_OAUTH_REFUSED", hint: expect.stringMatching(/client id \(login\) and client secret \(password\) in XO_CONN_CRM/) });

    const other = await startOAuthServer();
    try {
      // A key the endpoint never issued: its signature cannot be checked.
      const { keyJson } = other.serviceAccount({ email: "ghost@proj.iam.gserviceaccount.com" });
      const grant = oauth2GrantFromConnection(connection({ extra: { keyfile_dict: keyJson } }), { scopes: [SCOPE], tokenUrl: oauth.tokenUrl });
      const d = await failure(oauth2TokenSource(grant, { connection: "mailbox" }).token());
      expect(d.message).toMatch(/invalid_grant \(Invalid JWT Signature\.\)/);
      expect(d.hint).toMatch(/key was deleted or disabled/);
      expect(JSON.stringify(d)).not.toContain(keyJson.private_key.split("\n")[1]!);
    } finally {
      await other.stop();
    }
  });

  it("gives up on an endpoint that does not answer, with XO_OAUTH_UNAVAILABLE", async () => {
    const gone = await startOAuthServer();
    const tokenUrl = gone.tokenUrl;
    await gone.stop();
    const grant = { type: "client_credentials", tokenUrl, clientId: "c", clientSecret: "s" } as const;
    const d = await failure(oauth2TokenSource(grant, { connection: "crm", maxRetries: 1, backoffMs: 1 }).token());
    expect(d).toMatchObject({ code: "XO_OAUTH_UNAVAILABLE", message: expect.stringContaining(`the token endpoint ${tokenUrl} failed 2 times (ECONNREFUSED)`) });
  });
});

describe("oauth2GrantFromConnection", () => {
  it("explains what a connection lacks, without quoting a key", () => {
    expect(() => oauth2GrantFromConnection(connection({}), { scopes: [SCOPE] })).toThrow(/no OAuth client|client id as the connection's login/);
    expect(() => oauth2GrantFromConnection(connection({ extra: { keyfile_dict: "{not json -----BEGIN" } }), { scopes: [SCOPE] })).toThrow(/not valid JSON/);
    expect(() => oauth2GrantFromConnection(connection({ extra: { keyfile_dict: "{not json -----BEGIN" } }), { scopes: [SCOPE] })).not.toThrow(/BEGIN/);
    expect(() => oauth2GrantFromConnection(connection({ login: "id", password: "s" }), { scopes: [SCOPE], subject: "a@b.c" })).toThrow(/domain-wide delegation/);
    expect(() => oauth2GrantFromConnection(connection({ login: "id", password: "s" }), { scopes: [SCOPE] })).toThrow(/extra\.refresh_token/);
  });
});
