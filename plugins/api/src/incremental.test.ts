/**
 * Incremental streams: `{cursor}`, the client-side filter and the state a run hands
 * to the runtime. The server is a loopback emulation of a typical "changed since"
 * endpoint (`GET /orders?updated_since=<ISO>` answering records with
 * `updated_at >= updated_since`, offset-paginated) over an in-memory table each test
 * edits between runs; the runtime's part (saving the state batch once the load has
 * succeeded and passing it back as `ctx.state`) is played by the test.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JsonObject } from "@xo-foundry/core";
import { compareCursors, subtractLookback } from "./incremental.js";
import { streamOptions } from "./options.js";
import { extractError, extractRun, makeContext, recordingLogger, sendJson, startScriptedServer, type ScriptedServer } from "./__fixtures__/harness.js";

let server: ScriptedServer;
beforeAll(async () => {
  server = await startScriptedServer();
});
afterAll(() => server.close());

interface Order extends Record<string, unknown> {
  id: number;
  updated_at: string;
}

/** Serves `table` as a "changed since" endpoint; `filter: false` emulates an API without the parameter. */
function serveOrders(table: readonly Record<string, unknown>[], { filter = true } = {}) {
  server.script((_req, res, url) => {
    const since = url.searchParams.get("updated_since");
    const matching = table.filter((o) => !filter || since === null || Date.parse(String(o.updated_at)) >= Date.parse(since));
    const offset = Number(url.searchParams.get("offset") ?? 0);
    const limit = Number(url.searchParams.get("limit") ?? matching.length);
    sendJson(res, 200, { items: matching.slice(offset, offset + limit) });
  });
}

const order = (id: number, updated_at: string): Order => ({ id, updated_at, status: "paid" });

