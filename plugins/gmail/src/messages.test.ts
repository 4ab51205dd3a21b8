/**
 * Message records: selection by label and query within the run's window, paging, bodies,
 * label names, and bounded concurrency. Emulated: Gmail (src/__fixtures__/gmail_server.ts).
 * Real: googleapis' generated client, core's OAuth 2 helper, the testkit's token endpoint.
 */
import { describe, expect, it } from "vitest";
import { at, drain, mailboxWithClient, makeContext, recordingLogger, rejectionOf, sourceBlock, useServers } from "./__fixtures__/harness.js";
import type { MessageSpec } from "./__fixtures__/gmail_server.js";

const servers = useServers();

// The window of logical date 2026-01-15 in UTC: [2026-01-15T00:00Z, 2026-01-16T00:00Z).
const VENDOR_MAIL: MessageSpec[] = [
  { id: "a0000000000000b1", internalDate: at("2026-01-15T09:30:00Z"), labels: ["Vendors", "INBOX"], from: '"Billing" <billing@vendor.example>', to: "reports@example.com", cc: "ap@example.com", subject: "Invoice 42", text: "Invoice attached.", attachments: [{ filename: "invoice.csv", mimeType: "text/csv", content: "id\n1\n" }] },
  { id: "a0000000000000b2", internalDate: at("2026-01-15T12:00:00Z"), labels: ["Vendors"], from: "news@vendor.example", subject: "Newsletter", text: "Hello" },
  { id: "a0000000000000b3", internalDate: at("2026-01-15T13:00:00Z"), labels: ["Other"], from: "billing@vendor.example", subject: "Elsewhere", attachments: [{ filename: "x.csv", mimeType: "text/csv", content: "x" }] },
  { id: "a0000000000000b4", internalDate: at("2026-01-14T23:59:59.999Z"), labels: ["Vendors"], subject: "Just before the window" },
  { id: "a0000000000000b5", internalDate: at("2026-01-15T00:00:00.000Z"), labels: ["Vendors"], subject: "At the window's start" },
  { id: "a0000000000000b6", internalDate: at("2026-01-16T00:00:00.000Z"), labels: ["Vendors"], subject: "At the window's end" },
  { id: "a0000000000000b7", internalDate: at("2026-01-15T23:59:59.999Z"), labels: ["Vendors"], subject: "Last millisecond" },
  { id: "a0000000000000b8", internalDate: at("2026-01-15T14:00:00Z"), labels: ["Vendors", "DRAFT"], subject: "A draft" },
  { id: "a0000000000000b9", internalDate: at("2026-01-15T15:00:00Z"), labels: ["Vendors", "SPAM"], subject: "Spam" },
];

function vendorMailbox(extra: Partial<Parameters<typeof mailboxWithClient>[1]> = {}) {
  return mailboxWithClient(servers, { labels: [{ name: "Vendors" }, { name: "Other" }], messages: VENDOR_MAIL, ...extra });
}

