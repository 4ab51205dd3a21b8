/**
 * The emulator held to Gmail's own description (ADR 0009): the requests of Gmail's reference
 * and guides must get the documented answers, and each request the description rules out must
 * be refused with Google's status and error body. Emulated: Gmail
 * (src/__fixtures__/gmail_server.ts). Real: the testkit's OAuth 2 token endpoint, Node's fetch.
 */
import { describe, expect, it } from "vitest";
import { oauth2TokenSource } from "@xo-foundry/core";
import { at, MAILBOX, useServers } from "./__fixtures__/harness.js";
import { FAULTS } from "./__fixtures__/gmail_server.js";

const servers = useServers();
const READONLY = "https://www.googleapis.com/auth/gmail.readonly";

/** A mailbox and an access token for it, granted `scope`. */
async function mailboxAndToken(spec: Parameters<typeof servers.gmail.mailbox>[0] | Omit<Parameters<typeof servers.gmail.mailbox>[0], "email">, scope = READONLY) {
  const client = servers.oauth.client({ refreshToken: true });
  const mailbox = servers.gmail.mailbox({ email: MAILBOX, ...spec, clients: [client.clientId] });
  const res = await fetch(servers.oauth.tokenUrl, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: client.refreshToken!, client_id: client.clientId, client_secret: client.clientSecret, scope }),
  });
  const { access_token } = (await res.json()) as { access_token: string };
  return { mailbox, token: access_token };
}

