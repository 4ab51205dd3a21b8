/**
 * Reports API end to end. Emulated: Gladly's API (src/__fixtures__/gladly-server.ts,
 * a loopback node:http server following developer.gladly.com, including its row cap).
 * Real: axios, the Node HTTP stack and sockets, temp files, Intl time zone rules.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { reportCsv, startGladlyEmulator, type GladlyEmulator } from "./__fixtures__/gladly-server.js";
import { extractError, extractFiles, makeContext, recordingLogger } from "./__fixtures__/harness.js";

let gladly: GladlyEmulator;
beforeAll(async () => {
  gladly = await startGladlyEmulator();
});
afterAll(() => gladly.close());
beforeEach(() => gladly.reset());

const report = (metric_set = "ContactTimestampsReport", extra: Record<string, unknown> = {}) => ({ kind: "report", metric_set, ...extra });
const reportRequests = () => gladly.requests.filter((r) => r.path === "/api/v1/reports");

/** Data rows of a CSV body, by id (first field). */
function ids(csv: Buffer): string[] {
  return [...csv.toString("utf8").matchAll(/^([A-Za-z]+-\d{4}-[^,]+Z),/gm)].map((m) => m[1]!);
}

describe("report streams", () => {
  it("streams the CSV byte for byte with its data row count", async () => {
    const files = await extractFiles(makeContext({ source: { base_url: gladly.url }, stream: report("ContactTimestampsReport", { filters: { inboxes: ["abc"] } }) }));

    const expected = reportCsv({ metricSet: "ContactTimestampsReport", timezone: "UTC", startAt: "2026-01-15T00:00:00", endAt: "2026-01-16T00:00:00" });
    expect(expected.rows).toBe(144);
    expect(files).toHaveLength(1);
    const [file] = files;
    expect(file!.name).toBe("ContactTimestampsReport_20260115T000000_20260116T000000.csv");
    expect(file!.format).toBe("csv");
    expect(file!.rows).toBe(144);
    expect(file!.bytes.equals(Buffer.from(expected.csv))).toBe(true);
    expect(file!.metadata).toMatchObject({ metric_set: "ContactTimestampsReport", timezone: "UTC", start_at: "2026-01-15T00:00:00", end_at: "2026-01-16T00:00:00" });

    const [request] = reportRequests();
    expect(request!.method).toBe("POST");
    expect(request!.headers["content-type"]).toBe("application/json");
    expect(request!.body).toEqual({
      metricSet: "ContactTimestampsReport",
      timezone: "UTC",
      startAt: "2026-01-15T00:00:00",
      endAt: "2026-01-16T00:00:00",
      filters: { inboxes: ["abc"] },
    });
  });

  it("sends the window as wall-clock times of the pipeline time zone", async () => {
    const files = await extractFiles(makeContext({ source: { base_url: gladly.url }, stream: report(), timezone: "America/New_York" }));
    expect(reportRequests()[0]!.body).toMatchObject({ timezone: "America/New_York", startAt: "2026-01-15T00:00:00", endAt: "2026-01-16T00:00:00" });
    expect(files[0]!.rows).toBe(144);
  });

  it("covers 23 and 25 real hours on DST days", async () => {
    const spring = await extractFiles(makeContext({ source: { base_url: gladly.url }, stream: report(), timezone: "America/New_York", logicalDate: "2026-03-08" }));
    expect(reportRequests()[0]!.body).toMatchObject({ startAt: "2026-03-08T00:00:00", endAt: "2026-03-09T00:00:00" });
    expect(spring[0]!.rows).toBe(23 * 6);

    const fall = await extractFiles(makeContext({ source: { base_url: gladly.url }, stream: report(), timezone: "America/New_York", logicalDate: "2026-11-01" }));
    expect(fall[0]!.rows).toBe(25 * 6);
  });

  it("splits a capped report into halves whose rows add up to the whole window, without duplicates", async () => {
    gladly.rowCap = 50;
    const log = recordingLogger();
    const files = await extractFiles(makeContext({ source: { base_url: gladly.url, row_cap: 50 }, stream: report(), log }));

    // 144 rows: 24 h (capped) -> 2 x 12 h (72, capped) -> 4 x 6 h (36 each).
    expect(files.map((f) => f.name)).toEqual([
      "ContactTimestampsReport_20260115T000000_20260115T060000.csv",
      "ContactTimestampsReport_20260115T060000_20260115T120000.csv",
      "ContactTimestampsReport_20260115T120000_20260115T180000.csv",
      "ContactTimestampsReport_20260115T180000_20260116T000000.csv",
    ]);
    expect(files.map((f) => f.rows)).toEqual([36, 36, 36, 36]);
    const all = files.flatMap((f) => ids(f.bytes));
    expect(all).toHaveLength(144);
    expect(new Set(all).size).toBe(144);
    expect(all).toEqual(reportCsv({ metricSet: "ContactTimestampsReport", timezone: "UTC", startAt: "2026-01-15T00:00:00", endAt: "2026-01-16T00:00:00" }).ids);
    expect(reportRequests()).toHaveLength(7);
    expect(log.warnings.some((w) => w.includes("row_cap") && w.includes("splitting"))).toBe(true);
  });

  it("splits on wall-clock time across a DST change without losing rows", async () => {
    gladly.rowCap = 50;
    const files = await extractFiles(makeContext({ source: { base_url: gladly.url, row_cap: 50 }, stream: report(), timezone: "America/New_York", logicalDate: "2026-03-08" }));
    expect(files.map((f) => f.rows)).toEqual([30, 36, 36, 36]);
    const all = files.flatMap((f) => ids(f.bytes));
    expect(new Set(all).size).toBe(138);
  });

  it("fails loudly on a capped report when split_on_cap is off", async () => {
    gladly.rowCap = 50;
    const error = await extractError(makeContext({ source: { base_url: gladly.url, row_cap: 50, split_on_cap: false }, stream: report() }));
    expect(error.message).toMatch(/returned 50 rows, which reaches `row_cap` \(50\), so Gladly truncated it/);
    expect(error.message).toContain("split_on_cap: true");
    expect(reportRequests()).toHaveLength(1);
  });

  it("treats a report that reaches the configured row_cap as truncated", async () => {
    // The server would return all 144 rows; the user says their cap is 144.
    const files = await extractFiles(makeContext({ source: { base_url: gladly.url, row_cap: 144 }, stream: report() }));
    expect(files.map((f) => f.rows)).toEqual([72, 72]);
  });

  it("fails loudly when even a one-hour window reaches the cap", async () => {
    gladly.rowCap = 5;
    const error = await extractError(makeContext({ source: { base_url: gladly.url, row_cap: 5 }, stream: report() }));
    expect(error.message).toMatch(/cannot be split further \(the smallest is 1 hour\)/);
  });

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