describe("messages by label within the window", () => {
  it("returns exactly the labelled messages whose internalDate is in [start, end), newest first, with every field", async () => {
    const { connection } = vendorMailbox();
    const out = await drain(makeContext({ source: sourceBlock(servers), stream: { labels: ["Vendors"] }, connection }));
    expect(out.records.map((r) => r.id)).toEqual(["a0000000000000b7", "a0000000000000b2", "a0000000000000b1", "a0000000000000b5"]);
    expect(out.records.find((r) => r.id === "a0000000000000b1")).toEqual({
      id: "a0000000000000b1",
      thread_id: "a0000000000000b1",
      date: "2026-01-15T09:30:00.000Z",
      subject: "Invoice 42",
      from: '"Billing" <billing@vendor.example>',
      to: "reports@example.com",
      cc: "ap@example.com",
      snippet: "Invoice attached.",
      label_ids: ["Label_1", "INBOX"],
      label_names: ["Vendors", "INBOX"],
      size_estimate: expect.any(Number),
      history_id: expect.stringMatching(/^\d+$/),
    });
    // Windows need no state; only history streams keep one.
    expect(out.states).toEqual([]);
  });

  it("sends requests to the connection's host when root_url is unset, as an Airflow connection can say", async () => {
    const { connection } = vendorMailbox();
    const { root_url: _unset, ...source } = sourceBlock(servers);
    const out = await drain(makeContext({ source, stream: { labels: ["Vendors"] }, connection: { ...connection, host: servers.gmail.url } }));
    expect(out.records).toHaveLength(4);
  });

  it("asks Gmail for the labels by id and for the window in epoch seconds, one second wider on each side", async () => {
    const { connection } = vendorMailbox();
    await drain(makeContext({ source: sourceBlock(servers), stream: { labels: ["vendors", "INBOX"] }, connection }));
    const [list] = servers.gmail.calls("gmail.users.messages.list");
    expect(list!.query.getAll("labelIds")).toEqual(["Label_1", "INBOX"]);
    expect(list!.query.get("q")).toBe(`after:${at("2026-01-15T00:00:00Z") / 1000 - 1} before:${at("2026-01-16T00:00:00Z") / 1000 + 1}`);
    expect(list!.query.get("includeSpamTrash")).toBe("false");
  });

  it("reads the window in the pipeline's time zone", async () => {
    const { connection } = vendorMailbox();
    const out = await drain(makeContext({ source: sourceBlock(servers), stream: { labels: ["Vendors"] }, connection, timezone: "America/New_York" }));
    // 2026-01-15 in New York is [05:00Z, next day 05:00Z): the two messages at 00:00Z and 23:59:59.999Z fall out, 00:00Z on the 16th comes in.
    expect(out.records.map((r) => r.id)).toEqual(["a0000000000000b6", "a0000000000000b7", "a0000000000000b2", "a0000000000000b1"]);
  });

  it("resolves label names, ignoring case when the name is unique, and label ids", async () => {
    const { connection } = vendorMailbox();
    const byId = await drain(makeContext({ source: sourceBlock(servers), stream: { labels: ["Label_2"] }, connection }));
    expect(byId.records.map((r) => [r.id, r.label_names])).toEqual([["a0000000000000b3", ["Other"]]]);
  });

  it("fails at once with GMAIL_LABEL_NOT_FOUND, listing the labels that exist", async () => {
    const { connection } = vendorMailbox();
    const error = await rejectionOf(() => drain(makeContext({ source: sourceBlock(servers), stream: { labels: ["Vendor"] }, connection })));
    expect(error).toMatchObject({ code: "GMAIL_LABEL_NOT_FOUND" });
    expect(error.message).toContain('label "Vendor" in the stream\'s `labels` is not a label of mailbox "me"');
    expect(error.message).toContain('"Other"');
    expect(error.message).toContain('"Vendors"');
    expect(error.message).toContain('"INBOX"');
    expect(servers.gmail.calls("gmail.users.messages.list")).toHaveLength(0);
  });
});

describe("messages by query", () => {
  it("applies the Gmail query with the window, parenthesized", async () => {
    const { connection } = vendorMailbox();
    const out = await drain(makeContext({ source: sourceBlock(servers), stream: { query: "from:billing@vendor.example has:attachment" }, connection }));
    expect(out.records.map((r) => r.id)).toEqual(["a0000000000000b3", "a0000000000000b1"]);
    expect(servers.gmail.calls("gmail.users.messages.list")[0]!.query.get("q")).toMatch(/^\(from:billing@vendor\.example has:attachment\) after:\d+ before:\d+$/);
  });

  it("takes OR queries whole: the window applies to every branch", async () => {
    const { connection } = vendorMailbox();
    const out = await drain(makeContext({ source: sourceBlock(servers), stream: { query: "subject:Newsletter OR subject:window" }, connection }));
    // "At the window's end" and "Just before the window" match the second branch but are outside the window.
    expect(out.records.map((r) => r.id)).toEqual(["a0000000000000b2", "a0000000000000b5"]);
    expect(servers.gmail.calls("gmail.users.messages.list")[0]!.query.get("q")).toMatch(/^\(subject:Newsletter OR subject:window\) after:/);
  });

  it("combines labels and query", async () => {
    const { connection } = vendorMailbox();
    const out = await drain(makeContext({ source: sourceBlock(servers), stream: { labels: ["Vendors"], query: "has:attachment" }, connection }));
    expect(out.records.map((r) => r.id)).toEqual(["a0000000000000b1"]);
  });

  it("includes Spam and Trash only when asked", async () => {
    const { connection } = vendorMailbox();
    const out = await drain(makeContext({ source: sourceBlock(servers), stream: { labels: ["Vendors"], include_spam_trash: true }, connection }));
    expect(out.records.map((r) => r.id)).toContain("a0000000000000b9");
    expect(out.records.map((r) => r.id)).not.toContain("a0000000000000b8");
    // Asking for the Spam label is asking for Spam.
    const spam = await drain(makeContext({ source: sourceBlock(servers), stream: { labels: ["SPAM"] }, connection }));
    expect(spam.records.map((r) => r.id)).toEqual(["a0000000000000b9"]);
  });
});

