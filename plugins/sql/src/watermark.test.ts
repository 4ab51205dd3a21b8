import { describe, expect, it } from "vitest";
import { nextExportState, readExportState, REMEMBERED_DATES, watermarkValue, type ExportState } from "./watermark.js";

const where = { key: "export__orders", task: "orders" };

describe("the export state", () => {
  it("moves the watermark with a new date and keeps the date's range", () => {
    const first = nextExportState(undefined, "updated_at", "2026-01-15", { from: null, to: "2026-01-15T10:00:00.000001" });
    expect(first).toEqual({ column: "updated_at", watermark: "2026-01-15T10:00:00.000001", dates: { "2026-01-15": { from: null, to: "2026-01-15T10:00:00.000001" } } });
    const second = nextExportState(first, "updated_at", "2026-01-16", { from: "2026-01-15T10:00:00.000001", to: "2026-01-16T09:00:00" });
    expect(second.watermark).toBe("2026-01-16T09:00:00");
    expect(Object.keys(second.dates)).toEqual(["2026-01-15", "2026-01-16"]);
  });

  it("leaves the watermark where later dates moved it when an earlier date is exported again", () => {
    const state: ExportState = {
      column: "id",
      watermark: 20,
      dates: { "2026-01-15": { from: null, to: 10 }, "2026-01-16": { from: 10, to: 20 } },
    };
    expect(nextExportState(state, "id", "2026-01-15", { from: null, to: 10 })).toEqual(state);
  });

  it(`remembers the ${REMEMBERED_DATES} most recent dates, always with the one just exported`, () => {
    let state: ExportState | undefined;
    const date = (day: number) => new Date(Date.UTC(2026, 1, day)).toISOString().slice(0, 10);
    for (let day = 1; day <= 40; day++) state = nextExportState(state, "id", date(day), { from: day - 1, to: day });
    expect(Object.keys(state!.dates)).toHaveLength(REMEMBERED_DATES);
    expect(Object.keys(state!.dates)[0]).toBe("2026-02-10");
    const old = nextExportState(state, "id", "2025-12-31", { from: 0, to: 0.5 });
    expect(Object.keys(old.dates)).toHaveLength(REMEMBERED_DATES);
    expect(Object.keys(old.dates)[0]).toBe("2025-12-31");
    expect(old.watermark).toBe(0.5);
  });

  it("refuses a saved state of another shape or for another column", () => {
    expect(readExportState(undefined, "id", where)).toBeUndefined();
    expect(() => readExportState({ cursor: 3 }, "id", where)).toThrow(expect.objectContaining({ code: "XO_SQL_EXPORT_STATE_INVALID", message: expect.stringContaining("not what sql.export writes") }));
    const forOther = { column: "updated_at", watermark: "x", dates: {} };
    const error = (() => {
      try {
        readExportState(forOther, "id", where);
      } catch (e) {
        return e as Error & { hint: string };
      }
    })();
    expect(error).toMatchObject({ code: "XO_SQL_EXPORT_STATE_INVALID", message: expect.stringContaining('is for column "updated_at", but watermark.column is now "id"') });
    expect(error?.hint).toContain("<landing>/state/<pipeline>/export__orders.json");
  });

  it("takes numbers and strings as watermarks, nothing else", () => {
    expect(watermarkValue(null, "c", "t")).toBeUndefined();
    expect(watermarkValue(undefined, "c", "t")).toBeUndefined();
    expect(watermarkValue(3, "c", "t")).toBe(3);
    expect(watermarkValue("2026-01-01T00:00:00.000001", "c", "t")).toBe("2026-01-01T00:00:00.000001");
    for (const bad of [true, [1], { a: 1 }]) expect(() => watermarkValue(bad, "c", "t")).toThrow(expect.objectContaining({ code: "XO_SQL_EXPORT_WATERMARK_INVALID" }));
  });
});