async function get(path: string, token: string | undefined, query: Record<string, string | string[]> = {}) {
  const url = new URL(path.replace(/^\//, ""), servers.gmail.url);
  for (const [k, v] of Object.entries(query)) for (const one of [v].flat()) url.searchParams.append(k, one);
  const res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: JSON.parse(text) as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
}

const list = (token: string, query: Record<string, string | string[]> = {}) => get("/gmail/v1/users/me/messages", token, query);

function expectGoogleError(r: { status: number; json: Record<string, unknown> }, status: number, reason: string) {
  expect(r.status).toBe(status);
  expect(r.json).toMatchObject({ error: { code: status, message: expect.any(String), status: expect.any(String), errors: [{ message: expect.any(String), domain: expect.any(String), reason }] } });
}

describe("users.messages.list, as the reference and the search guide describe it", () => {
  it('answers the guide\'s example "in:sent after:2014/01/01 before:2014/02/01" with January 2014, midnights in Pacific time', async () => {
    const { token } = await mailboxAndToken({
      messages: [
        { id: "a", internalDate: at("2014-01-01T07:59:59Z"), labels: ["SENT"] }, // Dec 31, 23:59:59 PST
        { id: "b", internalDate: at("2014-01-01T08:00:00Z"), labels: ["SENT"] }, // Jan 1, 00:00 PST
        { id: "c", internalDate: at("2014-01-20T12:00:00Z"), labels: ["INBOX"] },
        { id: "d", internalDate: at("2014-02-01T07:59:59Z"), labels: ["SENT"] },
        { id: "e", internalDate: at("2014-02-01T08:00:00Z"), labels: ["SENT"] },
      ],
    });
    const r = await list(token, { q: "in:sent after:2014/01/01 before:2014/02/01" });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ messages: [{ id: "d", threadId: "d" }, { id: "b", threadId: "b" }], resultSizeEstimate: 2 });
  });

  it("reads after:/before: in epoch seconds as instants", async () => {
    const { token } = await mailboxAndToken({ messages: [{ id: "a", internalDate: 1388552399999 }, { id: "b", internalDate: 1388552400000 }, { id: "c", internalDate: 1391230799000 }, { id: "d", internalDate: 1391230800000 }] });
    const r = await list(token, { q: "after:1388552400 before:1391230800" });
    expect(r.json.messages.map((m: { id: string }) => m.id)).toEqual(["c", "b"]);
  });

  it("accepts the q parameter's own example (from:, rfc822msgid:, is:unread)", async () => {
    const { token } = await mailboxAndToken({
      messages: [
        { id: "a", internalDate: 1, from: "someuser@example.com", labels: ["INBOX", "UNREAD"], headers: { "Message-ID": "<somemsgid@example.com>" } },
        { id: "b", internalDate: 2, from: "someuser@example.com", labels: ["INBOX"], headers: { "Message-ID": "<somemsgid@example.com>" } },
      ],
    });
    const r = await list(token, { q: "from:someuser@example.com rfc822msgid:<somemsgid@example.com> is:unread" });
    expect(r.json.messages).toEqual([{ id: "a", threadId: "a" }]);
  });

  it("returns only messages carrying every label of labelIds[], newest first, and leaves Spam and Trash out unless includeSpamTrash", async () => {
    const { token } = await mailboxAndToken({
      labels: [{ name: "Vendors" }, { name: "Paid" }],
      messages: [
        { id: "a", internalDate: 1, labels: ["Vendors", "Paid"] },
        { id: "b", internalDate: 3, labels: ["Vendors"] },
        { id: "c", internalDate: 2, labels: ["Vendors", "Paid", "INBOX"] },
        { id: "d", internalDate: 4, labels: ["Vendors", "Paid", "TRASH"] },
      ],
    });
    expect((await list(token, { labelIds: ["Label_1", "Label_2"] })).json.messages.map((m: { id: string }) => m.id)).toEqual(["c", "a"]);
    expect((await list(token, { labelIds: ["Label_1", "Label_2"], includeSpamTrash: "true" })).json.messages.map((m: { id: string }) => m.id)).toEqual(["d", "c", "a"]);
  });

  it("pages with maxResults and nextPageToken, and omits `messages` when nothing matches", async () => {
    const { token } = await mailboxAndToken({ messages: Array.from({ length: 5 }, (_, i) => ({ id: `m${i}`, internalDate: 1000 + i })) });
    const first = await list(token, { maxResults: "2" });
    expect(first.json.messages.map((m: { id: string }) => m.id)).toEqual(["m4", "m3"]);
    const second = await list(token, { maxResults: "2", pageToken: first.json.nextPageToken });
    const third = await list(token, { maxResults: "2", pageToken: second.json.nextPageToken });
    expect(second.json.messages.map((m: { id: string }) => m.id)).toEqual(["m2", "m1"]);
    expect(third.json).toEqual({ messages: [{ id: "m0", threadId: "m0" }], resultSizeEstimate: 5 });
    expect((await list(token, { q: "subject:nothing" })).json).toEqual({ resultSizeEstimate: 0 });
  });

  it("takes maxResults up to the documented maximum of 500 and refuses more (STRICTER)", async () => {
    const { token } = await mailboxAndToken({});
    expect((await list(token, { maxResults: "500" })).status).toBe(200);
    expectGoogleError(await list(token, { maxResults: "501" }), 400, "invalid");
  });

  it("refuses a page token of another query, an unknown label id and a malformed query with 400", async () => {
    const { token } = await mailboxAndToken({ messages: [{ internalDate: 1 }, { internalDate: 2 }] });
    const first = await list(token, { maxResults: "1" });
    expectGoogleError(await list(token, { maxResults: "1", q: "has:attachment", pageToken: first.json.nextPageToken }), 400, "invalidArgument");
    expectGoogleError(await list(token, { labelIds: "Label_404" }), 400, "invalidArgument");
    expectGoogleError(await list(token, { q: 'subject:"unclosed' }), 400, "invalidArgument");
    expectGoogleError(await list(token, { q: "larger:10M" }), 400, "invalidArgument");
  });
});

