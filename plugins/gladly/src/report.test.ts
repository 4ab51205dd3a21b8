/**
 * Reports API end to end. Emulated: Gladly's API (src/__fixtures__/gladly-server.ts, a loopback
 * node:http server that follows Gladly's published Reports API description and refuses what it
 * refuses; its CSV content, row cap and data latency are assumptions, see its header).
 * Real: axios, the Node HTTP stack and sockets, temp files, time zone rules.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { validateReportRequest } from "./__fixtures__/gladly-api.js";
import { daysCsv, INBOXES, startGladlyEmulator, TEAMS, type GladlyEmulator } from "./__fixtures__/gladly-server.js";
import { extractError, extractFiles, makeContext, recordingLogger } from "./__fixtures__/harness.js";

let gladly: GladlyEmulator;
beforeAll(async () => {
  gladly = await startGladlyEmulator();
});
afterAll(() => gladly.close());
beforeEach(() => gladly.reset());

const report = (metric_set = "ContactTimestampsReport", extra: Record<string, unknown> = {}) => ({ kind: "report", metric_set, ...extra });
const reportRequests = () => gladly.requests.filter((r) => r.path === "/api/v1/reports");
const NY = "America/New_York";

/** Data rows of a CSV body, by id (first field). */
function ids(csv: Buffer): string[] {
  return [...csv.toString("utf8").matchAll(/^([A-Za-z0-9]+-\d{4}-[^,]+Z),/gm)].map((m) => m[1]!);
}

/** The Timestamp field (local wall clock) of every data row. */
function timestamps(csv: Buffer): string[] {
  return [...csv.toString("utf8").matchAll(/^[A-Za-z0-9]+-\d{4}-[^,]+Z,([^,]+),/gm)].map((m) => m[1]!);
}

