/**
 * Retries and refusals: rate limits (429 with Retry-After, 403 rateLimitExceeded and
 * userRateLimitExceeded) and server errors are retried with backoff; every other refusal fails
 * at once with the plugin's code and a hint. Emulated: Gmail (src/__fixtures__/gmail_server.ts)
 * with scripted faults in Google's error shape. Real: googleapis' generated client, core's
 * OAuth 2 helper, the testkit's token endpoint, Node's HTTP stack (timeouts, refused connections).
 */
import { describe, expect, it } from "vitest";
import { freePort } from "@xo-foundry/testkit";
import { at, drain, mailboxWithClient, makeContext, recordingLogger, rejectionOf, sourceBlock, useServers } from "./__fixtures__/harness.js";
import { FAULTS, insufficientScopes } from "./__fixtures__/gmail_server.js";

const servers = useServers();

function mailbox() {
  return mailboxWithClient(servers, {
    labels: [{ name: "Vendors" }],
    messages: [
      { id: "r000000000000001", internalDate: at("2026-01-15T08:00:00Z"), labels: ["Vendors"] },
      { id: "r000000000000002", internalDate: at("2026-01-15T09:00:00Z"), labels: ["Vendors"] },
    ],
  });
}

const stream = { labels: ["Vendors"] };
const ids = (records: Record<string, unknown>[]) => records.map((r) => r.id);

describe("retried", () => {
  it("429 on messages.list, waiting as long as its Retry-After says", async () => {
    const { connection } = mailbox();
    servers.gmail.fault("gmail.users.messages.list", FAULTS.tooManyRequests("1"));
    const log = recordingLogger();
    const started = performance.now();
    const out = await drain(makeContext({ source: sourceBlock(servers), stream, connection, log }));
    expect(performance.now() - started).toBeGreaterThanOrEqual(950);
    expect(ids(out.records)).toEqual(["r000000000000002", "r000000000000001"]);
    expect(servers.gmail.calls("gmail.users.messages.list").map((r) => r.status)).toEqual([429, 200]);
    expect(log.warnings).toEqual([
      expect.stringMatching(/^users\.messages\.list \(messages matching .*\) failed with HTTP 429 Too Many Requests \(rateLimitExceeded\): Too many concurrent requests for user; retry 1 of 6 in 1000 ms$/),
    ]);
  });

  it("403 rateLimitExceeded and userRateLimitExceeded on messages.get", async () => {
    const { connection } = mailbox();
    servers.gmail.fault("gmail.users.messages.get", FAULTS.rateLimitExceeded(), { call: 1 });
    servers.gmail.fault("gmail.users.messages.get", FAULTS.userRateLimitExceeded(), { call: 2 });
    const out = await drain(makeContext({ source: sourceBlock(servers), stream, connection }));
    expect(ids(out.records)).toEqual(["r000000000000002", "r000000000000001"]);
    expect(servers.gmail.calls("gmail.users.messages.get").filter((r) => r.status === 403)).toHaveLength(2);
  });

  it("503 and 500 on labels.list and history.list", async () => {
    const { connection, mailbox: box } = mailbox();
    servers.gmail.fault("gmail.users.labels.list", FAULTS.unavailable());
    servers.gmail.fault("gmail.users.labels.list", FAULTS.backendError());
    servers.gmail.fault("gmail.users.history.list", FAULTS.unavailable("0"));
    const out = await drain(makeContext({ source: sourceBlock(servers), stream: { ...stream, incremental: "history" }, connection, state: { history_id: String(box.currentHistoryId) } }));
    expect(out.states).toEqual([{ history_id: String(box.currentHistoryId) }]);
    expect(servers.gmail.calls("gmail.users.labels.list").map((r) => r.status)).toEqual([503, 500, 200]);
    expect(servers.gmail.calls("gmail.users.history.list").map((r) => r.status)).toEqual([503, 200]);
  });

  it("a response that never comes, after timeout_ms", async () => {
    const { connection } = mailbox();
    servers.gmail.fault("gmail.users.messages.list", "stall");
    const log = recordingLogger();
    const out = await drain(makeContext({ source: sourceBlock(servers, { timeout_ms: 1000 }), stream, connection, log }));
    expect(ids(out.records)).toHaveLength(2);
    expect(log.warnings[0]).toContain("got no response within 1000 ms; retry 1 of 6");
  });
});

