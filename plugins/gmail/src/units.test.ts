// The plugin's pure parts: the window as a search, file names, bounded concurrency, MIME parts,
// label resolution and error reading. Nothing emulated, no network.
import { describe, expect, it } from "vitest";
import { attachmentSelector } from "./attachment-filter.js";
import { mapBounded } from "./bounded.js";
import { landedFileName } from "./file-name.js";
import { failureOf, isRetryable } from "./google-error.js";
import { labelIndex, resolveLabels } from "./labels.js";
import { attachmentParts, decodeText, header, plainTextPart } from "./parts.js";
import { inWindow, searchQuery, windowBounds } from "./window.js";

describe("the window as a Gmail search", () => {
  const bounds = windowBounds({ logicalDate: "2026-01-15", start: "2026-01-15T00:00:00-05:00", end: "2026-01-16T00:00:00-05:00", timezone: "America/New_York" });

  it("is epoch seconds one second wider on each side, after the user's query in parentheses", () => {
    expect(searchQuery(undefined, bounds)).toBe("after:1768453199 before:1768539601");
    expect(searchQuery("from:a OR from:b", bounds)).toBe("(from:a OR from:b) after:1768453199 before:1768539601");
  });

  it("leaves the decision to internalDate, start inclusive and end exclusive", () => {
    expect(inWindow(String(bounds.startMs - 1), bounds)).toBe(false);
    expect(inWindow(String(bounds.startMs), bounds)).toBe(true);
    expect(inWindow(String(bounds.endMs - 1), bounds)).toBe(true);
    expect(inWindow(String(bounds.endMs), bounds)).toBe(false);
    expect(inWindow(undefined, bounds)).toBe(false);
  });

  it("rounds a window that does not start on a whole second outwards", () => {
    const odd = windowBounds({ logicalDate: "x", start: "2026-01-15T00:00:00.500Z", end: "2026-01-15T01:00:00.500Z", timezone: "UTC" });
    expect(searchQuery(undefined, odd)).toBe(`after:${Date.parse("2026-01-15T00:00:00Z") / 1000 - 1} before:${Date.parse("2026-01-15T01:00:01Z") / 1000 + 1}`);
  });
});

describe("landed file names", () => {
  it("are <message>_<position>_<name> with only safe characters", () => {
    expect(landedFileName("18c2f3a000000001", 2, "report.csv")).toBe("18c2f3a000000001_2_report.csv");
    expect(landedFileName("18c2f3a000000001", 1, "Q1 report (final).csv")).toBe("18c2f3a000000001_1_Q1_report_final_.csv");
    expect(landedFileName("m", 1, ".hidden")).toBe("m_1_.hidden");
    expect(landedFileName("m", 1, "日本.csv")).toBe("m_1_.csv");
    expect(landedFileName("m", 1, "../../x.csv")).toBe("m_1_x.csv");
    expect(landedFileName("m", 1, "")).toBe("m_1_attachment");
  });

  it("keep the extension when they must be shortened to 200 characters", () => {
    const name = landedFileName("18c2f3a000000001", 1, `${"a".repeat(300)}.csv`);
    expect(name).toHaveLength(200);
    expect(name.endsWith("a.csv")).toBe(true);
  });
});

describe("mapBounded", () => {
  it("keeps the order and never runs more than the limit at once", async () => {
    let active = 0;
    let peak = 0;
    const out = await mapBounded([50, 10, 30, 0, 20, 5], 2, async (ms, i) => {
      active++;
      peak = Math.max(peak, active);
      await new Promise((r) => setTimeout(r, ms));
      active--;
      return i;
    });
    expect(out).toEqual([0, 1, 2, 3, 4, 5]);
    expect(peak).toBe(2);
  });

  it("starts nothing after a failure and throws it once the calls in flight are done", async () => {
    const started: number[] = [];
    let settled = 0;
    const failing = mapBounded([0, 1, 2, 3, 4], 2, async (n) => {
      started.push(n);
      await new Promise((r) => setTimeout(r, n === 0 ? 5 : 30));
      settled++;
      if (n === 0) throw new Error("boom");
      return n;
    });
    await expect(failing).rejects.toThrow("boom");
    expect(started).toEqual([0, 1]);
    expect(settled).toBe(2);
  });
});