describe("requests as Gladly's Reports API describes them", () => {
  // The acceptance test of the reference pipeline: its four metric sets, a daily run in New York.
  for (const metricSet of ["ContactTimestampsReport", "AgentTimestampsReport", "ConversationTimestampsReport", "WorkSessionsReportV3"]) {
    it(`${metricSet}: a daily run asks for one date in the pipeline's zone, endAt inclusive, and gets exactly that day`, async () => {
      const files = await extractFiles(makeContext({ source: { base_url: gladly.url }, stream: report(metricSet), timezone: NY, logicalDate: "2026-01-15" }));

      const [request, ...more] = reportRequests();
      expect(more).toEqual([]);
      expect(request!.method).toBe("POST");
      expect(request!.headers["content-type"]).toBe("application/json");
      // startAt/endAt are dates (YYYY-mm-dd) in `timezone`; endAt is inclusive, so one day is startAt = endAt.
      expect(request!.body).toEqual({ metricSet, timezone: NY, startAt: "2026-01-15", endAt: "2026-01-15" });
      // Checked against the published request schema (as transcribed in gladly-api.ts), independently of the answer.
      expect(validateReportRequest(request!.body, { timezone: "UTC", inboxes: new Set(), teams: new Set() }).errors).toEqual([]);
      expect(request!.status).toBe(200);

      // The day's rows, all of them, none of the next day: 24 hours x 6 rows, New York wall clock.
      expect(files).toHaveLength(1);
      expect(files[0]!.rows).toBe(144);
      const stamps = timestamps(files[0]!.bytes);
      expect(stamps).toHaveLength(144);
      expect(stamps.every((t) => t.startsWith("2026-01-15T"))).toBe(true);
      expect([stamps[0], stamps.at(-1)]).toEqual(["2026-01-15T00:00:00", "2026-01-15T23:50:00"]);
    });
  }

  it("the plugin's old request shape (wall-clock datetimes, exclusive end) is what Gladly refuses", async () => {
    const old = { metricSet: "ContactTimestampsReport", timezone: NY, startAt: "2026-01-15T00:00:00", endAt: "2026-01-16T00:00:00" };
    const { errors } = validateReportRequest(old, { timezone: "UTC", inboxes: new Set(), teams: new Set() });
    expect(errors.map((e) => e.attr)).toEqual(["startAt", "endAt"]);
  });

  it("streams the CSV byte for byte with its data row count, named after its dates", async () => {
    const files = await extractFiles(makeContext({ source: { base_url: gladly.url }, stream: report() }));
    const expected = daysCsv("ContactTimestampsReport", "UTC", "2026-01-15");
    expect(expected.rows).toBe(144);
    const [file] = files;
    expect(file!.name).toBe("ContactTimestampsReport_20260115_20260115.csv");
    expect(file!.format).toBe("csv");
    expect(file!.rows).toBe(144);
    expect(file!.bytes.equals(Buffer.from(expected.csv))).toBe(true);
    expect(file!.metadata).toEqual({ metric_set: "ContactTimestampsReport", timezone: "UTC", start_at: "2026-01-15", end_at: "2026-01-15" });
  });

  it("covers 23 and 25 real hours on DST days", async () => {
    const spring = await extractFiles(makeContext({ source: { base_url: gladly.url }, stream: report(), timezone: NY, logicalDate: "2026-03-08" }));
    expect(reportRequests()[0]!.body).toMatchObject({ startAt: "2026-03-08", endAt: "2026-03-08" });
    expect(spring[0]!.rows).toBe(23 * 6);

    const fall = await extractFiles(makeContext({ source: { base_url: gladly.url }, stream: report(), timezone: NY, logicalDate: "2026-11-01" }));
    expect(fall[0]!.rows).toBe(25 * 6);
  });

  it("asks for a historical window's days in one request", async () => {
    const files = await extractFiles(makeContext({ source: { base_url: gladly.url }, stream: report(), timezone: NY, strategy: "historical", lookbackDays: 7 }));
    expect(reportRequests().map((r) => r.body)).toEqual([{ metricSet: "ContactTimestampsReport", timezone: NY, startAt: "2026-01-09", endAt: "2026-01-15" }]);
    expect(files.map((f) => [f.name, f.rows])).toEqual([["ContactTimestampsReport_20260109_20260115.csv", 7 * 144]]);
  });

  it("sends filters as written where the metric set takes them", async () => {
    const files = await extractFiles(
      makeContext({ source: { base_url: gladly.url }, stream: report("WorkSessionsReportV3", { filters: { channel: "voice", inboxes: [INBOXES[0]], teams: [TEAMS[1]] } }), timezone: NY }),
    );
    expect(reportRequests()[0]!.body).toEqual({
      metricSet: "WorkSessionsReportV3",
      timezone: NY,
      startAt: "2026-01-15",
      endAt: "2026-01-15",
      filters: { channel: "voice", inboxes: [INBOXES[0]], teams: [TEAMS[1]] },
    });
    expect(files[0]!.rows).toBe(144);
  });

  it("shows Gladly's attr and detail when it refuses a filter, and says which option to fix", async () => {
    const error = await extractError(makeContext({ source: { base_url: gladly.url }, stream: report("ContactTimestampsReport", { filters: { inboxes: [INBOXES[0]] } }), timezone: NY }));
    expect(error).toMatchObject({ code: "XO_GLADLY_REQUEST_REJECTED" });
    expect(error.message).toContain(
      "Gladly rejected report ContactTimestampsReport for 2026-01-15 (America/New_York) (POST /api/v1/reports, HTTP 400): filters.inboxes: the inboxes filter cannot be applied to the ContactTimestampsReport metricSet (invalid)",
    );
    expect(error.message).toContain("hint: fix the stream's `filters`");
    expect(reportRequests()).toHaveLength(1);
  });
});