describe("failing for good", () => {
  it("400 for the query at once, with GMAIL_QUERY_INVALID naming the query", async () => {
    const { connection } = mailbox();
    const error = await rejectionOf(() => drain(makeContext({ source: sourceBlock(servers), stream: { query: 'subject:"unclosed' }, connection })));
    expect(error).toMatchObject({ code: "GMAIL_QUERY_INVALID", status: 400 });
    expect(error.message).toMatch(/^Gmail refused the search query "\(subject:\\"unclosed\) after:\d+ before:\d+" \(HTTP 400 invalidArgument: Invalid query\)/);
    expect((error as { hint?: string }).hint).toContain("fix the stream's `query`");
    expect(servers.gmail.calls("gmail.users.messages.list")).toHaveLength(1);
  });

  it("rate limits that outlast max_retries, with GMAIL_RATE_LIMITED", async () => {
    const { connection } = mailbox();
    for (let i = 0; i < 3; i++) servers.gmail.fault("gmail.users.labels.list", FAULTS.tooManyRequests("0"));
    const error = await rejectionOf(() => drain(makeContext({ source: sourceBlock(servers, { max_retries: 2 }), stream, connection })));
    expect(error).toMatchObject({ code: "GMAIL_RATE_LIMITED", status: 429 });
    expect(error.message).toContain("after 3 attempts");
    expect((error as { hint?: string }).hint).toContain("lower `concurrency`");
  });

  it("server errors that outlast max_retries, and a refused connection, with GMAIL_UNAVAILABLE", async () => {
    const { connection } = mailbox();
    for (let i = 0; i < 2; i++) servers.gmail.fault("gmail.users.labels.list", FAULTS.backendError());
    const error = await rejectionOf(() => drain(makeContext({ source: sourceBlock(servers, { max_retries: 1 }), stream, connection })));
    expect(error).toMatchObject({ code: "GMAIL_UNAVAILABLE", status: 500 });

    const closed = await freePort();
    const refused = await rejectionOf(() => drain(makeContext({ source: sourceBlock(servers, { max_retries: 1, root_url: `http://127.0.0.1:${closed}/` }), stream, connection })));
    expect(refused).toMatchObject({ code: "GMAIL_UNAVAILABLE" });
    expect(refused.message).toContain("ECONNREFUSED");
    expect((refused as { hint?: string }).hint).toContain(`check \`root_url\` (http://127.0.0.1:${closed}/)`);
  });

  it("403 dailyLimitExceeded at once, with GMAIL_QUOTA_EXCEEDED", async () => {
    const { connection } = mailbox();
    servers.gmail.fault("gmail.users.labels.list", FAULTS.dailyLimitExceeded());
    const error = await rejectionOf(() => drain(makeContext({ source: sourceBlock(servers), stream, connection })));
    expect(error).toMatchObject({ code: "GMAIL_QUOTA_EXCEEDED", status: 403, reason: "dailyLimitExceeded" });
    expect(servers.gmail.calls("gmail.users.labels.list")).toHaveLength(1);
  });

  it("403 insufficientPermissions at once, with GMAIL_PERMISSION_DENIED and what to grant", async () => {
    const { connection } = mailbox();
    servers.gmail.fault("gmail.users.labels.list", insufficientScopes());
    const error = await rejectionOf(() => drain(makeContext({ source: sourceBlock(servers), stream, connection })));
    expect(error).toMatchObject({ code: "GMAIL_PERMISSION_DENIED", reason: "insufficientPermissions" });
    expect((error as { hint?: string }).hint).toContain("lacks https://www.googleapis.com/auth/gmail.readonly");
    expect((error as { hint?: string }).hint).toContain("domain-wide delegation");
    expect((error as { hint?: string }).hint).toContain('connection "ops_mailbox" (XO_CONN_OPS_MAILBOX)');
  });

  it("403 domainPolicy at once, naming the administrator's block", async () => {
    const { connection } = mailbox();
    servers.gmail.fault("gmail.users.labels.list", FAULTS.domainPolicy());
    const error = await rejectionOf(() => drain(makeContext({ source: sourceBlock(servers), stream, connection })));
    expect(error).toMatchObject({ code: "GMAIL_PERMISSION_DENIED", reason: "domainPolicy" });
    expect((error as { hint?: string }).hint).toContain("Workspace administrator");
  });

  it("403 for a user_id that is not the credentials' mailbox", async () => {
    const { connection } = mailbox();
    const error = await rejectionOf(() => drain(makeContext({ source: sourceBlock(servers, { user_id: "ceo@example.com" }), stream, connection })));
    expect(error).toMatchObject({ code: "GMAIL_PERMISSION_DENIED" });
    expect(error.message).toContain("Delegation denied for ceo@example.com");
    expect((error as { hint?: string }).hint).toContain('`user_id` "ceo@example.com" is not the mailbox these credentials act as');
  });
});
