/**
 * `incremental: history`: the first run syncs the window and records the mailbox's history id;
 * later runs read users.history.list from it; a history id Gmail no longer has falls back to a
 * window sync with a warning. Emulated: Gmail (src/__fixtures__/gmail_server.ts), including its
 * history ids and their expiry. Real: googleapis' generated client, core's OAuth 2 helper, the
 * testkit's token endpoint.
 */
import { describe, expect, it } from "vitest";
import type { JsonObject } from "@xo-foundry/core";
import { at, drain, mailboxWithClient, makeContext, recordingLogger, sourceBlock, useServers } from "./__fixtures__/harness.js";

const servers = useServers();

const STREAM = { labels: ["Vendors"], incremental: "history" };

function vendorMailbox() {
  return mailboxWithClient(servers, {
    labels: [{ name: "Vendors" }, { name: "Paid" }],
    messages: [
      { id: "h000000000000001", internalDate: at("2026-01-15T08:00:00Z"), labels: ["Vendors"] },
      { id: "h000000000000002", internalDate: at("2026-01-15T09:00:00Z"), labels: ["INBOX"] },
      { id: "h000000000000003", internalDate: at("2026-01-10T09:00:00Z"), labels: ["Vendors"] },
    ],
  });
}

describe("incremental: history", () => {
  it("first run: syncs the window and records the history id read before the listing, as the last batch", async () => {
    const { connection, mailbox } = vendorMailbox();
    const before = String(mailbox.currentHistoryId);
    const out = await drain(makeContext({ source: sourceBlock(servers), stream: STREAM, connection }));
    expect(out.records.map((r) => r.id)).toEqual(["h000000000000001"]);
    expect(out.states).toEqual([{ history_id: before }]);
    expect(out.order.at(-1)).toBe("state");
    const methods = servers.gmail.requests.map((r) => r.method);
    expect(methods.indexOf("gmail.users.getProfile")).toBeLessThan(methods.indexOf("gmail.users.messages.list"));
    expect(servers.gmail.calls("gmail.users.history.list")).toHaveLength(0);
  });

  it("later runs return only the messages added since, whatever their date, and move the history id on", async () => {
    const { connection, mailbox } = vendorMailbox();
    const first = await drain(makeContext({ source: sourceBlock(servers), stream: STREAM, connection }));
    mailbox.deliver({ id: "h000000000000010", internalDate: at("2026-01-16T10:00:00Z"), labels: ["Vendors"] });
    mailbox.deliver({ id: "h000000000000011", internalDate: at("2026-01-16T11:00:00Z"), labels: ["INBOX"] });
    mailbox.deliver({ id: "h000000000000012", internalDate: at("2026-01-16T12:00:00Z"), labels: ["Vendors", "DRAFT"] });
    mailbox.deliver({ id: "h000000000000013", internalDate: at("2026-01-16T13:00:00Z"), labels: ["Vendors", "Paid"] });
    const second = await drain(makeContext({ source: sourceBlock(servers), stream: STREAM, connection, state: first.states[0]!, logicalDate: "2026-01-16" }));

    expect(second.records.map((r) => r.id)).toEqual(["h000000000000010", "h000000000000013"]);
    expect(second.states).toEqual([{ history_id: String(mailbox.currentHistoryId) }]);
    const [history] = servers.gmail.calls("gmail.users.history.list");
    expect(Object.fromEntries(history!.query)).toEqual({ startHistoryId: first.states[0]!.history_id, historyTypes: "messageAdded", maxResults: "100", labelId: "Label_1" });
    expect(servers.gmail.calls("gmail.users.messages.list")).toHaveLength(1); // the first run's only
  });

  it("checks the stream's other labels on each message (Gmail filters history by one label)", async () => {
    const { connection, mailbox } = vendorMailbox();
    const state: JsonObject = { history_id: String(mailbox.currentHistoryId) };
    mailbox.deliver({ id: "h000000000000020", internalDate: at("2026-01-16T10:00:00Z"), labels: ["Vendors"] });
    mailbox.deliver({ id: "h000000000000021", internalDate: at("2026-01-16T11:00:00Z"), labels: ["Vendors", "Paid"] });
    const out = await drain(makeContext({ source: sourceBlock(servers), stream: { ...STREAM, labels: ["Vendors", "Paid"] }, connection, state }));
    expect(out.records.map((r) => r.id)).toEqual(["h000000000000021"]);
  });

  it("pages through the history with max_results", async () => {
    const { connection, mailbox } = vendorMailbox();
    const state: JsonObject = { history_id: String(mailbox.currentHistoryId) };
    const ids = Array.from({ length: 5 }, (_, i) => `h00000000000003${i}`);
    for (const id of ids) mailbox.deliver({ id, internalDate: at("2026-01-16T10:00:00Z"), labels: ["Vendors"] });
    const out = await drain(makeContext({ source: sourceBlock(servers, { max_results: 2 }), stream: STREAM, connection, state }));
    expect(out.records.map((r) => r.id)).toEqual(ids);
    expect(out.pages).toEqual([2, 2, 1]);
    expect(servers.gmail.calls("gmail.users.history.list")).toHaveLength(3);
    expect(out.states).toEqual([{ history_id: String(mailbox.currentHistoryId) }]);
  });

  it("with nothing new, returns no records and keeps a current history id", async () => {
    const { connection, mailbox } = vendorMailbox();
    const state: JsonObject = { history_id: String(mailbox.currentHistoryId) };
    const out = await drain(makeContext({ source: sourceBlock(servers), stream: STREAM, connection, state }));
    expect(out.order).toEqual(["state"]);
    expect(out.states).toEqual([state]);
  });

  it("falls back to a window sync with a warning when Gmail no longer has the saved history id (404)", async () => {
    const { connection, mailbox } = vendorMailbox();
    const stale: JsonObject = { history_id: String(mailbox.currentHistoryId) };
    mailbox.deliver({ id: "h000000000000040", internalDate: at("2026-01-15T20:00:00Z"), labels: ["Vendors"] });
    mailbox.expireHistory();
    const log = recordingLogger();
    const out = await drain(makeContext({ source: sourceBlock(servers), stream: STREAM, connection, state: stale, log }));
    expect(out.records.map((r) => r.id)).toEqual(["h000000000000040", "h000000000000001"]);
    expect(out.states).toEqual([{ history_id: String(mailbox.currentHistoryId) }]);
    expect(servers.gmail.calls("gmail.users.history.list").map((r) => r.status)).toEqual([404]);
    expect(log.warnings.join("\n")).toContain(`Gmail no longer has the mailbox history after ${stale.history_id as string} (HTTP 404); doing a full sync of the run's window`);
  });

  it("reads a message delivered during the first run's listing again in the next run: at least once, never lost", async () => {
    const { connection, mailbox } = vendorMailbox();
    servers.gmail.before("gmail.users.messages.list", 1, () => mailbox.deliver({ id: "h000000000000050", internalDate: at("2026-01-15T21:00:00Z"), labels: ["Vendors"] }));
    const first = await drain(makeContext({ source: sourceBlock(servers), stream: STREAM, connection }));
    const second = await drain(makeContext({ source: sourceBlock(servers), stream: STREAM, connection, state: first.states[0]! }));
    expect(first.records.map((r) => r.id)).toContain("h000000000000050");
    expect(second.records.map((r) => r.id)).toEqual(["h000000000000050"]);
  });

  it("ignores a saved state without a usable history id, with a warning, and does a full sync", async () => {
    const { connection, mailbox } = vendorMailbox();
    const log = recordingLogger();
    const out = await drain(makeContext({ source: sourceBlock(servers), stream: STREAM, connection, state: { history_id: "not-a-number" }, log }));
    expect(out.records.map((r) => r.id)).toEqual(["h000000000000001"]);
    expect(out.states).toEqual([{ history_id: String(mailbox.currentHistoryId) }]);
    expect(log.warnings.join("\n")).toContain('the stream\'s saved state has no usable history_id ("not-a-number")');
  });

  it("lands the attachments of new messages", async () => {
    const { connection, mailbox } = vendorMailbox();
    const state: JsonObject = { history_id: String(mailbox.currentHistoryId) };
    mailbox.deliver({ id: "h000000000000060", internalDate: at("2026-01-16T10:00:00Z"), labels: ["Vendors"], attachments: [{ filename: "new.csv", mimeType: "text/csv", content: "n\n1\n" }] });
    const out = await drain(makeContext({ source: sourceBlock(servers), stream: { ...STREAM, content: "attachments", load_attachments_as: "csv" }, connection, state }));
    expect(out.files.map((f) => [f.name, f.bytes.toString()])).toEqual([["h000000000000060_1_new.csv", "n\n1\n"]]);
    expect(out.order).toEqual(["file", "state"]);
  });

  it("warns that load_strategy full_refresh would drop what earlier runs loaded", async () => {
    const { connection } = vendorMailbox();
    const log = recordingLogger();
    await drain(makeContext({ source: sourceBlock(servers), stream: STREAM, connection, strategy: "full_refresh", log }));
    expect(log.warnings.join("\n")).toContain("use load_strategy incremental");
  });
});
