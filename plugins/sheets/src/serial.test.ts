import { describe, expect, it } from "vitest";
import { dateTimeZone, serialToDate, serialToInstant, serialToLocalDateTime, serialToTime } from "./serial.js";

describe("serial numbers", () => {
  it("counts days from 1899-12-30, as the discovery document's examples do (1900-01-01 noon is 2.5, 1900-02-01 3pm is 33.625)", () => {
    expect(serialToLocalDateTime(2.5)).toBe("1900-01-01T12:00:00.000");
    expect(serialToLocalDateTime(33.625)).toBe("1900-02-01T15:00:00.000");
    expect(serialToDate(0)).toBe("1899-12-30");
    expect(serialToDate(42430)).toBe("2016-03-01");
  });

  it("gives a date's day, dropping any time, and rounds times to the millisecond", () => {
    expect(serialToDate(46037.999)).toBe("2026-01-15");
    // 10:00:01 is not exact in binary.
    expect(serialToLocalDateTime(46037 + (10 * 3600 + 1) / 86400)).toBe("2026-01-15T10:00:01.000");
    expect(serialToDate(-1)).toBe("1899-12-29");
  });

  it("refuses serials outside the years ISO dates spell with four digits", () => {
    expect(serialToDate(3e6)).toBeUndefined();
    expect(serialToDate(-700_000)).toBeUndefined();
  });

  it("writes times of day and durations", () => {
    expect(serialToTime(0.5)).toBe("12:00:00");
    expect(serialToTime(1 / 86400)).toBe("00:00:01");
    expect(serialToTime(0.5 + 0.25 / 86400)).toBe("12:00:00.250");
    expect(serialToTime(1.5)).toBe("36:00:00");
    expect(serialToTime(-0.1)).toBeUndefined();
  });

  it("reads a date-time's wall clock in a zone and gives the UTC instant", () => {
    const noon = 46037.5; // 2026-01-15 12:00
    expect(serialToInstant(noon, dateTimeZone("UTC"))).toBe("2026-01-15T12:00:00.000Z");
    expect(serialToInstant(noon, dateTimeZone("America/New_York"))).toBe("2026-01-15T17:00:00.000Z");
    expect(serialToInstant(noon, dateTimeZone("Asia/Kolkata"))).toBe("2026-01-15T06:30:00.000Z");
    // Sheets' custom zones are written as offsets from GMT.
    expect(serialToInstant(noon, dateTimeZone("GMT-07:00"))).toBe("2026-01-15T19:00:00.000Z");
    expect(serialToInstant(noon, dateTimeZone("GMT+5:30"))).toBe("2026-01-15T06:30:00.000Z");
  });

  it("reads a wall clock repeated when clocks go back as its first occurrence", () => {
    // 2026-11-01 01:30 happens twice in New York; the first is EDT (UTC-4).
    const serial = 46327 + 1.5 / 24;
    expect(serialToLocalDateTime(serial)).toBe("2026-11-01T01:30:00.000");
    expect(serialToInstant(serial, dateTimeZone("America/New_York"))).toBe("2026-11-01T05:30:00.000Z");
  });

  it("refuses zones it does not know", () => {
    expect(() => dateTimeZone("Mars/Olympus_Mons")).toThrow(RangeError);
    expect(() => dateTimeZone("GMT+19:00")).toThrow(/more than 18 hours/);
  });
});
