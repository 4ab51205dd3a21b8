import { describe, expect, it } from "vitest";
import { backoffDelay, lowerCaseHeaders, parseRetryAfter, sleep } from "./retry.js";

describe("retry helpers", () => {
  const now = Date.parse("2026-01-15T12:00:00Z");
  it("reads Retry-After as seconds or as an HTTP date", () => {
    expect(parseRetryAfter("3", now)).toBe(3_000);
    expect(parseRetryAfter("Thu, 15 Jan 2026 12:00:10 GMT", now)).toBe(10_000);
    expect(parseRetryAfter("Thu, 15 Jan 2026 11:00:00 GMT", now)).toBe(0);
    expect(parseRetryAfter("soon", now)).toBeUndefined();
  });

  it("backs off exponentially with equal jitter, up to the cap", () => {
    expect(backoffDelay(0, 500, 30_000, () => 0)).toBe(250);
    expect(backoffDelay(3, 500, 30_000, () => 1)).toBe(4_000);
    expect(backoffDelay(20, 500, 30_000, () => 1)).toBe(30_000);
  });

  it("stops waiting when the signal aborts", async () => {
    const controller = new AbortController();
    const waiting = sleep(60_000, controller.signal);
    controller.abort(new Error("cancelled"));
    await expect(waiting).rejects.toThrow("cancelled");
  });

  it("lower-cases header names and joins repeated values", () => {
    expect(lowerCaseHeaders({ "Retry-After": 3, "Set-Cookie": ["a", "b"], Empty: undefined })).toEqual({ "retry-after": "3", "set-cookie": "a, b" });
  });
});
