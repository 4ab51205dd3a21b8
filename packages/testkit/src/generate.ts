/**
 * Seeded mock records. Everything derives from mulberry32, which uses only 32-bit integer
 * arithmetic (Math.imul, shifts), so one seed gives the same records on every run, Node
 * version and machine; floats are rounded to cents and timestamps built from integers
 * in UTC, so no platform formatting leaks in. Nothing here reads the clock or Math.random.
 */
import type { JsonObject, JsonValue } from "@xo-foundry/core";
import { HOSTILE_TEXT } from "./hostile.js";

/** mulberry32: a tiny, fast, well-distributed 32-bit PRNG. Returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Rng {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [min, max], both included. */
  int(min: number, max: number): number;
  bool(probability?: number): boolean;
  pick<T>(items: readonly T[]): T;
}

export function rng(seed: number): Rng {
  const next = mulberry32(seed);
  const r: Rng = {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    bool: (probability = 0.5) => next() < probability,
    pick: (items) => {
      if (items.length === 0) throw new Error("rng.pick: no items");
      return items[r.int(0, items.length - 1)]!;
    },
  };
  return r;
}

/**
 * Field types of generated records: `int` (safe integers, negative too), `float` (two
 * decimals), `bool`, `timestamp` (ISO 8601 UTC with milliseconds), `date` (YYYY-MM-DD),
 * `string` (ASCII words), `text` (unicode: accents, CJK, emoji, right-to-left), `hostile`
 * (a string of HOSTILE_TEXT).
 */
export type FieldType = "int" | "float" | "bool" | "timestamp" | "date" | "string" | "text" | "hostile";

export const DEFAULT_FIELDS: Readonly<Record<string, FieldType>> = {
  amount: "float",
  quantity: "int",
  active: "bool",
  created_at: "timestamp",
  day: "date",
  name: "string",
  note: "text",
};

export interface RecordSpec {
  /** Same seed, same records. */
  readonly seed?: number;
  readonly count: number;
  /** Fields besides `id`, in the order they appear in each record. */
  readonly fields?: Readonly<Record<string, FieldType>>;
  /** Chance in [0, 1] that a field (never `id`) is null. */
  readonly nullRate?: number;
  /** The first `id`; ids count up from it, so they identify records. */
  readonly startId?: number;
}

const WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet", "kilo", "lima"];
const UNICODE_WORDS = ["caf\u00e9", "na\u00efve", "\u00fcber", "\u4e2d\u6587", "\u65e5\u672c\u8a9e", "\u{1f600}", "\u{1f469}\u200d\u{1f467}", "\u05e9\u05dc\u05d5\u05dd", "\u0645\u0631\u062d\u0628\u0627", "\u0416\u0438\u0437\u043d\u044c", "e\u0301", "\u00df"];

const EPOCH_2026 = Date.UTC(2026, 0, 1);
const YEAR_MS = 365 * 86_400_000;

function value(type: FieldType, r: Rng): JsonValue {
  switch (type) {
    case "int":
      return r.int(-1_000_000, 1_000_000_000);
    case "float":
      return r.int(-10_000_000, 10_000_000) / 100;
    case "bool":
      return r.bool();
    case "timestamp":
      return new Date(EPOCH_2026 + r.int(0, YEAR_MS - 1)).toISOString();
    case "date":
      return new Date(EPOCH_2026 + r.int(0, 364) * 86_400_000).toISOString().slice(0, 10);
    case "string":
      return Array.from({ length: r.int(1, 4) }, () => r.pick(WORDS)).join(" ");
    case "text":
      return Array.from({ length: r.int(1, 4) }, () => r.pick(UNICODE_WORDS)).join(" ");
    case "hostile":
      return r.pick(HOSTILE_TEXT);
  }
}

/** `count` records `{ id, ...fields }`, the same for the same spec everywhere. */
export function generateRecords(spec: RecordSpec): JsonObject[] {
  return [...generatePages({ ...spec, pageSize: Math.max(1, spec.count) })].flat();
}

/**
 * The same records as `generateRecords`, in pages of `pageSize`, made one page at a
 * time, so a test can feed a million rows without holding them.
 */
export function* generatePages(spec: RecordSpec & { readonly pageSize: number }): Generator<JsonObject[]> {
  const r = rng(spec.seed ?? 1);
  const fields = Object.entries(spec.fields ?? DEFAULT_FIELDS);
  const nullRate = spec.nullRate ?? 0;
  if (nullRate < 0 || nullRate > 1) throw new RangeError(`nullRate must be in [0, 1], got ${nullRate}`);
  if (!Number.isInteger(spec.pageSize) || spec.pageSize < 1) throw new RangeError(`pageSize must be a positive integer, got ${spec.pageSize}`);
  const start = spec.startId ?? 1;
  for (let offset = 0; offset < spec.count; offset += spec.pageSize) {
    const page: JsonObject[] = [];
    for (let i = offset; i < Math.min(spec.count, offset + spec.pageSize); i++) {
      const record: Record<string, JsonValue> = { id: start + i };
      // Both draws happen for every field, so a null does not shift the values after it.
      for (const [name, type] of fields) {
        const isNull = r.next() < nullRate;
        const v = value(type, r);
        record[name] = isNull ? null : v;
      }
      page.push(record);
    }
    yield page;
  }
}

/** One record per string, `{ id, value }`, for checks that strings survive a round trip. */
export function hostileRecords(strings: readonly string[] = HOSTILE_TEXT): JsonObject[] {
  return strings.map((s, i) => ({ id: i + 1, value: s }));
}
