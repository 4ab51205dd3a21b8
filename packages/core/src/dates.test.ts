// Unit tests: nothing emulated; zone rules come from the Temporal polyfill over Node's ICU data.
import { describe, expect, it } from "vitest";
import { addDays, dataWindow, parseDate, wallClock, zonedMidnight, zonedToUtc } from "./dates.js";

const HOUR_MS = 3_600_000;
const hours = (w: { start: string; end: string }) => (Date.parse(w.end) - Date.parse(w.start)) / HOUR_MS;

describe("dataWindow on days when the clocks change", () => {
  it("has 23 hours when New York springs forward at 02:00", () => {
    const w = dataWindow("2026-03-08", "incremental", "America/New_York");
    expect(w).toEqual({
      logicalDate: "2026-03-08",
      start: "2026-03-08T00:00:00-05:00",
      end: "2026-03-09T00:00:00-04:00",
      timezone: "America/New_York",
    });
    expect(hours(w)).toBe(23);
  });

  it("has 25 hours when New York falls back at 02:00", () => {
    const w = dataWindow("2026-11-01", "incremental", "America/New_York");
    expect(w.start).toBe("2026-11-01T00:00:00-04:00");
    expect(w.end).toBe("2026-11-02T00:00:00-05:00");
    expect(hours(w)).toBe(25);
  });

  it("starts at 01:00 when midnight does not exist (Santiago jumps 00:00 -> 01:00)", () => {
    const w = dataWindow("2024-09-08", "incremental", "America/Santiago");
    expect(w.start).toBe("2024-09-08T01:00:00-03:00");
    expect(new Date(w.start).toISOString()).toBe("2024-09-08T04:00:00.000Z");
    expect(w.end).toBe("2024-09-09T00:00:00-03:00");
    expect(hours(w)).toBe(23);
    // The day before ends where this one starts: no gap, no overlap.
    expect(dataWindow("2024-09-07", "incremental", "America/Santiago").end).toBe(w.start);
  });

  it("ends at the next day that exists when a whole day is skipped (Apia, 2011-12-30)", () => {
    const w = dataWindow("2011-12-29", "incremental", "Pacific/Apia");
    expect(w.start).toBe("2011-12-29T00:00:00-10:00");
    expect(w.end).toBe("2011-12-31T00:00:00+14:00");
    expect(hours(w)).toBe(24);
    // The missing day's own window is empty rather than reaching back or forward.
    const missing = dataWindow("2011-12-30", "incremental", "Pacific/Apia");
    expect(missing.start).toBe(missing.end);
    expect(dataWindow("2011-12-31", "incremental", "Pacific/Apia").start).toBe(w.end);
  });

  it("widens a historical window across a change", () => {
    const w = dataWindow("2024-09-09", "historical", "America/Santiago", 3);
    expect(w.start).toBe("2024-09-07T00:00:00-04:00");
    expect(w.end).toBe("2024-09-10T00:00:00-03:00");
    expect(hours(w)).toBe(71);
  });
});

describe("zonedMidnight", () => {
  it("writes UTC with a numeric offset and half-hour zones with minutes", () => {
    expect(zonedMidnight("2026-01-15", "UTC")).toBe("2026-01-15T00:00:00+00:00");
    expect(zonedMidnight("2026-01-15", "Asia/Kolkata")).toBe("2026-01-15T00:00:00+05:30");
  });

  it("rejects impossible dates and unknown zones", () => {
    expect(() => zonedMidnight("2026-02-30", "UTC")).toThrow(/invalid date/);
    expect(() => zonedMidnight("2026-01-15", "Mars/Olympus_Mons")).toThrow(RangeError);
  });
});

describe("wall clock conversions", () => {
  it("reads the wall clock of an instant", () => {
    expect(wallClock(Date.parse("2026-01-15T05:00:00Z"), "America/New_York")).toBe("2026-01-15T00:00:00");
    expect(wallClock(Date.parse("2024-09-08T04:00:00Z"), "America/Santiago")).toBe("2024-09-08T01:00:00");
    expect(wallClock(Date.parse("2026-01-15T05:00:00.999Z"), "UTC")).toBe("2026-01-15T05:00:00");
  });

  it("turns a wall clock back into the instant", () => {
    expect(zonedToUtc("2026-01-15T00:00:00", "America/New_York")).toBe(Date.parse("2026-01-15T05:00:00Z"));
    expect(zonedToUtc("2011-12-29T00:00:00", "Pacific/Apia")).toBe(Date.parse("2011-12-29T10:00:00Z"));
  });

  it("takes the first of a repeated time and moves a skipped time forward by the gap", () => {
    expect(zonedToUtc("2026-11-01T01:30:00", "America/New_York")).toBe(Date.parse("2026-11-01T05:30:00Z"));
    expect(zonedToUtc("2026-03-08T02:30:00", "America/New_York")).toBe(Date.parse("2026-03-08T07:30:00Z"));
    expect(zonedToUtc("2024-09-08T00:00:00", "America/Santiago")).toBe(Date.parse("2024-09-08T04:00:00Z"));
  });

  it("rejects a time that carries an offset", () => {
    expect(() => zonedToUtc("2026-01-15T00:00:00Z", "UTC")).toThrow(/without offset/);
    expect(() => zonedToUtc("2026-01-15T00:00:00+02:00", "UTC")).toThrow(/without offset/);
  });
});

describe("calendar dates", () => {
  it("adds days across month, year and leap-day boundaries", () => {
    expect(addDays("2024-02-28", 1)).toBe("2024-02-29");
    expect(addDays("2026-12-31", 1)).toBe("2027-01-01");
    expect(addDays("2026-03-01", -1)).toBe("2026-02-28");
  });

  it("parses only real YYYY-MM-DD dates", () => {
    expect(parseDate("2024-02-29")).toEqual({ y: 2024, m: 2, d: 29 });
    expect(() => parseDate("2026-02-29")).toThrow(/invalid date/);
    expect(() => parseDate("2026-1-5")).toThrow(/invalid date/);
  });
});