const source = () => ({ base_url: server.url, page_size: 2 });
/** The harness names the stream `items`. */
const orders = (incremental: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => ({
  path: "orders",
  params: { updated_since: "{cursor}" },
  record_path: "items",
  pagination: { type: "offset" },
  incremental: { cursor_field: "updated_at", initial_value: "2026-01-01T00:00:00Z", ...incremental },
  ...extra,
});

const sent = (param: string) => server.requests.map((r) => r.url.searchParams.get(param));
const ids = (pages: readonly Record<string, unknown>[][]) => pages.flat().map((r) => r.id);

function run(stream: Record<string, unknown>, state?: JsonObject, log = recordingLogger()) {
  return extractRun(makeContext({ source: source(), stream, state, log }));
}

describe("incremental extract", () => {
  it("starts at initial_value, then at the saved cursor, and reads only what changed", async () => {
    const table = [order(1, "2025-12-31T23:00:00Z"), order(2, "2026-01-10T08:00:00Z"), order(3, "2026-01-12T09:30:00Z"), order(4, "2026-01-11T00:00:00Z")];
    serveOrders(table);

    const first = await run(orders());
    expect(sent("updated_since")).toEqual(["2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z"]);
    expect(ids(first.pages)).toEqual([2, 3, 4]);
    // The largest value, not the last one read.
    expect(first.states).toEqual([{ cursor: "2026-01-12T09:30:00Z" }]);

    // Between runs: one order changes, one is created; an old one is untouched.
    table[1] = order(2, "2026-01-13T10:00:00Z");
    table.push(order(5, "2026-01-14T00:00:00Z"));
    serveOrders(table);

    const second = await run(orders(), first.states.at(-1));
    expect(sent("updated_since")).toEqual(["2026-01-12T09:30:00Z", "2026-01-12T09:30:00Z"]);
    expect(sent("offset")).toEqual(["0", "2"]);
    // The row at the cursor itself comes again (the API's `>=`, and equal values are kept); merge keys make that harmless.
    expect(ids(second.pages)).toEqual([2, 3, 5]);
    expect(second.states).toEqual([{ cursor: "2026-01-14T00:00:00Z" }]);
  });

  it("moves a saved cursor back by lookback so late rows are read, and never moves the cursor backwards", async () => {
    // Order 7 was written at 09:30 but only became visible after the last run saved 10:00.
    serveOrders([order(6, "2026-01-15T08:00:00Z"), order(7, "2026-01-15T09:30:00Z"), order(8, "2026-01-15T10:00:00Z")]);
    const log = recordingLogger();
    const { pages, states } = await run(orders({ lookback: 3600 }), { cursor: "2026-01-15T10:00:00Z" }, log);
    expect(sent("updated_since")).toEqual(["2026-01-15T09:00:00Z", "2026-01-15T09:00:00Z"]);
    expect(ids(pages)).toEqual([7, 8]);
    expect(states).toEqual([{ cursor: "2026-01-15T10:00:00Z" }]);
    expect(log.infos).toContainEqual(expect.stringMatching(/`updated_at` >= "2026-01-15T09:00:00Z" \(saved cursor "2026-01-15T10:00:00Z", lookback 3600\)/));

    // Lookback applies to a saved cursor only: the first run starts exactly at initial_value.
    serveOrders([]);
    await run(orders({ lookback: 3600 }));
    expect(sent("updated_since")[0]).toBe("2026-01-01T00:00:00Z");
  });

  it("drops records older than the cursor when the API cannot filter, keeping equal ones", async () => {
    serveOrders([order(1, "2026-01-02T00:00:00Z"), order(2, "2026-01-06T11:00:00Z"), order(3, "2026-01-04T00:00:00Z"), order(4, "2026-01-06T12:00:00+02:00")], {
      filter: false,
    });
    const log = recordingLogger();
    // No `{cursor}` anywhere: the filter is client side only.
    const { pages, states } = await run(orders({}, { params: {} }), { cursor: "2026-01-04T00:00:00Z" }, log);
    expect(sent("updated_since")).toEqual([null, null, null]);
    expect(ids(pages)).toEqual([2, 3, 4]);
    // 12:00+02:00 is 10:00Z: compared as instants, not as text, 11:00Z is the latest.
    expect(states).toEqual([{ cursor: "2026-01-06T11:00:00Z" }]);
    expect(log.infos.at(-1)).toMatch(/read 3 records in 2 page\(s\); dropped 1 older than the cursor/);
  });

  it("keeps the saved cursor when nothing new arrives, and saves nothing before the first record", async () => {
    serveOrders([order(1, "2025-12-01T00:00:00Z")]);
    const kept = await run(orders(), { cursor: "2026-01-12T09:30:00Z" });
    expect(kept.pages).toEqual([]);
    expect(kept.states).toEqual([{ cursor: "2026-01-12T09:30:00Z" }]);

    const none = await run(orders());
    expect(none.pages).toEqual([]);
    expect(none.states).toEqual([]);
  });

  it("reads a dotted cursor_field and numeric cursors", async () => {
    const table = [10, 11, 12].map((id) => ({ id, meta: { version: id * 100 } }));
    server.script((_req, res, url) => sendJson(res, 200, table.filter((r) => r.meta.version >= Number(url.searchParams.get("min_version")))));
    const stream = { path: "items", params: { min_version: "{cursor}" }, incremental: { cursor_field: "meta.version", initial_value: 0, lookback: 50 } };
    const { pages, states } = await extractRun(makeContext({ source: source(), stream, state: { cursor: 1100 } }));
    expect(sent("min_version")).toEqual(["1050"]);
    expect(ids(pages)).toEqual([11, 12]);
    expect(states).toEqual([{ cursor: 1200 }]);
  });

  it("fills {cursor} in the path too", async () => {
    serveOrders([]);
    await run(orders({}, { path: "orders/since/{cursor}", params: {} }), { cursor: "2026-01-12" });
    expect(server.requests[0]?.url.pathname).toBe("/orders/since/2026-01-12");
  });

  it("keeps the cursor when max_pages cut the read short and records came out of order", async () => {
    const table = [order(1, "2026-01-20T00:00:00Z"), order(2, "2026-01-10T00:00:00Z"), order(3, "2026-01-05T00:00:00Z"), order(4, "2026-01-04T00:00:00Z")];
    serveOrders(table);
    const log = recordingLogger();
    const unordered = await run(orders({}, { max_pages: 1 }), { cursor: "2026-01-02T00:00:00Z" }, log);
    expect(ids(unordered.pages)).toEqual([1, 2]);
    expect(unordered.states).toEqual([{ cursor: "2026-01-02T00:00:00Z" }]);
    expect(log.warnings.at(-1)).toMatch(/did not come in ascending `updated_at` order, so the cursor stays at "2026-01-02T00:00:00Z"/);

    // In ascending order the unread pages cannot hold anything older, so the cursor moves.
    serveOrders([...table].reverse());
    const ordered = await run(orders({}, { max_pages: 1 }), { cursor: "2026-01-02T00:00:00Z" });
    expect(ordered.states).toEqual([{ cursor: "2026-01-05T00:00:00Z" }]);
  });
});

describe("incremental errors", () => {
  it("fails on a record without the cursor field, naming the stream, the field and the fields it has", async () => {
    serveOrders([order(1, "2026-01-02T00:00:00Z"), { id: 2, updatedAt: "2026-01-03T00:00:00Z" }], { filter: false });
    const error = await extractError(makeContext({ source: source(), stream: orders() }));
    expect(error).toMatchObject({ code: "API_CURSOR_MISSING" });
    expect(error.message).toMatch(/^record 2 of stream "items" has no `updated_at` \(incremental\.cursor_field\); its fields are `id`, `updatedAt`/);

    serveOrders([{ id: 3, updated_at: null }], { filter: false });
    const nullError = await extractError(makeContext({ source: source(), stream: orders() }));
    expect(nullError.message).toMatch(/has `updated_at` \(incremental\.cursor_field\) = null, expected a string or number/);
  });

  it("fails on cursors that cannot be compared or moved back", async () => {
    serveOrders([order(1, "2026-01-02T00:00:00Z")], { filter: false });
    const mixed = await extractError(makeContext({ source: source(), stream: orders({ initial_value: 0 }) }));
    expect(mixed).toMatchObject({ code: "API_CURSOR_INVALID" });
    expect(mixed.message).toMatch(/cannot compare `updated_at` = "2026-01-02T00:00:00Z" with the start cursor \(0\)/);

    const lookback = await extractError(makeContext({ source: source(), stream: orders({ lookback: 60 }), state: { cursor: "abc" } }));
    expect(lookback.message).toMatch(/`incremental.lookback` needs an ISO 8601 date-time or numeric cursor, but the saved cursor is "abc"/);

    const state = await extractError(makeContext({ source: source(), stream: orders(), state: { cursor: { at: 1 } } }));
    expect(state.message).toMatch(/saved state of stream "items" has cursor \{"at":1\}, expected a string or number/);
    expect(server.requests).toHaveLength(1);
  });
});

describe("incremental options", () => {
  const issues = (value: unknown) => (streamOptions.safeParse(value).error?.issues ?? []).map((i) => `${i.path.join(".")}: ${i.message}`);

  it("rejects {cursor} without an incremental block, at each place it is used", () => {
    expect(issues({ path: "orders/{cursor}", params: { updated_since: "{cursor}", limit: 5, q: "{window_start}" } })).toEqual([
      "path: {cursor} needs an `incremental:` block on the stream (`cursor_field` and `initial_value`) to know where to start; add one, or use a window placeholder such as {window_start}",
      "params.updated_since: {cursor} needs an `incremental:` block on the stream (`cursor_field` and `initial_value`) to know where to start; add one, or use a window placeholder such as {window_start}",
    ]);
  });

  it("accepts incremental with or without {cursor}, and checks its fields", () => {
    expect(streamOptions.parse(orders()).incremental).toEqual({ cursor_field: "updated_at", initial_value: "2026-01-01T00:00:00Z" });
    expect(issues({ path: "x", incremental: { cursor_field: "id", initial_value: 0 } })).toEqual([]);
    expect(issues({ path: "x", incremental: { cursor_field: "id" } })).toEqual([expect.stringMatching(/^incremental\.initial_value: /)]);
    expect(issues({ path: "x", incremental: { cursor_field: "id", initial_value: 0, lookback: -1 } })).toEqual([expect.stringMatching(/^incremental\.lookback: /)]);
    expect(issues({ path: "x", incremental: { cursor_field: "id", initial_value: 0, look_back: 1 } })).toEqual([expect.stringMatching(/look_back/)]);
  });
});

describe("cursor values", () => {
  it("compares date-times as instants, numbers numerically, other strings by code point", () => {
    expect(compareCursors("2026-01-15T12:00:00+02:00", "2026-01-15T11:00:00Z")).toBeLessThan(0);
    expect(compareCursors("2026-01-15T10:00:00.000001Z", "2026-01-15T10:00:00Z")).toBeGreaterThan(0);
    expect(compareCursors("2026-01-15", "2026-01-15T00:00:00Z")).toBe(0);
    expect(compareCursors(9, 10)).toBeLessThan(0);
    expect(compareCursors("9", "10")).toBeLessThan(0);
    expect(compareCursors("9007199254740993", "9007199254740992")).toBeGreaterThan(0);
    expect(compareCursors(10, "10")).toBe(0);
    expect(compareCursors("b", "ab")).toBeGreaterThan(0);
    expect(compareCursors(1, "abc")).toBeUndefined();
    // Not a date (February 30th): ordered as text.
    expect(compareCursors("2026-02-30", "2026-03-01")).toBeLessThan(0);
  });

  it("moves date-times back keeping their offset and precision", () => {
    expect(subtractLookback("2026-01-15T10:00:00Z", 3600)).toBe("2026-01-15T09:00:00Z");
    expect(subtractLookback("2026-01-15T00:30:00.123456+02:00", 3600)).toBe("2026-01-14T23:30:00.123456+02:00");
    expect(subtractLookback("2026-01-15 10:00", 90)).toBe("2026-01-15 09:58:30");
    expect(subtractLookback("2026-01-15", 1)).toBe("2026-01-14");
    expect(subtractLookback(1_736_935_200, 3600)).toBe(1_736_931_600);
    expect(subtractLookback("9007199254740993", 3)).toBe("9007199254740990");
    expect(subtractLookback("cursor-abc", 0)).toBe("cursor-abc");
    expect(subtractLookback("cursor-abc", 1)).toBeUndefined();
  });
});
