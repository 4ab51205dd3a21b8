/**
 * Cutting CSV and NDJSON files at record boundaries, with records, quotes and multi-byte
 * characters that straddle reads (a read of a few bytes at a time).
 */
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { splitRecords } from "./split.js";
import { testdir, type TestDir } from "./__fixtures__/context.js";

let t: TestDir;
beforeEach(async () => {
  t = await testdir();
});
afterEach(() => t.cleanup());

const HEADER = 'id,"note\nwith newline",name\n';
const RECORDS = [
  "1,plain,ann\n",
  '2,"line one\nline two",bob\n',
  '3,"say ""hi""\n""again""",cé\n',
  '4,"",""""\n',
  "5,ünïcødé 🎉,dan\n",
  '6,"comma, inside","x\n\n\ny"\n',
];

async function split(text: string, options: { csv: boolean; maxBytes: number; readBytes?: number }) {
  const file = path.join(t.dir, "whole");
  await writeFile(file, text);
  const parts = await splitRecords(file, { ...options, partPath: (i) => path.join(t.dir, `part-${i}`) });
  return Promise.all(parts.map(async (p) => ({ ...p, text: await readFile(p.path, "utf8") })));
}

describe("splitRecords", () => {
  it.each([1, 2, 3, 7, 64, 1 << 20])("cuts CSV between records only, header atop every part (reads of %i bytes)", async (readBytes) => {
    const parts = await split(HEADER + RECORDS.join(""), { csv: true, maxBytes: Buffer.byteLength(HEADER) + 40, readBytes });
    expect(parts.map((p) => p.text)).toEqual([
      HEADER + RECORDS[0] + RECORDS[1],
      HEADER + RECORDS[2] + RECORDS[3],
      HEADER + RECORDS[4],
      HEADER + RECORDS[5],
    ]);
    expect(parts.map((p) => p.rows)).toEqual([2, 2, 1, 1]);
    for (const p of parts) expect(p.bytes).toBe(Buffer.byteLength(p.text));
  });

  it("keeps every part at or under the limit, except a record larger than it, which gets a part of its own", async () => {
    const big = `7,"${"x".repeat(500)}",big\n`;
    const parts = await split(HEADER + RECORDS[0] + big + RECORDS[1], { csv: true, maxBytes: 100, readBytes: 13 });
    expect(parts.map((p) => p.text)).toEqual([HEADER + RECORDS[0], HEADER + big, HEADER + RECORDS[1]]);
    expect(parts.filter((p) => p.bytes > 100).map((p) => p.rows)).toEqual([1]);
  });

  it("cuts NDJSON at newlines, with no header, and takes a last record without a newline", async () => {
    const lines = ['{"a":1,"s":"x\\ny"}\n', '{"a":2,"s":"\\"quoted\\""}\n', '{"a":3,"s":"ü"}'];
    const parts = await split(lines.join(""), { csv: false, maxBytes: 30, readBytes: 5 });
    expect(parts.map((p) => p.text)).toEqual(lines);
    expect(parts.map((p) => p.rows)).toEqual([1, 1, 1]);
  });

  it("puts everything in one part when it fits", async () => {
    const text = HEADER + RECORDS.join("");
    const parts = await split(text, { csv: true, maxBytes: 10_000, readBytes: 4 });
    expect(parts).toEqual([{ path: path.join(t.dir, "part-0"), rows: RECORDS.length, bytes: Buffer.byteLength(text), text }]);
  });

  it("writes parts bigger than its write buffer whole", async () => {
    const row = (i: number) => `${i},"${String(i).repeat(20)}\n",end\n`;
    const rows = Array.from({ length: 200_000 }, (_, i) => row(i));
    const text = "id,v,e\n" + rows.join("");
    const parts = await split(text, { csv: true, maxBytes: 3_000_000 });
    expect(parts.length).toBeGreaterThan(1);
    expect(parts.every((p) => p.bytes <= 3_000_000 && p.text.startsWith("id,v,e\n"))).toBe(true);
    expect(parts.map((p) => p.text.slice("id,v,e\n".length)).join("")).toBe(rows.join(""));
    expect(parts.reduce((n, p) => n + p.rows, 0)).toBe(rows.length);
  });
});