describe("MIME parts", () => {
  const payload = {
    partId: "",
    mimeType: "multipart/mixed",
    headers: [{ name: "SUBJECT", value: "Hi" }],
    parts: [
      { partId: "0", mimeType: "text/plain", filename: "notes.txt", headers: [], body: { attachmentId: "A1", size: 3 } },
      {
        partId: "1",
        mimeType: "multipart/alternative",
        parts: [
          { partId: "1.0", mimeType: "text/plain", filename: "", headers: [{ name: "Content-Disposition", value: "attachment" }], body: { data: "eA", size: 1 } },
          { partId: "1.1", mimeType: "TEXT/PLAIN", filename: "", headers: [{ name: "content-type", value: 'text/plain; charset="ISO-8859-1"' }], body: { data: "Y2Fm6Q", size: 4 } },
        ],
      },
      { partId: "2", mimeType: "text/CSV; name=a.csv", filename: "a.csv", body: { data: "YQ", size: 1 } },
    ],
  };

  it("finds headers without case, the text body that is no attachment, and the attachments in order", () => {
    expect(header(payload, "Subject")).toBe("Hi");
    expect(header(payload, "To")).toBeNull();
    expect(plainTextPart(payload)).toEqual({ charset: "iso-8859-1", data: "Y2Fm6Q" });
    expect(attachmentParts(payload)).toEqual([
      { position: 1, partId: "0", filename: "notes.txt", mimeType: "text/plain", size: 3, attachmentId: "A1" },
      { position: 2, partId: "2", filename: "a.csv", mimeType: "text/csv", size: 1, data: "YQ" },
    ]);
  });

  it("decodes text in its charset, and in UTF-8 when the charset is unknown", () => {
    expect(decodeText(Buffer.from("café", "latin1"), "iso-8859-1")).toBe("café");
    expect(decodeText(Buffer.from("café"), "x-unknown")).toBe("café");
  });

  it("selects attachments by glob, MIME type and size, saying why it skips one", () => {
    const select = attachmentSelector({ filename: "report_*.csv", mime_types: ["text/*"], max_bytes: 10 });
    const part = { position: 1, partId: "1", filename: "Report_2026.CSV", mimeType: "text/csv", size: 5 };
    expect(select(part)).toBeUndefined();
    expect(select({ ...part, filename: "summary.csv" })).toEqual({ reason: 'its name does not match "report_*.csv"', level: "info" });
    expect(select({ ...part, mimeType: "application/pdf" })).toEqual({ reason: "its type application/pdf is not one of text/*", level: "info" });
    expect(select({ ...part, size: 11 })).toEqual({ reason: "its 11 bytes exceed max_bytes 10", level: "warn" });
    expect(attachmentSelector(undefined)(part)).toBeUndefined();
  });
});

describe("labels", () => {
  const labels = [
    { id: "INBOX", name: "INBOX", type: "system" },
    { id: "Label_1", name: "Vendors", type: "user" },
    { id: "Label_2", name: "Vendors/Invoices", type: "user" },
    { id: "Label_3", name: "ACME", type: "user" },
    { id: "Label_4", name: "acme", type: "user" },
  ];

  it("resolve by id, by name, then by the one name equal without case", () => {
    expect(resolveLabels(["INBOX", "Label_2", "Vendors", "vendors/invoices", "acme"], labels, "me")).toEqual(["INBOX", "Label_2", "Label_1", "Label_2", "Label_4"]);
    expect(labelIndex(labels).nameOf("Label_2")).toBe("Vendors/Invoices");
    expect(labelIndex(labels).nameOf("Label_99")).toBe("Label_99");
  });

  it("fail with the labels that exist, and on an ambiguous name", () => {
    expect(() => resolveLabels(["Nope"], labels, "me")).toThrow('label "Nope" in the stream\'s `labels` is not a label of mailbox "me"; its labels are: "ACME", "INBOX", "Vendors", "Vendors/Invoices", "acme"');
    expect(() => resolveLabels(["Acme"], labels, "me")).toThrow('matches "ACME" and "acme" ignoring case');
  });
});

describe("reading what the client threw", () => {
  it("takes Google's message and reason, and Retry-After from fetch headers or a plain object", () => {
    const body = { error: { code: 403, message: "Rate Limit Exceeded", status: "PERMISSION_DENIED", errors: [{ message: "Rate Limit Exceeded", domain: "usageLimits", reason: "rateLimitExceeded" }] } };
    const failure = failureOf({ response: { status: 403, headers: new Headers({ "Retry-After": "3" }), data: body } });
    expect(failure).toEqual({ kind: "http", status: 403, retryAfter: "3", message: "Rate Limit Exceeded", reason: "rateLimitExceeded", googleStatus: "PERMISSION_DENIED" });
    expect(isRetryable(failure)).toBe(true);
    expect(failureOf({ response: { status: 502, headers: { "retry-after": "1" }, data: "<html>Bad Gateway</html>" } })).toEqual({ kind: "http", status: 502, retryAfter: "1", message: "<html>Bad Gateway</html>" });
  });

  it("retries rate limits, 5xx and transient network errors only", () => {
    const http = (status: number, reason?: string) => ({ kind: "http" as const, status, message: "", reason });
    expect([429, 500, 503].map((s) => isRetryable(http(s)))).toEqual([true, true, true]);
    expect([400, 401, 404].map((s) => isRetryable(http(s)))).toEqual([false, false, false]);
    expect(isRetryable(http(403, "userRateLimitExceeded"))).toBe(true);
    expect(isRetryable(http(403, "insufficientPermissions"))).toBe(false);
    expect(isRetryable(http(403, "dailyLimitExceeded"))).toBe(false);
    expect(failureOf(Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" }))).toEqual({ kind: "network", detail: "connect ECONNREFUSED 127.0.0.1:1", permanent: false });
    expect(isRetryable(failureOf(Object.assign(new Error("getaddrinfo"), { code: "ENOTFOUND" })))).toBe(false);
  });
});