describe("the row cap", () => {
  it("splits a capped multi-day historical window by day, without losing or repeating a row", async () => {
    gladly.rowCap = 500;
    const log = recordingLogger();
    const files = await extractFiles(makeContext({ source: { base_url: gladly.url, row_cap: 500 }, stream: report(), timezone: NY, strategy: "historical", lookbackDays: 7, log }));

    // 7 days (1008 rows, capped) -> 3 days (432) + 4 days (576, capped) -> 2 + 2 days (288 each).
    expect(reportRequests().map((r) => r.body as Record<string, string>).map((b) => `${b.startAt}..${b.endAt}`)).toEqual([
      "2026-01-09..2026-01-15",
      "2026-01-09..2026-01-11",
      "2026-01-12..2026-01-15",
      "2026-01-12..2026-01-13",
      "2026-01-14..2026-01-15",
    ]);
    expect(files.map((f) => [f.name, f.rows])).toEqual([
      ["ContactTimestampsReport_20260109_20260111.csv", 432],
      ["ContactTimestampsReport_20260112_20260113.csv", 288],
      ["ContactTimestampsReport_20260114_20260115.csv", 288],
    ]);
    const all = files.flatMap((f) => ids(f.bytes));
    expect(all).toEqual(daysCsv("ContactTimestampsReport", NY, "2026-01-09", "2026-01-15").ids);
    expect(new Set(all).size).toBe(1008);
    expect(log.warnings[0]).toContain("returned 500 rows, which reaches `row_cap` (500), so Gladly truncated it; splitting it into 2026-01-09 to 2026-01-11 (America/New_York) and 2026-01-12 to 2026-01-15");
  });

  it("fails a capped day of a report that cannot be split, naming the report, the day and what to do", async () => {
    gladly.rowCap = 100;
    const error = await extractError(makeContext({ source: { base_url: gladly.url, row_cap: 100 }, stream: report("ConversationTimestampsReport"), timezone: NY }));
    expect(error).toMatchObject({ name: "GladlySourceError", code: "XO_GLADLY_REPORT_CAPPED" });
    expect(error.message).toContain(
      "report ConversationTimestampsReport for 2026-01-15 (America/New_York) returned 100 rows, which reaches `row_cap` (100), so Gladly truncated it. " +
        "One day is the smallest window Gladly's Reports API returns for ConversationTimestampsReport (time ranges exist only for AgentSummaryReport and ContactExportReportV3), so day 2026-01-15 cannot be loaded complete",
    );
    expect(error.message).toContain("hint: split the stream into several with `filters`");
    expect(error.message).toContain("raise `row_cap` if Gladly confirms a higher limit");
    // No time range was tried: Gladly refuses them for this metric set.
    expect(reportRequests()).toHaveLength(1);
    expect(reportRequests().every((r) => r.status === 200)).toBe(true);
  });

  it("in a historical window, splits down to the capped day and fails there", async () => {
    gladly.rowCap = 140;
    const error = await extractError(makeContext({ source: { base_url: gladly.url, row_cap: 140 }, stream: report(), timezone: NY, strategy: "historical", lookbackDays: 2 }));
    expect(error.message).toContain("report ContactTimestampsReport for 2026-01-14 (America/New_York) returned 140 rows");
    expect(reportRequests().map((r) => (r.body as Record<string, string>).startAt)).toEqual(["2026-01-14", "2026-01-14"]);
  });

  it("splits a capped day into time ranges for a metric set that accepts them", async () => {
    gladly.rowCap = 50;
    const files = await extractFiles(makeContext({ source: { base_url: gladly.url, row_cap: 50 }, stream: report("ContactExportReportV3"), timezone: NY }));

    // 144 rows: the day (capped) -> 2 x 12 h (72, capped) -> 4 x 6 h (36 each).
    const bodies = reportRequests().map((r) => r.body);
    expect(bodies[0]).toEqual({ metricSet: "ContactExportReportV3", timezone: NY, startAt: "2026-01-15", endAt: "2026-01-15" });
    // Time ranges carry no dates and no timezone; endAtTime is the last minute included.
    expect(bodies.slice(1)).toEqual([
      { metricSet: "ContactExportReportV3", startAtTime: "2026-01-15T05:00Z", endAtTime: "2026-01-15T16:59Z" },
      { metricSet: "ContactExportReportV3", startAtTime: "2026-01-15T05:00Z", endAtTime: "2026-01-15T10:59Z" },
      { metricSet: "ContactExportReportV3", startAtTime: "2026-01-15T11:00Z", endAtTime: "2026-01-15T16:59Z" },
      { metricSet: "ContactExportReportV3", startAtTime: "2026-01-15T17:00Z", endAtTime: "2026-01-16T04:59Z" },
      { metricSet: "ContactExportReportV3", startAtTime: "2026-01-15T17:00Z", endAtTime: "2026-01-15T22:59Z" },
      { metricSet: "ContactExportReportV3", startAtTime: "2026-01-15T23:00Z", endAtTime: "2026-01-16T04:59Z" },
    ]);
    expect(reportRequests().every((r) => r.status === 200)).toBe(true);
    expect(files.map((f) => [f.name, f.rows])).toEqual([
      ["ContactExportReportV3_20260115T0500Z_20260115T1100Z.csv", 36],
      ["ContactExportReportV3_20260115T1100Z_20260115T1700Z.csv", 36],
      ["ContactExportReportV3_20260115T1700Z_20260115T2300Z.csv", 36],
      ["ContactExportReportV3_20260115T2300Z_20260116T0500Z.csv", 36],
    ]);
    expect(files[0]!.metadata).toEqual({ metric_set: "ContactExportReportV3", start_at_time: "2026-01-15T05:00Z", end_at_time: "2026-01-15T10:59Z" });
    const all = files.flatMap((f) => ids(f.bytes));
    expect(all).toEqual(daysCsv("ContactExportReportV3", NY, "2026-01-15").ids);
  });

  it("splits a DST day's time ranges without losing rows", async () => {
    gladly.rowCap = 50;
    const files = await extractFiles(makeContext({ source: { base_url: gladly.url, row_cap: 50 }, stream: report("ContactExportReportV3"), timezone: NY, logicalDate: "2026-03-08" }));
    const all = files.flatMap((f) => ids(f.bytes));
    expect(all).toEqual(daysCsv("ContactExportReportV3", NY, "2026-03-08").ids);
    expect(all).toHaveLength(23 * 6);
  });

  it("fails when even a one-hour time range reaches the cap", async () => {
    gladly.rowCap = 5;
    const error = await extractError(makeContext({ source: { base_url: gladly.url, row_cap: 5 }, stream: report("ContactExportReportV3") }));
    expect(error).toMatchObject({ code: "XO_GLADLY_REPORT_CAPPED" });
    expect(error.message).toMatch(/a time range this short cannot be split further \(the smallest is 1 hour\)/);
  });

  it("fails on any capped report when split_on_cap is off", async () => {
    gladly.rowCap = 500;
    const error = await extractError(
      makeContext({ source: { base_url: gladly.url, row_cap: 500, split_on_cap: false }, stream: report(), timezone: NY, strategy: "historical", lookbackDays: 7 }),
    );
    expect(error).toMatchObject({ code: "XO_GLADLY_REPORT_CAPPED" });
    expect(error.message).toMatch(/for 2026-01-09 to 2026-01-15 \(America\/New_York\) returned 500 rows, which reaches `row_cap` \(500\), so Gladly truncated it/);
    expect(error.message).toContain("split_on_cap: true");
    expect(reportRequests()).toHaveLength(1);
  });

  it("treats a report that reaches the configured row_cap as truncated", async () => {
    // The server would return all 288 rows; the user says their cap is 288.
    const files = await extractFiles(makeContext({ source: { base_url: gladly.url, row_cap: 288 }, stream: report(), strategy: "historical", lookbackDays: 2 }));
    expect(files.map((f) => f.rows)).toEqual([144, 144]);
  });
});

