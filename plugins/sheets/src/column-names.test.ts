import { describe, expect, it } from "vitest";
import { baseName, columnNames } from "./column-names.js";

describe("baseName: one header", () => {
  const cases: [string, string][] = [
    ["Amount", "amount"],
    ["Amount (USD)", "amount_usd"],
    ["  Booked on  ", "booked_on"],
    ["Booked\non", "booked_on"],
    ["% of total", "of_total"],
    ["Größe", "größe"],
    ["金額 (円)", "金額_円"],
    ["Ｆｕｌｌ　ｗｉｄｔｈ", "full_width"],
    ["Ελληνικά", "ελληνικά"],
    ["e\u0301t\u00e9", "\u00e9t\u00e9"],
    ["2026", "_2026"],
    ["1st quarter", "_1st_quarter"],
    ["__private__", "private"],
    ["#", ""],
    ["😀", ""],
    ["", ""],
  ];
  for (const [header, name] of cases) it(JSON.stringify(header), () => expect(baseName(header)).toBe(name));

  it("cuts names at 128 characters", () => {
    expect([...baseName("x".repeat(300))]).toHaveLength(128);
  });
});

describe("columnNames: a header row", () => {
  it("names blank headers after their sheet column, and numbers duplicates from _2", () => {
    expect(columnNames(["Item", "", "Amount", "amount", "AMOUNT", ""], 0)).toEqual(["item", "column_2", "amount", "amount_2", "amount_3", "column_6"]);
  });

  it("counts columns from where the range starts", () => {
    expect(columnNames(["", "x"], 2)).toEqual(["column_3", "x"]);
  });

  it("lets a name that is in the header keep it: a duplicate skips suffixes other columns hold", () => {
    expect(columnNames(["amount", "amount", "amount_2"], 0)).toEqual(["amount", "amount_3", "amount_2"]);
    expect(columnNames(["column_2", ""], 0)).toEqual(["column_2", "column_2_2"]);
  });

  it("is the same for the same header, whatever else ran before", () => {
    const header = ["A", "a", "", "A (1)", "a_1"];
    expect(columnNames(header, 0)).toEqual(columnNames(header, 0));
    expect(columnNames(header, 0)).toEqual(["a", "a_2", "column_3", "a_1", "a_1_2"]);
  });
});
