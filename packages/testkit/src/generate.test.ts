import { readFile } from "node:fs/promises";
import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { canonicalJson } from "./contract/common.js";
import { writeManifestFile, writeNdjsonManifest } from "./files.js";
import { DEFAULT_FIELDS, generatePages, generateRecords, mulberry32, rng } from "./generate.js";
import { BROKEN_UTF16, HOSTILE_STRINGS, HOSTILE_TEXT } from "./hostile.js";
import { testdir, type TestDir } from "./testdir.js";

describe("mulberry32", () => {
  it("gives the published sequence for a seed, on every machine", () => {
    const next = mulberry32(42);
    // Pinned: a change here changes every generated fixture in every plugin's tests.
    expect(Array.from({ length: 3 }, () => next())).toEqual([0.6011037519201636, 0.44829055899754167, 0.8524657934904099]);
  });

  it("draws integers in the closed range", () => {
    const r = rng(7);
    const seen = new Set(Array.from({ length: 2000 }, () => r.int(-2, 2)));
    expect([...seen].sort()).toEqual([-1, -2, 0, 1, 2]);
  });
});

describe("generateRecords", () => {
  it("gives the same records for the same seed and different ones for another", () => {
    const a = generateRecords({ seed: 5, count: 200, nullRate: 0.2 });
    expect(generateRecords({ seed: 5, count: 200, nullRate: 0.2 })).toEqual(a);
    expect(generateRecords({ seed: 6, count: 200, nullRate: 0.2 })).not.toEqual(a);
  });

  it("is pinned across runs and machines", () => {
    const records = generateRecords({ seed: 1, count: 1000, nullRate: 0.1 });
    // A digest of the canonical JSON: any platform-dependent float, date or string formatting shows here.
    expect(createHash("sha256").update(canonicalJson(records)).digest("hex").slice(0, 16)).toMatchInlineSnapshot(`"042608096ad5dedb"`);
    expect(records[0]).toMatchInlineSnapshot(`
      {
        "active": true,
        "amount": -99452.86,
        "created_at": "2026-09-21T01:42:35.698Z",
        "day": "2026-12-30",
        "id": 1,
        "name": "bravo echo",
        "note": "😀",
        "quantity": 981032019,
      }
    `);
  });

  it("types every field as declared, ids counting up", () => {
    const records = generateRecords({ seed: 3, count: 500, startId: 10 });
    expect(records.map((r) => r.id)).toEqual(Array.from({ length: 500 }, (_, i) => 10 + i));
    expect(Object.keys(records[0]!)).toEqual(["id", ...Object.keys(DEFAULT_FIELDS)]);
    for (const r of records) {
      expect(Number.isInteger(r.quantity)).toBe(true);
      expect(typeof r.amount).toBe("number");
      expect(Math.round((r.amount as number) * 100) / 100).toBe(r.amount);
      expect(typeof r.active).toBe("boolean");
      expect(r.created_at).toMatch(/^2026-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(r.day).toMatch(/^2026-\d\d-\d\d$/);
      expect(typeof r.name).toBe("string");
      expect(r.note).toMatch(/[^\x00-\x7f]/);
    }
  });

  it("makes about nullRate of the fields null, never the id", () => {
    const records = generateRecords({ seed: 4, count: 2000, nullRate: 0.25 });
    const values = records.flatMap((r) => Object.entries(r).filter(([k]) => k !== "id").map(([, v]) => v));
    const share = values.filter((v) => v === null).length / values.length;
    expect(share).toBeGreaterThan(0.23);
    expect(share).toBeLessThan(0.27);
    expect(records.every((r) => r.id !== null)).toBe(true);
    expect(generateRecords({ seed: 4, count: 50 }).flatMap((r) => Object.values(r)).includes(null)).toBe(false);
  });

  it("gives hostile strings on request", () => {
    const records = generateRecords({ seed: 9, count: 300, fields: { value: "hostile" } });
    expect(new Set(records.map((r) => r.value)).size).toBeGreaterThan(30);
    expect(records.every((r) => HOSTILE_TEXT.includes(r.value as string))).toBe(true);
  });

  it("pages the same records lazily, for large extracts", () => {
    const spec = { seed: 8, count: 1050, fields: { n: "int" as const } };
    const pages = [...generatePages({ ...spec, pageSize: 100 })];
    expect(pages.map((p) => p.length)).toEqual([...Array<number>(10).fill(100), 50]);
    expect(pages.flat()).toEqual(generateRecords(spec));
    const huge = generatePages({ ...spec, count: 10_000_000, pageSize: 10_000 });
    expect(huge.next().value).toHaveLength(10_000);
  });

  it("refuses a null rate outside [0, 1]", () => {
    expect(() => generateRecords({ count: 1, nullRate: 2 })).toThrow(/nullRate must be in \[0, 1\]/);
  });
});

describe("hostile strings", () => {
  it("are well-formed UTF-16 in HOSTILE_TEXT, and HOSTILE_STRINGS adds the broken ones", () => {
    // With the u flag, \p{Surrogate} matches only a surrogate that is not half of a pair.
    const broken = (s: string) => /\p{Surrogate}/u.test(s);
    expect(HOSTILE_TEXT.some(broken)).toBe(false);
    expect(BROKEN_UTF16.every(broken)).toBe(true);
    expect(HOSTILE_STRINGS).toEqual([...HOSTILE_TEXT, ...BROKEN_UTF16]);
  });
});

describe("writeNdjsonManifest", () => {
  let dir: TestDir;
  afterEach(() => dir?.remove());

  it("spreads the records over part files and describes them as the runtime would", async () => {
    dir = await testdir();
    const records = generateRecords({ seed: 2, count: 10 });
    const m = await writeNdjsonManifest({ dir: dir.path("p"), records, files: 3, stream: "orders", strategy: "full_refresh", logicalDate: "2026-02-01" });
    expect(m).toMatchObject({ version: 1, stream: "orders", strategy: "full_refresh", logicalDate: "2026-02-01", rows: 10 });
    expect(m.files.map((f) => f.rows)).toEqual([4, 4, 2]);
    const lines = (await Promise.all(m.files.map((f) => readFile(fileURLToPath(f.uri), "utf8")))).join("").split("\n").filter(Boolean);
    expect(lines.map((l) => JSON.parse(l) as unknown)).toEqual(records);
    const first = m.files[0]!;
    const body = await readFile(fileURLToPath(first.uri));
    expect(first).toMatchObject({ format: "ndjson", bytes: body.length, sha256: createHash("sha256").update(body).digest("hex") });
    expect(m.bytes).toBe(m.files.reduce((n, f) => n + f.bytes, 0));
  });

  it("writes single files, corrupt ones included", async () => {
    dir = await testdir();
    const file = await writeManifestFile(dir.path("x/bad.ndjson"), "{not json\n", "ndjson");
    expect(file).toMatchObject({ bytes: 10, format: "ndjson" });
    expect(file).not.toHaveProperty("rows");
  });
});