describe("users.messages.get and users.messages.attachments.get", () => {
  const spec = {
    labels: [{ name: "Vendors" }],
    messages: [
      {
        id: "18c2f3a000000001",
        internalDate: at("2026-01-15T10:00:00Z"),
        labels: ["Vendors", "INBOX"],
        from: '"Billing" <billing@vendor.example>',
        to: "reports@example.com",
        subject: "Invoice 42",
        text: "Please find the invoice attached.",
        html: "<p>Please find the invoice <b>attached</b>.</p>",
        attachments: [{ filename: "invoice.csv", mimeType: "text/csv", content: "id,amount\n1,10\n" }],
      },
    ],
  };

  it("answers format=full with the MIME tree: multipart/mixed > multipart/alternative, base64url bodies, attachments by id", async () => {
    const { token } = await mailboxAndToken(spec);
    const r = await get("/gmail/v1/users/me/messages/18c2f3a000000001", token, { format: "full" });
    expect(r.status).toBe(200);
    const m = r.json;
    expect(m).toMatchObject({ id: "18c2f3a000000001", threadId: "18c2f3a000000001", labelIds: ["Label_1", "INBOX"], internalDate: String(at("2026-01-15T10:00:00Z")), historyId: expect.stringMatching(/^\d+$/) });
    expect(m.payload).toMatchObject({ partId: "", mimeType: "multipart/mixed", filename: "", body: { size: 0 } });
    const [alternative, attachment] = m.payload.parts;
    expect(alternative).toMatchObject({ partId: "0", mimeType: "multipart/alternative" });
    expect(alternative.parts.map((p: { partId: string; mimeType: string }) => [p.partId, p.mimeType])).toEqual([
      ["0.0", "text/plain"],
      ["0.1", "text/html"],
    ]);
    expect(Buffer.from(alternative.parts[0].body.data, "base64url").toString()).toBe("Please find the invoice attached.");
    expect(attachment).toMatchObject({ partId: "1", mimeType: "text/csv", filename: "invoice.csv", body: { size: 15, attachmentId: expect.any(String) } });
    expect(attachment.body.data).toBeUndefined();

    const a = await get(`/gmail/v1/users/me/messages/18c2f3a000000001/attachments/${attachment.body.attachmentId}`, token);
    expect(a.status).toBe(200);
    expect(a.json.size).toBe(15);
    expect(Buffer.from(a.json.data, "base64url").toString()).toBe("id,amount\n1,10\n");
  });

  it("answers format=metadata with only the metadataHeaders asked for, and no parts", async () => {
    const { token } = await mailboxAndToken(spec);
    const r = await get("/gmail/v1/users/me/messages/18c2f3a000000001", token, { format: "metadata", metadataHeaders: ["Subject", "From"] });
    expect(r.json.payload.headers).toEqual([
      { name: "Subject", value: "Invoice 42" },
      { name: "From", value: '"Billing" <billing@vendor.example>' },
    ]);
    expect(r.json.payload.parts).toBeUndefined();
  });

  it("refuses an unknown message (404), an unknown format (400) and an attachment id of another message (404)", async () => {
    const { token } = await mailboxAndToken(spec);
    expectGoogleError(await get("/gmail/v1/users/me/messages/0000000000000000", token), 404, "notFound");
    expectGoogleError(await get("/gmail/v1/users/me/messages/18c2f3a000000001", token, { format: "FULLEST" }), 400, "invalid");
    expectGoogleError(await get("/gmail/v1/users/me/messages/18c2f3a000000001/attachments/ANGjdJx", token), 404, "notFound");
  });
});

describe("users.history.list, as the sync guide describes it", () => {
  it("returns messagesAdded records after startHistoryId in increasing historyId, paged, with the mailbox's historyId", async () => {
    const { mailbox, token } = await mailboxAndToken({ labels: [{ name: "Vendors" }], messages: [{ id: "old", internalDate: 1, labels: ["Vendors"] }] });
    const start = (await get("/gmail/v1/users/me/profile", token)).json.historyId as string;
    mailbox.deliver({ id: "n1", internalDate: 2, labels: ["Vendors"] });
    mailbox.deliver({ id: "n2", internalDate: 3, labels: ["INBOX"] });
    mailbox.deliver({ id: "n3", internalDate: 4, labels: ["Vendors"] });
    const first = await get("/gmail/v1/users/me/history", token, { startHistoryId: start, historyTypes: "messageAdded", labelId: "Label_1", maxResults: "1" });
    expect(first.status).toBe(200);
    expect(first.json.history).toHaveLength(1);
    expect(first.json.history[0].messagesAdded).toEqual([{ message: { id: "n1", threadId: "n1", labelIds: ["Label_1"] } }]);
    const second = await get("/gmail/v1/users/me/history", token, { startHistoryId: start, historyTypes: "messageAdded", labelId: "Label_1", maxResults: "1", pageToken: first.json.nextPageToken });
    expect(second.json.history[0].messagesAdded[0].message.id).toBe("n3");
    expect(second.json.nextPageToken).toBeUndefined();
    expect(Number(second.json.history[0].id)).toBeGreaterThan(Number(first.json.history[0].id));
    expect(second.json.historyId).toBe(String(mailbox.currentHistoryId));
  });

  it("answers 404 for an out-of-date startHistoryId, and requires startHistoryId", async () => {
    const { mailbox, token } = await mailboxAndToken({ messages: [{ internalDate: 1 }] });
    const start = String(mailbox.currentHistoryId);
    mailbox.deliver({ internalDate: 2 });
    mailbox.expireHistory();
    expectGoogleError(await get("/gmail/v1/users/me/history", token, { startHistoryId: start }), 404, "notFound");
    expectGoogleError(await get("/gmail/v1/users/me/history", token), 400, "required");
    expectGoogleError(await get("/gmail/v1/users/me/history", token, { startHistoryId: start, historyTypes: "messageMoved" }), 400, "invalid");
  });
});

