import { describe, expect, it } from "vitest";
import { columnIndex, columnLetters, formatRange, parseA1, quoteSheetTitle } from "./a1.js";

describe("column letters", () => {
  it("counts A..Z, AA.., ZZ, AAA both ways", () => {
    const pairs: [number, string][] = [
      [0, "A"],
      [25, "Z"],
      [26, "AA"],
      [51, "AZ"],
      [52, "BA"],
      [701, "ZZ"],
      [702, "AAA"],
      [18_277, "ZZZ"],
    ];
    for (const [index, letters] of pairs) {
      expect(columnLetters(index)).toBe(letters);
      expect(columnIndex(letters)).toBe(index);
    }
    expect(columnIndex("ab")).toBe(27);
  });
});

describe("parseA1: the forms of the guide's A1 notation", () => {
  const cases: [string, ReturnType<typeof parseA1>][] = [
    ["Sheet1!A1:B2", { sheet: "Sheet1", bounds: { startRow: 0, endRow: 2, startColumn: 0, endColumn: 2 } }],
    ["Sheet1!A:A", { sheet: "Sheet1", bounds: { startRow: 0, endRow: undefined, startColumn: 0, endColumn: 1 } }],
    ["Sheet1!1:2", { sheet: "Sheet1", bounds: { startRow: 0, endRow: 2, startColumn: 0, endColumn: undefined } }],
    ["Sheet1!A5:A", { sheet: "Sheet1", bounds: { startRow: 4, endRow: undefined, startColumn: 0, endColumn: 1 } }],
    ["A1:B2", { sheet: undefined, bounds: { startRow: 0, endRow: 2, startColumn: 0, endColumn: 2 } }],
    ["Sheet1!C7", { sheet: "Sheet1", bounds: { startRow: 6, endRow: 7, startColumn: 2, endColumn: 3 } }],
    ["'My Custom Sheet'!A:F", { sheet: "My Custom Sheet", bounds: { startRow: 0, endRow: undefined, startColumn: 0, endColumn: 6 } }],
    ["'It''s 2026'!b3:h", { sheet: "It's 2026", bounds: { startRow: 2, endRow: undefined, startColumn: 1, endColumn: 8 } }],
    ["'a!b'!A1:A2", { sheet: "a!b", bounds: { startRow: 0, endRow: 2, startColumn: 0, endColumn: 1 } }],
    ["Class Data!A2:E", { sheet: "Class Data", bounds: { startRow: 1, endRow: undefined, startColumn: 0, endColumn: 5 } }],
  ];
  for (const [text, expected] of cases) it(text, () => expect(parseA1(text)).toEqual(expected));

  it("says what is wrong with ranges it cannot read", () => {
    const problems: [string, RegExp][] = [
      ["Sheet1", /not a cell reference/],
      ["Sheet1!", /names no cells/],
      ["'Budget!A1:B2", /no closing/],
      ["'Budget'A1:B2", /followed by `!`/],
      ["A1:B2:C3", /more than one/],
      ["A:B5", /starts without a row but ends at one/],
      ["A1:5", /mixes a row range with columns/],
      ["B1:A2", /ends left of its first column/],
      ["A3:B1", /ends above its first row/],
      ["A0", /rows count from 1/],
      ["AAAA1", /not a cell reference/],
      ["R1C1:R2C2", /not a cell reference/],
      ["!A1", /title before `!` is empty/],
    ];
    for (const [text, problem] of problems) expect(() => parseA1(text), text).toThrow(problem);
  });
});

describe("formatRange", () => {
  it("always quotes the title, doubling quotes, so a title like `A1` or one with `!` stays a title", () => {
    expect(formatRange("Budget 2026", { startRow: 1, endRow: 5001, startColumn: 0, endColumn: 6 })).toBe("'Budget 2026'!A2:F5001");
    expect(quoteSheetTitle("It's")).toBe("'It''s'");
    expect(formatRange("A1", { startRow: 0, endRow: 1, startColumn: 26, endColumn: 28 })).toBe("'A1'!AA1:AB1");
  });

  it("reads back what it writes", () => {
    const bounds = { startRow: 9, endRow: 20, startColumn: 3, endColumn: 30 };
    expect(parseA1(formatRange("x'!y", bounds))).toEqual({ sheet: "x'!y", bounds });
  });
});
