/**
 * Retries and error messages. Emulated: Gladly's API (src/__fixtures__/gladly-server.ts),
 * with scripted 429 / 5xx / 400 answers. Real: axios, the Node HTTP stack, timers.
 */
import { clearSecrets } from "@xo-foundry/core";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { daysCsv, EMAIL, startGladlyEmulator, TOKEN, type GladlyEmulator } from "./__fixtures__/gladly-server.js";
import { connection, extractError, extractFiles, makeContext, recordingLogger } from "./__fixtures__/harness.js";
import { backoffDelay, parseRetryAfter } from "./http.js";

let gladly: GladlyEmulator;
beforeAll(async () => {
  gladly = await startGladlyEmulator();
});
afterAll(() => gladly.close());
beforeEach(() => {
  gladly.reset();
  clearSecrets();
});

const REPORTS = "/api/v1/reports";
const report = { kind: "report", metric_set: "ContactTimestampsReport" };
const reportRequests = () => gladly.requests.filter((r) => r.path === REPORTS);

describe("retries", () => {
  it("waits for Retry-After after a 429, then succeeds", async () => {
    gladly.fail(REPORTS, { status: 429, headers: { "retry-after": "1" }, body: { errors: [{ code: "rate_limited", detail: "slow down" }] } });
    const log = recordingLogger();
    const started = performance.now();
    const files = await extractFiles(makeContext({ source: { base_url: gladly.url }, stream: report, log }));
    expect(performance.now() - started).toBeGreaterThanOrEqual(950);
    expect(files[0]!.rows).toBe(144);
    expect(reportRequests()).toHaveLength(2);
    expect(log.warnings[0]).toMatch(/POST \/api\/v1\/reports \(report ContactTimestampsReport .*\) failed with HTTP 429 Too Many Requests; retry 1 of 5 in 1000 ms/);
  });

  it("retries 5xx with backoff, then succeeds", async () => {
    gladly.fail(REPORTS, { status: 500 }, { status: 503 });
    const files = await extractFiles(makeContext({ source: { base_url: gladly.url }, stream: report }));
    expect(files[0]!.rows).toBe(144);
    expect(reportRequests()).toHaveLength(3);
  });

  it("gives up after max_retries with a hint", async () => {
    gladly.fail(REPORTS, { status: 502 }, { status: 502 }, { status: 502 });
    const error = await extractError(makeContext({ source: { base_url: gladly.url, max_retries: 1 }, stream: report }));
    expect(error.message).toMatch(/failed with HTTP 502 Bad Gateway after 2 attempts/);
    expect(error.message).toContain("Gladly kept failing");
  });

  it("retries a report whose body breaks off, landing only the complete one", async () => {
    gladly.fail(REPORTS, { status: 200, partial: { text: '"Contact ID","Timestamp"\r\nabc,"half a fie', then: "reset" } });
    const files = await extractFiles(makeContext({ source: { base_url: gladly.url }, stream: report }));
    expect(files).toHaveLength(1);
    expect(files[0]!.rows).toBe(144);
    expect(files[0]!.bytes.toString("utf8")).toBe(daysCsv("ContactTimestampsReport", "UTC", "2026-01-15").csv);
    expect(reportRequests()).toHaveLength(2);
  });

  it("retries a report whose CSV ends inside a quoted field", async () => {
    gladly.fail(REPORTS, { status: 200, body: undefined, partial: { text: '"Contact ID","Note"\r\nabc,"cut', then: "end" } });
    const files = await extractFiles(makeContext({ source: { base_url: gladly.url }, stream: report }));
    expect(files[0]!.rows).toBe(144);
    expect(reportRequests()).toHaveLength(2);
  });

  it("retries a report whose body goes silent for timeout_ms", async () => {
    gladly.fail(REPORTS, { status: 200, partial: { text: '"Contact ID"\r\n', then: "stall" } });
    const log = recordingLogger();
    const files = await extractFiles(makeContext({ source: { base_url: gladly.url, timeout_ms: 300 }, stream: report, log }));
    expect(files[0]!.rows).toBe(144);
    expect(log.warnings[0]).toMatch(/no data for 300 ms/);
  });

  it("parses Retry-After as seconds or an HTTP date", () => {
    const now = Date.parse("2026-01-15T00:00:00Z");
    expect(parseRetryAfter("7", now)).toBe(7000);
    expect(parseRetryAfter("Thu, 15 Jan 2026 00:00:30 GMT", now)).toBe(30_000);
    expect(parseRetryAfter("soon", now)).toBeUndefined();
  });

  it("backs off exponentially with jitter, capped", () => {
    expect(backoffDelay(0, 1000, () => 0)).toBe(500);
    expect(backoffDelay(3, 1000, () => 1)).toBe(8000);
    expect(backoffDelay(20, 1000, () => 1)).toBe(60_000);
  });
});

