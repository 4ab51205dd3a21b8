// Unit tests: no network, nothing emulated; time zone rules come from Node's Intl (ICU).
import { dataWindow } from "@xo-foundry/core";
import { describe, expect, it } from "vitest";
import { compactTime, localWindow, splitWindow, toLocalTime } from "./window.js";

describe("window conversion", () => {
  it("turns the run's window into wall-clock times of its zone", () => {
    expect(localWindow(dataWindow("2026-01-15", "incremental", "America/New_York"))).toEqual({
      startAt: "2026-01-15T00:00:00",
      endAt: "2026-01-16T00:00:00",
    });
    expect(toLocalTime("2026-01-15T05:00:00Z", "America/New_York")).toBe("2026-01-15T00:00:00");
    expect(toLocalTime("2026-07-15T04:00:00+00:00", "America/New_York")).toBe("2026-07-15T00:00:00");
  });

  it("keeps a DST day's window on local midnights", () => {
    const w = dataWindow("2026-03-08", "incremental", "America/New_York");
    expect(w.start).toBe("2026-03-08T00:00:00-05:00");
    expect(w.end).toBe("2026-03-09T00:00:00-04:00");
    expect(localWindow(w)).toEqual({ startAt: "2026-03-08T00:00:00", endAt: "2026-03-09T00:00:00" });
  });

  it("rejects a boundary that is not ISO 8601", () => {
    expect(() => toLocalTime("yesterday", "UTC")).toThrow(/invalid window boundary/);
  });
});

describe("splitWindow", () => {
  it("splits in wall-clock halves that share their boundary", () => {
    expect(splitWindow({ startAt: "2026-01-15T00:00:00", endAt: "2026-01-16T00:00:00" })).toEqual([
      { startAt: "2026-01-15T00:00:00", endAt: "2026-01-15T12:00:00" },
      { startAt: "2026-01-15T12:00:00", endAt: "2026-01-16T00:00:00" },
    ]);
    expect(splitWindow({ startAt: "2026-01-15T00:00:00", endAt: "2026-01-15T03:00:00" })?.[0].endAt).toBe("2026-01-15T01:30:00");
  });

  it("stops at one hour", () => {
    expect(splitWindow({ startAt: "2026-01-15T00:00:00", endAt: "2026-01-15T02:00:00" })).toHaveLength(2);
    expect(splitWindow({ startAt: "2026-01-15T00:00:00", endAt: "2026-01-15T01:59:59" })).toBeUndefined();
  });

  it("compacts times for file names", () => {
    expect(compactTime("2026-01-15T12:30:00")).toBe("20260115T123000");
  });
});