describe("late-arriving rows", () => {
  // Emulated: Gladly's data latency (reports are about an hour behind), as `now` and `dataLatencyMs`.
  it("a daily run misses rows Gladly has not processed yet; the historical strategy's lookback loads them the next day", async () => {
    gladly.dataLatencyMs = 3_600_000;
    gladly.now = Date.parse("2026-01-16T00:30:00-05:00");
    const daily = await extractFiles(makeContext({ source: { base_url: gladly.url }, stream: report(), timezone: NY, logicalDate: "2026-01-15" }));
    const complete = daysCsv("ContactTimestampsReport", NY, "2026-01-15").ids;
    const missed = complete.filter((id) => !ids(daily[0]!.bytes).includes(id));
    // 23:30, 23:40 and 23:50 New York time were still on their way.
    expect(missed).toEqual(["ContactTimestampsReport-2026-01-16T04:30:00.000Z", "ContactTimestampsReport-2026-01-16T04:40:00.000Z", "ContactTimestampsReport-2026-01-16T04:50:00.000Z"]);

    // The next run (load_strategy: historical, lookback_days: 2) asks for both days again.
    gladly.now = Date.parse("2026-01-17T00:30:00-05:00");
    const next = await extractFiles(makeContext({ source: { base_url: gladly.url }, stream: report(), timezone: NY, logicalDate: "2026-01-16", strategy: "historical", lookbackDays: 2 }));
    expect(reportRequests().at(-1)!.body).toMatchObject({ startAt: "2026-01-15", endAt: "2026-01-16" });
    const reloaded = ids(next[0]!.bytes);
    expect(missed.every((id) => reloaded.includes(id))).toBe(true);
    expect(reloaded.filter((id) => complete.includes(id))).toEqual(complete);
  });
});

describe("concurrency", () => {
  it("runs reports of one organization one at a time", async () => {
    gladly.reportDelayMs = 150;
    const ctx = (metric: string) => makeContext({ source: { base_url: gladly.url }, stream: report(metric) });
    const [a, b] = await Promise.all([extractFiles(ctx("ContactTimestampsReport")), extractFiles(ctx("AgentTimestampsReport"))]);
    expect(a[0]!.rows).toBe(144);
    expect(b[0]!.rows).toBe(144);
    expect(gladly.maxConcurrentReports).toBe(1);
    const [first, second] = [...reportRequests()].sort((x, y) => x.startedAt - y.startedAt);
    expect(second!.startedAt).toBeGreaterThanOrEqual(first!.endedAt!);
  });
});
