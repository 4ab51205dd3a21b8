/**
 * Credentials: a service account acting for a user (domain-wide delegation, a real RS256 JWT
 * assertion verified by the token endpoint), an OAuth client's refresh token, a token that
 * expires in the middle of a run, and credentials that stop working. Emulated: Gmail
 * (src/__fixtures__/gmail_server.ts), which checks every bearer token with the token endpoint.
 * Real: the testkit's OAuth 2 token endpoint (RFC 6749, RFC 7523), core's OAuth 2 helper,
 * googleapis' generated client.
 */
import { describe, expect, it } from "vitest";
import type { XoError } from "@xo-foundry/core";
import { at, CONNECTION_ID, drain, MAILBOX, mailboxWithClient, makeContext, recordingLogger, rejectionOf, SERVICE_ACCOUNT, serviceAccountConnection, sourceBlock, useServers } from "./__fixtures__/harness.js";
import { invalidCredentials } from "./__fixtures__/gmail_server.js";

const servers = useServers();

const READONLY = "https://www.googleapis.com/auth/gmail.readonly";
const MESSAGES = Array.from({ length: 5 }, (_, i) => ({ id: `a00000000000000${i}`, internalDate: at("2026-01-15T08:00:00Z") + i * 1000, labels: ["INBOX"] }));

describe("service account with domain-wide delegation", () => {
  it("reads the mailbox of `subject` with a token issued for a signed JWT assertion", async () => {
    servers.gmail.mailbox({ email: MAILBOX, messages: MESSAGES });
    const connection = serviceAccountConnection(servers);
    const before = servers.oauth.requests.length;
    // No token_url: the key file's own token_uri is the endpoint.
    const out = await drain(makeContext({ source: sourceBlock(servers, { subject: MAILBOX, token_url: undefined }), stream: {}, connection }));
    expect(out.records).toHaveLength(5);
    expect(servers.oauth.requests.slice(before)).toEqual([{ grantType: "urn:ietf:params:oauth:grant-type:jwt-bearer", status: 200, clientAuth: "none", email: SERVICE_ACCOUNT, subject: MAILBOX, scope: READONLY }]);
    expect(new Set(servers.gmail.requests.map((r) => r.user))).toEqual(new Set([MAILBOX]));
  });

  it("takes the mailbox's address as user_id too", async () => {
    servers.gmail.mailbox({ email: MAILBOX, messages: MESSAGES });
    const out = await drain(makeContext({ source: sourceBlock(servers, { subject: MAILBOX, user_id: MAILBOX }), stream: {}, connection: serviceAccountConnection(servers) }));
    expect(out.records).toHaveLength(5);
    expect(servers.gmail.requests[0]!.path).toBe(`/gmail/v1/users/${encodeURIComponent(MAILBOX)}/labels`);
  });

  it("fails with GMAIL_MAILBOX_UNAVAILABLE without `subject`: a service account has no mailbox", async () => {
    servers.gmail.mailbox({ email: MAILBOX, messages: MESSAGES });
    const error = await rejectionOf(() => drain(makeContext({ source: sourceBlock(servers), stream: {}, connection: serviceAccountConnection(servers) })));
    expect(error).toMatchObject({ code: "GMAIL_MAILBOX_UNAVAILABLE", status: 400, reason: "failedPrecondition" });
    expect((error as { hint?: string }).hint).toContain("set `subject`");
  });
});

describe("OAuth client with a refresh token", () => {
  it("exchanges the refresh token, client authenticated in the body, for the gmail.readonly scope", async () => {
    const { connection } = mailboxWithClient(servers, { messages: MESSAGES });
    const before = servers.oauth.requests.length;
    const out = await drain(makeContext({ source: sourceBlock(servers), stream: {}, connection }));
    expect(out.records).toHaveLength(5);
    expect(servers.oauth.requests.slice(before)).toEqual([{ grantType: "refresh_token", status: 200, clientAuth: "body", clientId: connection.login, scope: READONLY }]);
  });

  it("refreshes a token that expires between two pages, and completes the run", async () => {
    const { connection } = mailboxWithClient(servers, { messages: MESSAGES });
    servers.gmail.before("gmail.users.messages.list", 2, () => servers.oauth.expireAll());
    const before = servers.oauth.requests.length;
    const log = recordingLogger();
    const out = await drain(makeContext({ source: sourceBlock(servers, { max_results: 2 }), stream: {}, connection, log }));
    expect(out.records.map((r) => r.id)).toEqual(MESSAGES.map((m) => m.id).reverse());
    expect(servers.gmail.calls("gmail.users.messages.list").map((r) => r.status)).toEqual([200, 401, 200, 200]);
    expect(servers.oauth.requests.slice(before).map((r) => r.grantType)).toEqual(["refresh_token", "refresh_token"]);
    expect(log.infos).toContain("users.messages.list (messages matching \"after:1768435199 before:1768521601\"): Gmail refused the access token; fetching a new one");
  });

  it("fails with GMAIL_UNAUTHENTICATED when Gmail refuses a fresh token too, after exactly one refresh", async () => {
    const { connection } = mailboxWithClient(servers, { messages: MESSAGES });
    servers.gmail.fault("gmail.users.labels.list", invalidCredentials());
    servers.gmail.fault("gmail.users.labels.list", invalidCredentials());
    const before = servers.oauth.requests.length;
    const error = await rejectionOf(() => drain(makeContext({ source: sourceBlock(servers), stream: {}, connection })));
    expect(error).toMatchObject({ code: "GMAIL_UNAUTHENTICATED", status: 401 });
    expect((error as { hint?: string }).hint).toContain(`connection "${CONNECTION_ID}" (XO_CONN_OPS_MAILBOX)`);
    expect(servers.oauth.requests.length - before).toBe(2);
    expect(servers.gmail.calls("gmail.users.labels.list")).toHaveLength(2);
  });

  it("fails with core's XO_OAUTH_REFUSED for a revoked refresh token, naming the connection and never the secrets", async () => {
    const { connection, refreshToken } = mailboxWithClient(servers, { messages: MESSAGES });
    servers.oauth.revoke(refreshToken);
    const log = recordingLogger();
    const error = await rejectionOf(() => drain(makeContext({ source: sourceBlock(servers), stream: {}, connection, log })));
    expect(error).toMatchObject({ code: "XO_OAUTH_REFUSED" });
    const hint = (error as XoError).diagnostics[0]!.hint;
    const text = `${error.message}\n${hint}\n${log.infos.join("\n")}\n${log.warnings.join("\n")}`;
    expect(text).toContain(`connection "${CONNECTION_ID}"`);
    expect(text).toContain("invalid_grant");
    expect(text).toContain("XO_CONN_OPS_MAILBOX");
    expect(text).not.toContain(refreshToken);
    expect(text).not.toContain(connection.password!);
    expect(servers.gmail.requests).toHaveLength(0);
  });
});

describe("no connection", () => {
  it("fails with GMAIL_CONNECTION_MISSING", async () => {
    const ctx = { ...makeContext({ source: sourceBlock(servers), stream: {}, connection: { id: CONNECTION_ID, extra: {} } }), connection: undefined };
    const error = await rejectionOf(() => drain(ctx));
    expect(error).toMatchObject({ code: "GMAIL_CONNECTION_MISSING" });
  });

  it("lets core's XO_CONNECTION_INVALID through for a connection without Google credentials", async () => {
    const error = await rejectionOf(() => drain(makeContext({ source: sourceBlock(servers), stream: {}, connection: { id: CONNECTION_ID, extra: {} } })));
    expect(error).toMatchObject({ code: "XO_CONNECTION_INVALID" });
  });
});
