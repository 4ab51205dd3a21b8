import { describe, expect, it } from "vitest";
import { dataWindow } from "./dates.js";
import { landingPaths, resolveLandingUri, safeRunId } from "./paths.js";
import { isXoError } from "./errors.js";

const root = "s3://landing/xo";

describe("landingPaths", () => {
  it("separates the ingest and stage roots and puts strategy and date in the path", () => {
    const window = dataWindow("2026-01-15", "incremental", "UTC");
    const p = landingPaths({ root, pipeline: "shop", stream: "orders", strategy: "incremental", window, runId: "scheduled__2026-01-15" });
    expect(p).toEqual({
      ingest: "s3://landing/xo/ingest/shop/orders/incremental/date=2026-01-15/run=scheduled__2026-01-15",
      stage: "s3://landing/xo/stage/shop/orders/incremental/date=2026-01-15",
      manifest: "s3://landing/xo/stage/shop/orders/incremental/date=2026-01-15/_manifest.json",
      marker: "s3://landing/xo/stage/shop/orders/incremental/date=2026-01-15/_SUCCESS",
    });
  });

  it("names partitions per strategy", () => {
    const at = (strategy: "full_refresh" | "historical") =>
      landingPaths({ root, pipeline: "p", stream: "s", strategy, window: dataWindow("2026-03-10", strategy, "UTC", 3), runId: "r" }).stage;
    expect(at("full_refresh")).toBe("s3://landing/xo/stage/p/s/full_refresh/snapshot_date=2026-03-10");
    expect(at("historical")).toBe("s3://landing/xo/stage/p/s/historical/from=2026-03-08_to=2026-03-10");
  });

  it("keeps the same stage partition for a re-run with another run id", () => {
    const window = dataWindow("2026-01-15", "incremental", "UTC");
    const a = landingPaths({ root, pipeline: "p", stream: "s", strategy: "incremental", window, runId: "manual__1" });
    const b = landingPaths({ root, pipeline: "p", stream: "s", strategy: "incremental", window, runId: "manual__2" });
    expect(a.stage).toBe(b.stage);
    expect(a.ingest).not.toBe(b.ingest);
  });
});

describe("safeRunId", () => {
  it("keeps safe ids and makes unsafe ones path-safe without collisions", () => {
    expect(safeRunId("local__2026-01-15")).toBe("local__2026-01-15");
    const a = safeRunId("manual__2026-01-15T00:00:00+00:00");
    expect(a).toMatch(/^manual__2026-01-15T00_00_00_00_00-[0-9a-f]{8}$/);
    expect(safeRunId("a/b")).not.toBe(safeRunId("a:b"));
    expect(safeRunId("..")).not.toBe("..");
    expect(safeRunId("../../etc")).not.toContain("/");
  });
});

describe("resolveLandingUri", () => {
  it("resolves relative file URIs against the project", () => {
    expect(resolveLandingUri("file://.xo-foundry/landing", "/srv/proj")).toBe("file:///srv/proj/.xo-foundry/landing");
    expect(resolveLandingUri("file:///data/landing/", "/srv/proj")).toBe("file:///data/landing");
    expect(resolveLandingUri("s3://bucket/prefix/", "/srv/proj")).toBe("s3://bucket/prefix");
  });

  it("rejects unknown schemes and malformed URIs", () => {
    for (const bad of ["ftp://x/y", "landing", "file://", "s3:///nobucket"]) {
      try {
        resolveLandingUri(bad, "/srv");
        throw new Error(`accepted ${bad}`);
      } catch (e) {
        expect(isXoError(e) && e.code).toBe("XO_PATH_INVALID");
      }
    }
  });
});

describe("dataWindow", () => {
  it("covers one local day, with DST days of 23 hours", () => {
    expect(dataWindow("2026-03-08", "incremental", "America/New_York")).toEqual({
      logicalDate: "2026-03-08",
      start: "2026-03-08T00:00:00-05:00",
      end: "2026-03-09T00:00:00-04:00",
      timezone: "America/New_York",
    });
    expect(dataWindow("2026-01-15", "incremental", "UTC").start).toBe("2026-01-15T00:00:00+00:00");
  });

  it("widens the historical window by the lookback", () => {
    const w = dataWindow("2026-01-15", "historical", "Asia/Kolkata", 7);
    expect(w.start).toBe("2026-01-09T00:00:00+05:30");
    expect(w.end).toBe("2026-01-16T00:00:00+05:30");
  });

  it("rejects impossible dates", () => {
    expect(() => dataWindow("2026-02-30", "incremental", "UTC")).toThrow(/invalid date/);
  });
});