describe("errors", () => {
  it("lists Gladly's 400 errors with attr, detail and code, naming the metric set and the option to fix", async () => {
    const error = await extractError(makeContext({ source: { base_url: gladly.url }, stream: { kind: "report", metric_set: "NoSuchReport" } }));
    expect(error.message).toMatch(/^Gladly rejected report NoSuchReport for 2026-01-15 \(UTC\) \(POST \/api\/v1\/reports, HTTP 400\): metricSet: NoSuchReport is not a valid metricSet \(invalid\)/);
    expect(error).toMatchObject({ name: "GladlyApiError", code: "XO_GLADLY_REQUEST_REJECTED", status: 400, details: [{ attr: "metricSet", code: "invalid", detail: "NoSuchReport is not a valid metricSet" }] });
    expect((error as Error & { hint: string }).hint).toMatch(/^fix the stream's `metric_set`: Gladly's API reference/);
    expect(reportRequests()).toHaveLength(1);
  });

  it("lists every entry of a 400 body", async () => {
    gladly.fail(REPORTS, {
      status: 400,
      body: { errors: [{ attr: "startAt", code: "invalid", detail: "must be before endAt" }, { attr: "filters.inboxes", code: "unknown", detail: "no such inbox" }] },
    });
    const error = await extractError(makeContext({ source: { base_url: gladly.url }, stream: report }));
    expect(error.message).toContain("startAt: must be before endAt (invalid); filters.inboxes: no such inbox (unknown)");
  });

  it("names the connection env var on 401 and never prints the token", async () => {
    const wrong = "wrong-token-for-this-test";
    const error = await extractError(makeContext({ source: { base_url: gladly.url }, stream: report, connection: connection({ password: wrong }) }));
    expect(error.message).toContain('connection "gladly" (XO_CONN_GLADLY)');
    expect(error.message).toContain("check the agent email and API token");
    expect(error.message).not.toContain(wrong);
    expect(error.message).not.toContain(Buffer.from(`${EMAIL}:${wrong}`).toString("base64"));
    expect(error.message).not.toContain(TOKEN);
    expect(reportRequests()).toHaveLength(1);
  });

  it("masks a token that a server echoes back", async () => {
    gladly.fail(REPORTS, { status: 418, body: { errors: [{ detail: `token ${TOKEN} is a teapot` }] } });
    const error = await extractError(makeContext({ source: { base_url: gladly.url }, stream: report }));
    expect(error.message).toContain("token *** is a teapot");
    expect(error.message).not.toContain(TOKEN);
  });

  it("asks for the stream keys its kind needs", async () => {
    const error = await extractError(makeContext({ source: { base_url: gladly.url }, stream: { kind: "report" } }));
    expect(error.message).toMatch(/invalid gladly stream options for kind "report": metric_set:/);
    expect(gladly.requests).toHaveLength(0);
  });

  it("needs a login and a token in the connection", async () => {
    const error = await extractError(makeContext({ source: { base_url: gladly.url }, stream: report, connection: { id: "gladly", password: TOKEN, extra: {} } }));
    expect(error.message).toContain('connection "gladly" (XO_CONN_GLADLY) has no login');
  });

  it("names the source block's connection when none was resolved", async () => {
    // A named source (`sources: { support: ... }`): the hint comes from that block, not another source's.
    const base = makeContext({ source: { base_url: gladly.url }, stream: report });
    const main = base.pipeline.sources.main!;
    const pipeline = { ...base.pipeline, sources: { main: { ...main, connection: "other" }, support: { ...main, plugin: "gladly", connection: "gladly_support" } } };
    const error = await extractError({ ...base, pipeline, source: "support", connection: undefined });
    expect(error.message).toBe("the gladly source needs a connection: set `connection:` in the source block and define connection \"gladly_support\" (XO_CONN_GLADLY_SUPPORT)");
    expect(gladly.requests).toHaveLength(0);
  });

  it("reports an unreachable host with the URL to check", async () => {
    const error = await extractError(makeContext({ source: { base_url: "http://127.0.0.1:1", max_retries: 0 }, stream: report }));
    expect(error.message).toMatch(/POST \/api\/v1\/reports .* failed: .*Check `organization`\/`base_url`/);
  });
});