describe("paging", () => {
  it("follows nextPageToken across pages of max_results and yields one records batch per page", async () => {
    const messages = Array.from({ length: 12 }, (_, i) => ({ id: `c00000000000${String(i).padStart(4, "0")}`, internalDate: at("2026-01-15T01:00:00Z") + i * 60_000, labels: ["Vendors"] }));
    const { connection } = mailboxWithClient(servers, { labels: [{ name: "Vendors" }], messages });
    const out = await drain(makeContext({ source: sourceBlock(servers, { max_results: 5 }), stream: { labels: ["Vendors"] }, connection }));
    expect(out.pages).toEqual([5, 5, 2]);
    expect(out.records.map((r) => r.id)).toEqual(messages.map((m) => m.id).reverse());
    const lists = servers.gmail.calls("gmail.users.messages.list");
    expect(lists.map((r) => r.query.get("maxResults"))).toEqual(["5", "5", "5"]);
    expect(lists.map((r) => r.query.has("pageToken"))).toEqual([false, true, true]);
  });

  it("skips a message deleted between the listing and its fetch", async () => {
    const { connection, mailbox } = vendorMailbox();
    servers.gmail.before("gmail.users.messages.get", 1, () => mailbox.delete("a0000000000000b2"));
    const log = recordingLogger();
    const out = await drain(makeContext({ source: sourceBlock(servers), stream: { labels: ["Vendors"] }, connection, log }));
    expect(out.records.map((r) => r.id)).toEqual(["a0000000000000b7", "a0000000000000b1", "a0000000000000b5"]);
    expect(log.infos.join("\n")).toContain("message a0000000000000b2 was deleted after it was listed");
  });
});

describe("include_body", () => {
  it("adds the text/plain part, decoded from base64url in its charset; null for an HTML-only message", async () => {
    const { connection } = mailboxWithClient(servers, {
      largeBodyBytes: 4096,
      messages: [
        { id: "d1", internalDate: at("2026-01-15T01:00:00Z"), text: "Grüße, \"quoted\"\r\nline two 🚀", html: "<p>Grüße</p>" },
        { id: "d2", internalDate: at("2026-01-15T02:00:00Z"), html: "<p>HTML only</p>" },
        { id: "d3", internalDate: at("2026-01-15T03:00:00Z"), text: { bytes: Buffer.from("Caf\xe9 cr\xe8me", "latin1"), charset: "iso-8859-1" } },
        { id: "d4", internalDate: at("2026-01-15T04:00:00Z"), text: "x".repeat(10_000), attachments: [{ filename: "notes.txt", mimeType: "text/plain", content: "not the body" }] },
      ],
    });
    const out = await drain(makeContext({ source: sourceBlock(servers), stream: { include_body: true }, connection }));
    const body = Object.fromEntries(out.records.map((r) => [r.id, r.body]));
    expect(body).toEqual({ d1: 'Grüße, "quoted"\r\nline two 🚀', d2: null, d3: "Café crème", d4: "x".repeat(10_000) });
    // format=full only when a body is wanted; d4's large body came through attachments.get.
    expect(servers.gmail.calls("gmail.users.messages.get").map((r) => r.query.get("format"))).toEqual(["full", "full", "full", "full"]);
    expect(servers.gmail.calls("gmail.users.messages.attachments.get").map((r) => r.path)).toEqual([expect.stringContaining("/messages/d4/attachments/")]);
  });

  it("asks for format=metadata with the record's headers when no body is wanted", async () => {
    const { connection } = vendorMailbox();
    await drain(makeContext({ source: sourceBlock(servers), stream: { labels: ["Other"] }, connection }));
    const [get] = servers.gmail.calls("gmail.users.messages.get");
    expect(get!.query.get("format")).toBe("metadata");
    expect(get!.query.getAll("metadataHeaders")).toEqual(["Subject", "From", "To", "Cc"]);
  });
});

describe("bounded concurrency", () => {
  it("never has more messages.get calls in flight than `concurrency`", async () => {
    const messages = Array.from({ length: 20 }, (_, i) => ({ internalDate: at("2026-01-15T01:00:00Z") + i }));
    const { connection } = mailboxWithClient(servers, { messages });
    servers.gmail.getDelayMs = 25;
    const out = await drain(makeContext({ source: sourceBlock(servers, { concurrency: 3 }), stream: {}, connection }));
    expect(out.records).toHaveLength(20);
    expect(servers.gmail.peakConcurrentGets).toBe(3);
  });

  it("defaults to 8", async () => {
    const messages = Array.from({ length: 30 }, (_, i) => ({ internalDate: at("2026-01-15T01:00:00Z") + i }));
    const { connection } = mailboxWithClient(servers, { messages });
    servers.gmail.getDelayMs = 25;
    await drain(makeContext({ source: sourceBlock(servers), stream: {}, connection }));
    expect(servers.gmail.peakConcurrentGets).toBe(8);
  });
});
