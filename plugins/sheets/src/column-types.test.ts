import { describe, expect, it } from "vitest";
import { ColumnProfile, convertCell, detectType, displayKind, formatKind, type FormatKind } from "./column-types.js";
import { dateTimeZone } from "./serial.js";

const UTC = dateTimeZone("UTC");

function profile(values: readonly unknown[], formats: readonly (FormatKind | undefined)[] = []): ColumnProfile {
  const p = new ColumnProfile();
  values.forEach((v, i) => p.add(v, i + 2));
  formats.forEach((f) => p.addFormat(f));
  return p;
}

describe("formatKind: what a NumberFormat says", () => {
  it("reads the format's type, and custom patterns where the type alone misleads", () => {
    expect(formatKind({ type: "DATE", pattern: "yyyy-mm-dd" })).toBe("date");
    expect(formatKind({ type: "DATE", pattern: "yyyy-mm-dd hh:mm" })).toBe("datetime");
    expect(formatKind({ type: "DATE", pattern: '"Shipped" d mmm' })).toBe("date");
    expect(formatKind({ type: "DATE_TIME" })).toBe("datetime");
    expect(formatKind({ type: "TIME", pattern: "[h]:mm:ss" })).toBe("time");
    expect(formatKind({ type: "PERCENT", pattern: "0.0%" })).toBe("percent");
    expect(formatKind({ type: "CURRENCY" })).toBe("currency");
    expect(formatKind({ type: "NUMBER", pattern: '"$"#,##0.00' })).toBe("currency");
    expect(formatKind({ type: "NUMBER", pattern: "[$€-407] #,##0" })).toBe("currency");
    expect(formatKind({ type: "NUMBER", pattern: "#,##0.00" })).toBe("number");
    expect(formatKind({ type: "SCIENTIFIC" })).toBe("number");
    expect(formatKind({ type: "TEXT" })).toBeUndefined();
    expect(formatKind(undefined)).toBeUndefined();
  });
});

describe("detectType", () => {
  const cases: [string, ColumnProfile, ReturnType<typeof detectType>["type"]][] = [
    ["whole numbers", profile([1, 2, 3]), "integer"],
    ["numbers with fractions", profile([1, 2.5]), "number"],
    ["whole numbers formatted with decimals", profile([1, 2], ["number", "number"]), "integer"],
    ["money", profile([1.5, 2], ["currency", "currency"]), "currency"],
    ["percentages", profile([0.25, 1], ["percent", undefined]), "percent"],
    ["money and plain numbers", profile([1, 2], ["currency", "number"]), "integer"],
    ["percentages and plain numbers", profile([0.5, 2], ["percent", "number"]), "number"],
    ["dates", profile([46037, 46038], ["date", "date"]), "date"],
    ["dates and date-times", profile([46037, 46038.5], ["date", "datetime"]), "datetime"],
    ["times of day", profile([0.5, 0.25], ["time"]), "time"],
    ["durations of a day or more", profile([0.5, 1.5], ["time"]), "string"],
    ["booleans", profile([true, false]), "boolean"],
    ["text", profile(["a", "b"]), "string"],
    ["nothing at all", profile(["", null, undefined]), "string"],
    ["numbers and formula errors", profile([1, "#N/A", 2]), "integer"],
  ];
  for (const [what, p, type] of cases) it(what, () => expect(detectType(p).type).toBe(type));

  it("falls back to string, and says why, for a mixed column", () => {
    expect(detectType(profile([1, "n/a", 2]))).toEqual({ type: "string", mixed: 'it holds numbers and text (text such as "n/a" in row 3)' });
    expect(detectType(profile([1, true]))).toEqual({ type: "string", mixed: "it holds numbers and booleans" });
    expect(detectType(profile([46037, 5], ["date", "number"]))).toEqual({ type: "string", mixed: "its numbers are formatted as date and number" });
  });

  it("shows the numbers of a string column the way its sample's single temporal format does", () => {
    expect(displayKind(profile([46037, "n/a"], ["date", "date"]))).toBe("date");
    expect(displayKind(profile([46037, "n/a"], ["date", "number"]))).toBeUndefined();
  });
});

describe("convertCell", () => {
  const ok = (value: unknown) => ({ value });
  it("makes clean JSON values for the warehouse to infer types from", () => {
    expect(convertCell(46037, "date", UTC)).toEqual(ok("2026-01-15"));
    expect(convertCell(46037.75, "datetime", UTC)).toEqual(ok("2026-01-15T18:00:00.000Z"));
    expect(convertCell(0.75, "time", UTC)).toEqual(ok("18:00:00"));
    expect(convertCell(0.25, "percent", UTC)).toEqual(ok(0.25));
    expect(convertCell(12.5, "currency", UTC)).toEqual(ok(12.5));
    expect(convertCell(true, "boolean", UTC)).toEqual(ok(true));
    expect(convertCell("", "integer", UTC)).toEqual(ok(null));
    expect(convertCell(undefined, "date", UTC)).toEqual(ok(null));
  });

  it("turns formula errors into null in every type", () => {
    for (const type of ["integer", "string", "date"] as const) expect(convertCell("#DIV/0!", type, UTC)).toEqual({ problem: "formula-error" });
  });

  it("coerces text for overridden types, and refuses what does not fit", () => {
    expect(convertCell(" 42 ", "integer", UTC)).toEqual(ok(42));
    expect(convertCell("4.5", "integer", UTC)).toEqual({ problem: "unfit" });
    expect(convertCell("1e3", "number", UTC)).toEqual(ok(1000));
    expect(convertCell("1,000", "number", UTC)).toEqual({ problem: "unfit" });
    expect(convertCell("25%", "percent", UTC)).toEqual(ok(0.25));
    expect(convertCell("TRUE", "boolean", UTC)).toEqual(ok(true));
    expect(convertCell(0, "boolean", UTC)).toEqual(ok(false));
    expect(convertCell("yes", "boolean", UTC)).toEqual({ problem: "unfit" });
    expect(convertCell("2026-02-28", "date", UTC)).toEqual(ok("2026-02-28"));
    expect(convertCell("2026-02-30", "date", UTC)).toEqual({ problem: "unfit" });
    expect(convertCell("2026-01-15 09:30", "datetime", dateTimeZone("Europe/Berlin"))).toEqual(ok("2026-01-15T08:30:00.000Z"));
    expect(convertCell("2026-01-15T09:30:00+02:00", "datetime", UTC)).toEqual(ok("2026-01-15T07:30:00.000Z"));
    expect(convertCell("9:05", "time", UTC)).toEqual(ok("09:05:00"));
    expect(convertCell(1.5, "time", UTC)).toEqual({ problem: "unfit" });
    expect(convertCell(true, "number", UTC)).toEqual({ problem: "unfit" });
  });

  it("writes numbers and booleans of string columns as Sheets shows them", () => {
    expect(convertCell(2.5, "string", UTC)).toEqual(ok("2.5"));
    expect(convertCell(false, "string", UTC)).toEqual(ok("FALSE"));
    expect(convertCell(46037, "string", UTC, "date")).toEqual(ok("2026-01-15"));
    expect(convertCell(1.5, "string", UTC, "time")).toEqual(ok("36:00:00"));
  });
});
