/**
 * Idempotency keys (a name-based UUID per batch), their Structured Field form, what a
 * delivery may retry with and without them, and the receiver fixture's reading of the
 * draft that the `api.send` tests rely on.
 */
import { afterEach, describe, expect, it } from "vitest";
import { batchKey, deliveryRetry, sfString, type BatchIdentity } from "./idempotency.js";
import type { Outcome } from "./http.js";
import { requestPace } from "@xo-foundry/core";
import { parseSfString, startReceiver, type Receiver } from "./__fixtures__/receiver.js";

const ID: BatchIdentity = { pipeline: "orders_to_api", task: "to_partner_api", logicalDate: "2026-01-15", batch: 0, bodySha256: "a".repeat(64) };

describe("batch keys", () => {
  it("are RFC 9562 version 8 UUIDs, the same for the same batch", () => {
    const key = batchKey(ID);
    expect(key).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(batchKey({ ...ID })).toBe(key);
  });

  it("change with every part of the batch's identity", () => {
    const others = [
      { ...ID, pipeline: "orders_to_api2" },
      { ...ID, task: "to_partner_api2" },
      { ...ID, logicalDate: "2026-01-16" },
      { ...ID, batch: 1 },
      { ...ID, bodySha256: "b".repeat(64) },
    ].map(batchKey);
    expect(new Set([batchKey(ID), ...others]).size).toBe(6);
  });

  it("do not mix up parts that concatenate alike", () => {
    expect(batchKey({ ...ID, pipeline: "a_b", task: "c" })).not.toBe(batchKey({ ...ID, pipeline: "a", task: "b_c" }));
  });
});

describe("Structured Field strings", () => {
  it("quote and escape, and the receiver reads them back", () => {
    expect(sfString("8e03978e-40d5-43e8-bc93-6894a57f9324")).toBe('"8e03978e-40d5-43e8-bc93-6894a57f9324"');
    expect(sfString('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(parseSfString(sfString('a"b\\c'))).toBe('a"b\\c');
    expect(() => sfString("é")).toThrow(/printable ASCII/);
  });

  it("are refused when malformed", () => {
    for (const bad of ["abc", '"abc', 'abc"', '"a"b"', '"a\\x"', '"a\\"', '"tab\there"']) expect(parseSfString(bad)).toBeUndefined();
    expect(parseSfString('""')).toBe("");
  });
});

describe("what a delivery retries", () => {
  const response = (status: number): Outcome => ({ kind: "response", status, headers: {}, text: "" });
  const network = (code: string): Outcome => ({ kind: "network", detail: code, permanent: code === "ENOTFOUND", code });
  const cases: [string, Outcome, boolean, boolean][] = [
    // outcome, retried with a key, retried without
    ["408", response(408), true, true],
    ["429", response(429), true, true],
    ["503", response(503), true, true],
    ["500", response(500), true, false],
    ["502", response(502), true, false],
    ["409", response(409), true, false],
    ["400", response(400), false, false],
    ["422", response(422), false, false],
    ["401", response(401), false, false],
    ["timeout", { kind: "timeout" }, true, false],
    ["truncated 200", { kind: "truncated", status: 200, headers: {}, text: "[{" }, true, false],
    ["connection refused", network("ECONNREFUSED"), true, true],
    ["DNS try again", network("EAI_AGAIN"), true, true],
    ["connection reset", network("ECONNRESET"), true, false],
    ["unknown host", network("ENOTFOUND"), false, false],
  ];
  it.each(cases)("%s: with a key %s, without %s", (_name, outcome, keyed, unkeyed) => {
    expect(deliveryRetry(true)(outcome)).toBe(keyed);
    expect(deliveryRetry(false)(outcome)).toBe(unkeyed);
  });
});

describe("request budget", () => {
  it("spaces request starts evenly and waits only when ahead", async () => {
    let now = 0;
    const budget = requestPace(4, () => now);
    const signal = new AbortController().signal;
    await budget(signal);
    now = 250;
    const started = performance.now();
    await budget(signal);
    expect(performance.now() - started).toBeLessThan(50);
    now = 260;
    const waited = performance.now();
    await budget(signal);
    // The next slot is at 500: 240 ms on.
    expect(performance.now() - waited).toBeGreaterThanOrEqual(230);
  });
});

describe("the receiver fixture follows the Idempotency-Key draft", () => {
  let receiver: Receiver | undefined;
  afterEach(() => receiver?.close());
  const post = (body: unknown, key?: string) =>
    fetch(receiver!.url, { method: "POST", headers: { "content-type": "application/json", ...(key === undefined ? {} : { "idempotency-key": key }) }, body: JSON.stringify(body) });

  it("replays a completed key without applying it again, and answers 422 to the key with another payload", async () => {
    receiver = await startReceiver();
    expect((await post([{ id: 1 }], '"k1"')).status).toBe(200);
    const replay = await post([{ id: 1 }], '"k1"');
    expect([replay.status, await replay.json()]).toEqual([200, { accepted: 1 }]);
    const reuse = await post([{ id: 2 }], '"k1"');
    expect(reuse.status).toBe(422);
    expect(reuse.headers.get("content-type")).toBe("application/problem+json");
    expect(receiver.appliedIds()).toEqual([1]);
    expect(receiver.requests.map((r) => r.replayed)).toEqual([false, true, false]);
  });

  it("answers 409 to a key whose first request is still being processed", async () => {
    receiver = await startReceiver({ processingMs: 200 });
    const first = post([{ id: 1 }], '"k2"');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await post([{ id: 1 }], '"k2"')).status).toBe(409);
    expect((await first).status).toBe(200);
    expect(receiver.appliedIds()).toEqual([1]);
  });

  it("refuses a key that is not a Structured Field String, and a missing key where it is required", async () => {
    receiver = await startReceiver({ requireKey: true });
    expect((await post([{ id: 1 }], "bare-key")).status).toBe(400);
    expect((await post([{ id: 1 }])).status).toBe(400);
    expect(receiver.appliedIds()).toEqual([]);
  });

  it("stores no result for what it refused before processing, so the retry is processed", async () => {
    receiver = await startReceiver();
    receiver.fault({ phase: "before", status: 429, retryAfter: "1" });
    const limited = await post([{ id: 1 }], '"k3"');
    expect([limited.status, limited.headers.get("retry-after")]).toEqual([429, "1"]);
    expect((await post([{ id: 1 }], '"k3"')).status).toBe(200);
    expect(receiver.requests.map((r) => r.replayed)).toEqual([false, false]);
    expect(receiver.appliedIds()).toEqual([1]);
  });

  it("refuses what a JSON API refuses", async () => {
    receiver = await startReceiver();
    expect((await fetch(receiver.url, { method: "GET" })).status).toBe(405);
    expect((await fetch(receiver.url, { method: "POST", headers: { "content-type": "text/csv" }, body: "id\n1\n" })).status).toBe(415);
    expect((await post({ not: "an array" })).status).toBe(400);
  });
});