describe("users.getProfile and users.labels.list", () => {
  it("answer the Profile and ListLabelsResponse shapes", async () => {
    const { token } = await mailboxAndToken({ labels: [{ name: "Vendors/Invoices", id: "Label_7" }], messages: [{ internalDate: 1 }, { internalDate: 2, threadId: "t" }] });
    const profile = await get("/gmail/v1/users/me/profile", token);
    expect(profile.json).toEqual({ emailAddress: MAILBOX, messagesTotal: 2, threadsTotal: 2, historyId: expect.stringMatching(/^\d+$/) });
    const labels = await get(`/gmail/v1/users/${encodeURIComponent(MAILBOX)}/labels`, token);
    expect(labels.json.labels).toContainEqual({ id: "INBOX", name: "INBOX", type: "system" });
    expect(labels.json.labels).toContainEqual({ id: "Label_7", name: "Vendors/Invoices", type: "user", messageListVisibility: "show", labelListVisibility: "labelShow" });
  });
});

describe("refusals, with Google's status and body", () => {
  it("401 authError for a missing, unknown or expired token, with WWW-Authenticate", async () => {
    const { token } = await mailboxAndToken({});
    const missing = await list("");
    expectGoogleError(missing, 401, "authError");
    expect(missing.headers.get("www-authenticate")).toMatch(/^Bearer /);
    expectGoogleError(await list("not-a-token"), 401, "authError");
    servers.oauth.expireAll();
    expectGoogleError(await list(token), 401, "authError");
  });

  it("403 insufficientPermissions for a token without the method's scopes", async () => {
    const { token } = await mailboxAndToken({}, "https://www.googleapis.com/auth/gmail.send");
    expectGoogleError(await list(token), 403, "insufficientPermissions");
  });

  it("403 for q and format=full with a gmail.metadata token", async () => {
    const { token } = await mailboxAndToken({ messages: [{ id: "a", internalDate: 1 }] }, "https://www.googleapis.com/auth/gmail.metadata");
    expect((await list(token)).status).toBe(200);
    expectGoogleError(await list(token, { q: "has:attachment" }), 403, "forbidden");
    expectGoogleError(await get("/gmail/v1/users/me/messages/a", token, { format: "full" }), 403, "forbidden");
  });

  it("403 for another user's mailbox, 400 failedPrecondition for a service account acting as itself", async () => {
    const { token } = await mailboxAndToken({});
    expectGoogleError(await get("/gmail/v1/users/someone-else@example.com/profile", token), 403, "forbidden");
    // A real RS256 assertion without `sub`, exchanged by the token endpoint.
    const { keyJson } = servers.oauth.serviceAccount({ email: "sa@xo-test.iam.gserviceaccount.com" });
    const itself = await oauth2TokenSource(
      { type: "service_account", tokenUrl: servers.oauth.tokenUrl, clientEmail: keyJson.client_email, privateKey: keyJson.private_key, scopes: [READONLY] },
      { connection: "sa" },
    ).token();
    expectGoogleError(await list(itself), 400, "failedPrecondition");
  });

  it("400 for parameters the discovery document does not list (STRICTER) and for a non-boolean includeSpamTrash", async () => {
    const { token } = await mailboxAndToken({});
    expectGoogleError(await list(token, { labelId: "INBOX" }), 400, "invalidParameter");
    expectGoogleError(await list(token, { includeSpamTrash: "yes" }), 400, "invalid");
  });

  it("serves scripted faults in Google's shape on the chosen call", async () => {
    const { token } = await mailboxAndToken({});
    servers.gmail.fault("gmail.users.messages.list", FAULTS.tooManyRequests("7"), { call: 2 });
    expect((await list(token)).status).toBe(200);
    const limited = await list(token);
    expectGoogleError(limited, 429, "rateLimitExceeded");
    expect(limited.headers.get("retry-after")).toBe("7");
    expect((await list(token)).status).toBe(200);
  });
});
