// Unit tests: no network, nothing emulated.
import { describe, expect, it } from "vitest";
import { CsvRowCounter } from "./csv.js";

function count(text: string, chunkSize = Infinity): CsvRowCounter {
  const counter = new CsvRowCounter();
  const bytes = Buffer.from(text, "utf8");
  const size = Number.isFinite(chunkSize) ? chunkSize : bytes.length || 1;
  for (let i = 0; i < bytes.length; i += size) counter.push(bytes.subarray(i, i + size));
  return counter;
}

describe("CsvRowCounter", () => {
  it("counts data rows after the header, with or without a final newline", () => {
    expect(count("a,b\n1,2\n3,4\n").dataRows).toBe(2);
    expect(count("a,b\n1,2\n3,4").dataRows).toBe(2);
    expect(count("a,b\r\n1,2\r\n").dataRows).toBe(1);
  });

  it("handles a header-only and an empty body", () => {
    expect(count("a,b\n").dataRows).toBe(0);
    expect(count("").dataRows).toBe(0);
  });

  it("ignores newlines, commas and escaped quotes inside quoted fields, across any chunk boundary", () => {
    const text = 'id,note\r\n1,"line one\nline two, ""quoted"""\r\n2,"a\r\nb"\r\n3,plain\r\n';
    for (const size of [1, 2, 3, 7, 1000]) {
      const c = count(text, size);
      expect(c.dataRows, `chunk size ${size}`).toBe(3);
      expect(c.unterminatedQuote).toBe(false);
    }
  });

  it("skips blank lines and multi-byte characters do not confuse it", () => {
    expect(count("h\n\n\nü,\"日本\n語\"\n\n").dataRows).toBe(1);
  });

  it("notices a body cut off inside a quoted field", () => {
    expect(count('a\n"open field\n').unterminatedQuote).toBe(true);
  });
});
