/**
 * Attachments landed as files: filters by name, MIME type and size, names unique across
 * messages, bytes intact. Emulated: Gmail (src/__fixtures__/gmail_server.ts). Real: googleapis'
 * generated client, core's OAuth 2 helper, the testkit's token endpoint.
 */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { at, drain, mailboxWithClient, makeContext, recordingLogger, sourceBlock, useServers } from "./__fixtures__/harness.js";

const servers = useServers();

const sha256 = (bytes: Uint8Array | string) => createHash("sha256").update(bytes).digest("hex");

// A CSV that a careless pipeline would damage: BOM, CRLF, quotes, a newline in a field, non-ASCII.
const TRICKY_CSV = '\uFEFFid,name,note\r\n1,"Müller, GmbH","said ""hi""\nthen left"\r\n2,日本,🚀\r\n';
const OTHER_CSV = "id,name\n3,Acme\n";

const MESSAGES = [
  {
    id: "e000000000000001",
    internalDate: at("2026-01-15T08:00:00Z"),
    labels: ["Vendors"],
    subject: "Daily report",
    attachments: [
      { filename: "report.csv", mimeType: "text/csv", content: TRICKY_CSV },
      { filename: "logo.png", mimeType: "image/png", content: Buffer.from([0x89, 0x50, 0x4e, 0x47]) },
      { filename: "raw.csv", mimeType: "application/octet-stream", content: "a,b\n" },
    ],
  },
  { id: "e000000000000002", internalDate: at("2026-01-15T09:00:00Z"), labels: ["Vendors"], attachments: [{ filename: "report.csv", mimeType: "text/csv; charset=utf-8", content: OTHER_CSV }] },
  { id: "e000000000000003", internalDate: at("2026-01-15T10:00:00Z"), labels: ["Vendors"], attachments: [{ filename: "HUGE.CSV", mimeType: "text/csv", content: "x,y\n".repeat(1000) }] },
  { id: "e000000000000004", internalDate: at("2026-01-15T11:00:00Z"), labels: ["Vendors"], attachments: [{ filename: "tiny.csv", mimeType: "text/csv", content: "t\n1\n", inline: true }] },
  { id: "e000000000000005", internalDate: at("2026-01-14T11:00:00Z"), labels: ["Vendors"], attachments: [{ filename: "yesterday.csv", mimeType: "text/csv", content: "old\n" }] },
];

const STREAM = { content: "attachments", labels: ["Vendors"], attachments: { filename: "*.csv", mime_types: ["text/csv"], max_bytes: 1000 }, load_attachments_as: "csv" };

describe("attachments as files", () => {
  it("lands the CSV attachments of the window's messages, named <message>_<position>_<name>, bytes intact", async () => {
    const { connection } = mailboxWithClient(servers, { labels: [{ name: "Vendors" }], messages: MESSAGES });
    const log = recordingLogger();
    const out = await drain(makeContext({ source: sourceBlock(servers), stream: STREAM, connection, log }));

    expect(out.records).toEqual([]);
    expect(out.files.map((f) => [f.name, f.format])).toEqual([
      ["e000000000000004_1_tiny.csv", "csv"],
      ["e000000000000002_1_report.csv", "csv"],
      ["e000000000000001_1_report.csv", "csv"],
    ]);
    const report = out.files.find((f) => f.name === "e000000000000001_1_report.csv")!;
    expect(sha256(report.bytes)).toBe(sha256(Buffer.from(TRICKY_CSV, "utf8")));
    expect(report.metadata).toEqual({
      message_id: "e000000000000001",
      thread_id: "e000000000000001",
      message_date: "2026-01-15T08:00:00.000Z",
      filename: "report.csv",
      mime_type: "text/csv",
      size: Buffer.byteLength(TRICKY_CSV),
    });
    expect(sha256(out.files[1]!.bytes)).toBe(sha256(OTHER_CSV));
    // Sent inline (body.data, no attachment id): landed without an attachments.get.
    expect(out.files[0]!.bytes.toString()).toBe("t\n1\n");
    expect(servers.gmail.calls("gmail.users.messages.attachments.get")).toHaveLength(2);

    expect(log.infos).toContain('attachment "logo.png" of message e000000000000001 skipped: its name does not match "*.csv"');
    expect(log.infos).toContain('attachment "raw.csv" of message e000000000000001 skipped: its type application/octet-stream is not one of text/csv');
    expect(log.warnings).toContain('attachment "HUGE.CSV" of message e000000000000003 skipped: its 4000 bytes exceed max_bytes 1000');
  });

  it("matches names without case and MIME types by their essence or a wildcard", async () => {
    const { connection } = mailboxWithClient(servers, { labels: [{ name: "Vendors" }], messages: MESSAGES });
    const out = await drain(makeContext({ source: sourceBlock(servers), stream: { ...STREAM, attachments: { filename: "*.CSV", mime_types: ["text/*", "application/octet-stream"] } }, connection }));
    expect(out.files.map((f) => f.name)).toEqual([
      "e000000000000004_1_tiny.csv",
      "e000000000000003_1_HUGE.CSV",
      "e000000000000002_1_report.csv",
      "e000000000000001_1_report.csv",
      "e000000000000001_3_raw.csv",
    ]);
  });

  it("lands binary attachments unchanged and makes hostile file names safe", async () => {
    const bytes = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7919) % 256));
    const { connection } = mailboxWithClient(servers, {
      messages: [{ id: "f000000000000001", internalDate: at("2026-01-15T08:00:00Z"), attachments: [{ filename: "../../etc/Q1 report (final) ✓.parquet", mimeType: "application/octet-stream", content: bytes }] }],
    });
    const out = await drain(makeContext({ source: sourceBlock(servers), stream: { content: "attachments", load_attachments_as: "parquet" }, connection }));
    expect(out.files).toHaveLength(1);
    expect(out.files[0]!.name).toBe("f000000000000001_1_etc_Q1_report_final_.parquet");
    expect(out.files[0]!.format).toBe("parquet");
    expect(sha256(out.files[0]!.bytes)).toBe(sha256(bytes));
    expect(out.files[0]!.metadata?.filename).toBe("../../etc/Q1 report (final) ✓.parquet");
  });

  it("skips a message without attachments and lands nothing for it", async () => {
    const { connection } = mailboxWithClient(servers, { messages: [{ internalDate: at("2026-01-15T08:00:00Z"), text: "no files" }] });
    const out = await drain(makeContext({ source: sourceBlock(servers), stream: { content: "attachments", load_attachments_as: "csv" }, connection }));
    expect(out.order).toEqual([]);
  });
});
