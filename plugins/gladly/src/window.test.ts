// Unit tests: no network, nothing emulated; time zone rules come from core (Temporal) and Node's Intl (ICU).
import { dataWindow } from "@xo-foundry/core";
import { describe, expect, it } from "vitest";
import { compact, dayCount, dayRange, gladlyTime, reportDays, splitDays, splitRange, timeRangeFields } from "./window.js";

describe("reportDays", () => {
  it("turns a daily run into one date, inclusive at both ends, in the pipeline's zone", () => {
    expect(reportDays(dataWindow("2026-01-15", "incremental", "America/New_York"))).toEqual({ startAt: "2026-01-15", endAt: "2026-01-15" });
    expect(reportDays(dataWindow("2026-01-15", "full_refresh", "Asia/Tokyo"))).toEqual({ startAt: "2026-01-15", endAt: "2026-01-15" });
  });

  it("turns a historical run into its first and last day", () => {
    const days = reportDays(dataWindow("2026-01-15", "historical", "America/New_York", 7));
    expect(days).toEqual({ startAt: "2026-01-09", endAt: "2026-01-15" });
    expect(dayCount(days)).toBe(7);
  });

  it("keeps DST days and days whose midnight does not exist whole", () => {
    expect(reportDays(dataWindow("2026-03-08", "incremental", "America/New_York"))).toEqual({ startAt: "2026-03-08", endAt: "2026-03-08" });
    expect(reportDays(dataWindow("2026-11-01", "incremental", "America/New_York"))).toEqual({ startAt: "2026-11-01", endAt: "2026-11-01" });
    // Chile moves its clocks at midnight: 2026-09-06 starts at 01:00.
    expect(reportDays(dataWindow("2026-09-06", "incremental", "America/Santiago"))).toEqual({ startAt: "2026-09-06", endAt: "2026-09-06" });
  });

  it("refuses a window that does not run from midnight to midnight", () => {
    const w = dataWindow("2026-01-15", "incremental", "America/New_York");
    expect(() => reportDays({ ...w, start: "2026-01-15T06:00:00-05:00" })).toThrow(/whole days in America\/New_York/);
    expect(() => reportDays({ ...w, timezone: "UTC" })).toThrow(/does not start and end at a midnight/);
  });
});

describe("splitDays", () => {
  it("splits on whole days, the shorter half first, and stops at one day", () => {
    expect(splitDays({ startAt: "2026-01-09", endAt: "2026-01-15" })).toEqual([
      { startAt: "2026-01-09", endAt: "2026-01-11" },
      { startAt: "2026-01-12", endAt: "2026-01-15" },
    ]);
    expect(splitDays({ startAt: "2026-02-28", endAt: "2026-03-01" })).toEqual([
      { startAt: "2026-02-28", endAt: "2026-02-28" },
      { startAt: "2026-03-01", endAt: "2026-03-01" },
    ]);
    expect(splitDays({ startAt: "2026-01-15", endAt: "2026-01-15" })).toBeUndefined();
  });
});

describe("time ranges", () => {
  it("covers a local day's instants: 24, 23 or 25 hours", () => {
    const hours = (day: string) => {
      const r = dayRange(day, "America/New_York");
      return (r.endMs - r.startMs) / 3_600_000;
    };
    expect(hours("2026-01-15")).toBe(24);
    expect(hours("2026-03-08")).toBe(23);
    expect(hours("2026-11-01")).toBe(25);
    expect(gladlyTime(dayRange("2026-01-15", "America/New_York").startMs)).toBe("2026-01-15T05:00Z");
  });

  it("sends the last included minute as endAtTime", () => {
    expect(timeRangeFields(dayRange("2026-01-15", "America/New_York"))).toEqual({ startAtTime: "2026-01-15T05:00Z", endAtTime: "2026-01-16T04:59Z" });
  });

  it("splits on whole minutes and stops at one hour", () => {
    const day = dayRange("2026-03-08", "America/New_York");
    const [a, b] = splitRange(day)!;
    expect([gladlyTime(a.startMs), gladlyTime(a.endMs), gladlyTime(b.endMs)]).toEqual(["2026-03-08T05:00Z", "2026-03-08T16:30Z", "2026-03-09T04:00Z"]);
    expect(splitRange({ startMs: 0, endMs: 2 * 3_600_000 })).toHaveLength(2);
    expect(splitRange({ startMs: 0, endMs: 2 * 3_600_000 - 60_000 })).toBeUndefined();
  });

  it("compacts dates and times for file names", () => {
    expect(compact("2026-01-15")).toBe("20260115");
    expect(compact("2026-01-15T05:00Z")).toBe("20260115T0500Z");
  });
});
