/**
 * The `api.send` step against a loopback receiver that follows the Idempotency-Key draft
 * (__fixtures__/receiver.ts): batches and body shapes, stable keys, the delivery ledger,
 * refused records, what is retried with and without keys, and a run killed mid-delivery.
 * The landing zone, the upstream export's partition and the state are files on disk.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { clearSecrets, isXoError, type Connection, type JsonObject, type StateStore, type StepResult, type TaskSummary } from "@xo-foundry/core";
import { memoryStateStore, recordingLogger, rejectionOf, stepContext, testdir, type RecordingLogger, type TestDir } from "@xo-foundry/testkit";
import { apiSend } from "./send.js";
import { sendOptions } from "./send-options.js";
import { fileStateStore, folderLanding, ndjson, orders, publishPartition, type PublishedFile, type TestLanding } from "./__fixtures__/landing.js";
import { startReceiver, type Receiver, type ReceiverOptions } from "./__fixtures__/receiver.js";
import type { ChildInput } from "./__fixtures__/send-child.js";

const TOKEN = "partner-token-0123456789";
const TASK = "to_partner_api";
const UUID_V8 = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
/** Fast retries: the delays under test are the receiver's, not ours. */
const fast = { max_retries: 4, backoff_ms: 1 };

let dir: TestDir;
let receiver: Receiver | undefined;
beforeAll(async () => {
  dir = await testdir();
});
afterAll(() => dir.remove());
afterEach(async () => {
  await receiver?.close();
  receiver = undefined;
  clearSecrets();
});

async function receive(options: ReceiverOptions = {}): Promise<Receiver> {
  receiver = await startReceiver(options);
  return receiver;
}

interface Env {
  readonly landing: TestLanding;
  readonly upstream: Record<string, TaskSummary>;
  readonly state: StateStore;
}

let cases = 0;
/** A fresh landing zone whose upstream export published `files`. */
async function exported(files: Record<string, PublishedFile>, state: StateStore = memoryStateStore()): Promise<Env> {
  const landing = folderLanding(dir.path(`landing-${++cases}`));
  const summary = await publishPartition(landing, files);
  return { landing, upstream: { [summary.task]: summary }, state };
}

const connection = (r: Receiver): Connection => ({ id: "partner_api", host: `${r.url}/v1`, password: TOKEN, extra: {} });

function send(env: Env, options: Record<string, unknown>, extra: { connection?: Connection; log?: RecordingLogger; logicalDate?: string; signal?: AbortSignal } = {}): Promise<StepResult> {
  const ctx = stepContext({
    // As the core does: strict, with defaults.
    options: sendOptions.strict().parse(options),
    taskId: TASK,
    landing: env.landing,
    upstream: env.upstream,
    state: env.state,
    ...(extra.connection ? { connection: extra.connection } : {}),
    ...(extra.logicalDate ? { logicalDate: extra.logicalDate } : {}),
    ...(extra.signal ? { signal: extra.signal } : {}),
  });
  return apiSend.run(extra.log ? { ...ctx, log: extra.log } : ctx);
}

const bodies = (r: Receiver) => r.requests.map((q) => JSON.parse(q.body) as JsonObject);
const keys = (r: Receiver) => r.requests.map((q) => q.key);
const rejectedLines = async (summary: JsonObject | undefined) =>
  (await readFile(fileURLToPath(String(summary?.rejected_file)), "utf8"))
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as JsonObject);

describe("batches", () => {
  it("sends the records in batches of batch_size inside the body shape, one key per batch", async () => {
    const r = await receive({ recordsAt: "orders", requireKey: true });
    const env = await exported({ "part-00000.ndjson": ndjson(orders(1, 5)) });
    const result = await send(
      env,
      { path: "orders/batch", auth: { type: "bearer" }, batch_size: 2, body: { orders: "{records}", source: "xo", day: "{logical_date}" } },
      { connection: connection(r) },
    );

    expect(bodies(r)).toEqual([
      { orders: orders(1, 2), source: "xo", day: "2026-01-15" },
      { orders: orders(3, 2), source: "xo", day: "2026-01-15" },
      { orders: orders(5, 1), source: "xo", day: "2026-01-15" },
    ]);
    const first = r.requests[0]!;
    expect(first.method).toBe("POST");
    expect(first.path).toBe("/v1/orders/batch");
    // A Structured Field String, as the draft says, holding a name-based UUID (version 8).
    expect(first.rawKey).toMatch(/^"[0-9a-f-]{36}"$/);
    expect(keys(r)).toEqual([expect.stringMatching(UUID_V8), expect.stringMatching(UUID_V8), expect.stringMatching(UUID_V8)]);
    expect(new Set(keys(r)).size).toBe(3);
    expect(r.appliedIds()).toEqual([1, 2, 3, 4, 5]);
    expect(result.summary).toEqual({ records: 5, batches: 3, sent: 3, skipped: 0, rejected: 0 });
    expect(result.writes).toEqual([{ uri: `${r.url}/v1/orders/batch` }]);
    expect(result.reads).toEqual([{ uri: env.upstream.changed_orders!.summary.partition }]);
  });

  it("sends the array itself by default, with PUT and extra headers, to a full url, with a bare key if asked", async () => {
    const r = await receive({ keyFormat: "bare", requireKey: true });
    const env = await exported({ "part-00000.ndjson": ndjson(orders(1, 3)) });
    await send(env, { url: `${r.url}/import`, method: "PUT", headers: { "X-Source": "xo" }, idempotency_key: { quoted: false } });
    expect(bodies(r)).toEqual([orders(1, 3)]);
    expect(r.requests[0]).toMatchObject({ method: "PUT", path: "/import" });
    // Bare, as most APIs of today expect it.
    expect(r.requests[0]!.rawKey).toMatch(UUID_V8);
    expect(r.appliedIds()).toEqual([1, 2, 3]);
  });

  it("reads NDJSON and JSON array files in manifest order as one stream of records", async () => {
    const r = await receive();
    const env = await exported({
      "part-00000.ndjson": ndjson(orders(1, 3)),
      "part-00001.json": { text: JSON.stringify(orders(4, 2)), format: "json" },
      "part-00002.ndjson": ndjson([]),
    });
    const result = await send(env, { url: r.url, batch_size: 2 });
    expect(bodies(r)).toEqual([orders(1, 2), orders(3, 2), orders(5, 1)]);
    expect(result.summary).toMatchObject({ records: 5, batches: 3 });
  });

  it("refuses CSV before sending anything, telling to export NDJSON", async () => {
    const r = await receive();
    const env = await exported({ "part-00000.ndjson": ndjson(orders(1, 2)), "part-00001.csv": { text: "id\n3\n", format: "csv" } });
    const error = await rejectionOf(() => send(env, { url: r.url }));
    expect(error).toMatchObject({ code: "API_SEND_FORMAT", message: expect.stringMatching(/part-00001\.csv in .* is a CSV file/) });
    expect((error as { hint?: string }).hint).toMatch(/export with `format: ndjson`/);
    expect(r.requests).toHaveLength(0);
  });

  it("names the file and line of a record that is not an object", async () => {
    const r = await receive();
    const env = await exported({ "part-00000.ndjson": { text: '{"id":1}\n[1,2]\n', format: "ndjson" } });
    const error = await rejectionOf(() => send(env, { url: r.url, batch_size: 1 }));
    expect(error).toMatchObject({ code: "API_SEND_BAD_RECORD", message: expect.stringMatching(/^line 2 of part-00000\.ndjson cannot be sent: it is \[1,2\], not a JSON object/) });
  });

  it("spaces requests to stay under rate.requests_per_second", async () => {
    const r = await receive();
    const env = await exported({ "part-00000.ndjson": ndjson(orders(1, 5)) });
    const started = performance.now();
    await send(env, { url: r.url, batch_size: 1, rate: { requests_per_second: 20 } });
    expect(r.requests).toHaveLength(5);
    // Five starts 50 ms apart.
    expect(performance.now() - started).toBeGreaterThanOrEqual(195);
  });
});

describe("keys and the ledger", () => {
  it("a re-run of the date sends nothing; without the ledger it sends the same keys and the receiver replays them", async () => {
    const r = await receive();
    const env = await exported({ "part-00000.ndjson": ndjson(orders(1, 5)) });
    const options = { url: r.url, batch_size: 2 };
    await send(env, options);
    const firstKeys = keys(r);

    const again = await send(env, options);
    expect(again.summary).toEqual({ records: 5, batches: 3, sent: 0, skipped: 3, rejected: 0 });
    expect(r.requests).toHaveLength(3);

    // The ledger lost (another date's run replaced it, or state was reset): same keys, nothing applied twice.
    const lost = await send({ ...env, state: memoryStateStore() }, options);
    expect(lost.summary).toMatchObject({ sent: 3, skipped: 0 });
    expect(keys(r).slice(3)).toEqual(firstKeys);
    expect(r.requests.slice(3).map((q) => q.replayed)).toEqual([true, true, true]);
    expect(r.appliedIds()).toEqual([1, 2, 3, 4, 5]);
  });

  it("keeps the ledger in the step's state for the logical date", async () => {
    const r = await receive();
    const state = memoryStateStore();
    const env = await exported({ "part-00000.ndjson": ndjson(orders(1, 3)) }, state);
    await send(env, { url: r.url, batch_size: 2 });
    expect(state.saved.get(`send__${TASK}`)?.value).toEqual({ logicalDate: "2026-01-15", sent: keys(r) });
  });

  it("changed rows make new keys, unchanged batches keep theirs; another date makes other keys", async () => {
    const r = await receive();
    const state = memoryStateStore();
    const env = await exported({ "part-00000.ndjson": ndjson(orders(1, 4)) }, state);
    await send(env, { url: r.url, batch_size: 2 });
    const [k0, k1] = keys(r);

    const changed = orders(1, 4).map((o) => (o.id === 3 ? { ...o, status: "refunded" } : o));
    const env2 = { ...env, upstream: { changed_orders: await publishPartition(env.landing, { "part-00000.ndjson": ndjson(changed) }) } };
    const result = await send(env2, { url: r.url, batch_size: 2 });
    expect(result.summary).toMatchObject({ sent: 1, skipped: 1 });
    const k1b = keys(r)[2];
    expect(k1b).not.toBe(k1);
    expect(r.applied.at(-1)?.records).toEqual(changed.slice(2));

    await send({ ...env2, state: memoryStateStore() }, { url: r.url, batch_size: 2 }, { logicalDate: "2026-01-16" });
    expect(keys(r).slice(3)).not.toContain(k0);
    expect(keys(r).slice(3)).not.toContain(k1b);
  });
});

describe("refused records", () => {
  const refuseEven = { refuse: (o: JsonObject) => (Number(o.id) % 2 === 0 ? `order ${String(o.id)}: total must be positive (token ${TOKEN})` : undefined) };

  it("writes refused records with batch, index and reason, delivers the rest, and never writes a secret", async () => {
    const r = await receive(refuseEven);
    const env = await exported({ "part-00000.ndjson": ndjson(orders(1, 5)) });
    const result = await send(
      env,
      { path: "orders", auth: { type: "bearer" }, batch_size: 2, rejected: { path: "errors", index: "index", message: "message" }, max_rejected: null },
      { connection: connection(r) },
    );
    expect(result.summary).toMatchObject({ records: 5, sent: 3, rejected: 2, rejected_file: expect.stringMatching(/\/rejected\/test_pipeline\/to_partner_api\/incremental\/date=2026-01-15\/rejected\.ndjson$/) });
    const lines = await rejectedLines(result.summary);
    expect(lines).toEqual([
      { batch: 0, index: 1, key: keys(r)[0], error: "order 2: total must be positive (token ***)", record: orders(2, 1)[0] },
      { batch: 1, index: 1, key: keys(r)[1], error: "order 4: total must be positive (token ***)", record: orders(4, 1)[0] },
    ]);
    expect(JSON.stringify(lines)).not.toContain(TOKEN);
    expect(r.appliedIds()).toEqual([1, 3, 5]);
  });

  it("reads refusals from a 200 too", async () => {
    const r = await receive({ ...refuseEven, refuseStatus: 200 });
    const env = await exported({ "part-00000.ndjson": ndjson(orders(1, 4)) });
    const result = await send(env, { url: r.url, batch_size: 4, rejected: {}, max_rejected: 5 });
    expect((await rejectedLines(result.summary)).map((l) => [l.batch, l.index])).toEqual([[0, 1], [0, 3]]);
  });

  it("refuses the whole batch on a 422 without a list", async () => {
    const r = await receive();
    r.fault({ phase: "refuse", status: 422, body: { title: "Unprocessable", detail: "schema v2 expected" } }, { skip: 1 });
    const env = await exported({ "part-00000.ndjson": ndjson(orders(1, 5)) });
    const result = await send(env, { url: r.url, batch_size: 2, max_rejected: null });
    expect(result.summary).toMatchObject({ sent: 3, rejected: 2 });
    const lines = await rejectedLines(result.summary);
    expect(lines.map((l) => [l.batch, l.index, (l.record as JsonObject).id])).toEqual([[1, 0, 3], [1, 1, 4]]);
    expect(lines[0]!.error).toMatch(/^HTTP 422 Unprocessable Entity: \{"title":"Unprocessable","detail":"schema v2 expected"\}$/);
    expect(r.appliedIds()).toEqual([1, 2, 5]);
  });

  it("fails after the whole delivery by default (max_rejected 0), and a re-run keeps the file and the verdict", async () => {
    const r = await receive(refuseEven);
    const env = await exported({ "part-00000.ndjson": ndjson(orders(1, 6)) });
    const options = { url: r.url, batch_size: 2, rejected: {} };
    const error = await rejectionOf(() => send(env, options));
    expect(error).toMatchObject({ code: "API_SEND_TOO_MANY_REJECTED", message: expect.stringMatching(/^the API refused 3 of 6 records \(max_rejected: 0\); every other record was delivered/) });
    expect(r.appliedIds()).toEqual([1, 3, 5]);
    const file = /in (file:\S+rejected\.ndjson)/.exec(error.message)![1]!;
    const before = await readFile(fileURLToPath(file), "utf8");
    expect(before.split("\n").filter(Boolean)).toHaveLength(3);

    // An Airflow retry of the task: nothing is sent again, the refusals stay, and so does the failure.
    const again = await rejectionOf(() => send(env, options));
    expect(again).toMatchObject({ code: "API_SEND_TOO_MANY_REJECTED" });
    expect(r.requests).toHaveLength(3);
    expect(await readFile(fileURLToPath(file), "utf8")).toBe(before);
  });

  it("fails with the fix when an item names no record of the batch", async () => {
    const r = await receive({ refuse: () => "no" });
    const env = await exported({ "part-00000.ndjson": ndjson(orders(1, 2)) });
    const error = await rejectionOf(() => send(env, { url: r.url, rejected: { index: "position" } }));
    expect(error).toMatchObject({ code: "API_SEND_REJECTED_UNREADABLE", message: expect.stringMatching(/item 0 of `errors` in the response has nothing at `position`/) });
  });
});

describe("retries with idempotency keys", () => {
  it("retries 429 after Retry-After, a 500 and a cut connection, and the receiver applies each batch once", async () => {
    const r = await receive();
    r.fault({ phase: "before", status: 429, retryAfter: "1" });
    r.fault({ phase: "after", status: 500 });
    r.fault({ phase: "after", drop: true }, { skip: 1 });
    const env = await exported({ "part-00000.ndjson": ndjson(orders(1, 4)) });
    const log = recordingLogger();
    const started = performance.now();
    const result = await send(env, { url: r.url, batch_size: 2, ...fast }, { log });
    expect(performance.now() - started).toBeGreaterThanOrEqual(950);
    expect(result.summary).toMatchObject({ sent: 2, rejected: 0 });
    expect(r.requests.map((q) => [q.status, q.replayed])).toEqual([
      [429, false],
      [500, false],
      [200, true],
      [0, false],
      [200, true],
    ]);
    expect(new Set(keys(r)).size).toBe(2);
    expect(r.appliedIds()).toEqual([1, 2, 3, 4]);
    expect(log.warnings[0]).toMatch(/^POST http:\/\/127\.0\.0\.1:\d+\/ failed with HTTP 429 Too Many Requests; retry 1 of 4 in 1000 ms$/);
  });

  it("waits out a 409 while a timed-out first attempt is still processed, then gets its result", async () => {
    const r = await receive({ processingMs: 400 });
    const env = await exported({ "part-00000.ndjson": ndjson(orders(1, 2)) });
    const result = await send(env, { url: r.url, timeout_ms: 150, max_retries: 10, backoff_ms: 50 });
    expect(result.summary).toMatchObject({ sent: 1 });
    expect(r.requests.map((q) => q.status)).toContain(409);
    expect(r.requests.at(-1)).toMatchObject({ status: 200, replayed: true });
    expect(r.appliedIds()).toEqual([1, 2]);
  });

  it("gives up after max_retries with API_SEND_FAILED, and the re-run delivers with the same key", async () => {
    const r = await receive();
    r.fault({ phase: "before", status: 502 }, { times: 3, skip: 1 });
    const env = await exported({ "part-00000.ndjson": ndjson(orders(1, 4)) });
    const error = await rejectionOf(() => send(env, { url: r.url, batch_size: 2, max_retries: 2, backoff_ms: 1 }));
    expect(error).toMatchObject({ code: "API_SEND_FAILED", message: expect.stringMatching(/^POST http:\/\/127\.0\.0\.1:\d+\/ for batch 1 \(records 2-3, key [0-9a-f-]{36}\): HTTP 502 Bad Gateway after 3 attempts/) });
    const failedKey = keys(r)[1];
    const result = await send(env, { url: r.url, batch_size: 2 });
    expect(result.summary).toMatchObject({ sent: 1, skipped: 1 });
    expect(keys(r).at(-1)).toBe(failedKey);
    expect(r.appliedIds()).toEqual([1, 2, 3, 4]);
  });
});

describe("retries without idempotency keys", () => {
  it("retries 503 and 429, which the API did not process, and sends no key", async () => {
    const r = await receive();
    r.fault({ phase: "before", status: 503 });
    r.fault({ phase: "before", status: 429, retryAfter: "0" });
    const env = await exported({ "part-00000.ndjson": ndjson(orders(1, 2)) });
    await send(env, { url: r.url, idempotency_key: false, ...fast });
    expect(r.requests.map((q) => q.status)).toEqual([503, 429, 200]);
    expect(r.requests.every((q) => q.rawKey === undefined)).toBe(true);
    expect(r.appliedIds()).toEqual([1, 2]);
  });

  it("does not retry a 500, which may hide an applied batch, and says to check before re-running", async () => {
    const r = await receive();
    r.fault({ phase: "after", status: 500 }, { skip: 1 });
    const env = await exported({ "part-00000.ndjson": ndjson(orders(1, 4)) });
    const error = await rejectionOf(() => send(env, { url: r.url, batch_size: 2, idempotency_key: false, ...fast }));
    expect(error).toMatchObject({ code: "API_SEND_UNCERTAIN", message: expect.stringMatching(/batch 1 \(records 2-3, key .*\): .*HTTP 500 Internal Server Error.*It was not retried: without an idempotency key a retry could apply it twice/) });
    expect(r.requests).toHaveLength(2);
    expect(r.appliedIds()).toEqual([1, 2, 3, 4]);
  });

  it("does not retry a connection cut after the request went out", async () => {
    const r = await receive();
    r.fault({ phase: "after", drop: true });
    const env = await exported({ "part-00000.ndjson": ndjson(orders(1, 2)) });
    const error = await rejectionOf(() => send(env, { url: r.url, idempotency_key: false, ...fast }));
    expect(error).toMatchObject({ code: "API_SEND_UNCERTAIN" });
    expect(r.requests).toHaveLength(1);
  });

  it("retries a refused connection, which sent nothing", async () => {
    const env = await exported({ "part-00000.ndjson": ndjson(orders(1, 2)) });
    const log = recordingLogger();
    const error = await rejectionOf(() => send(env, { url: "http://127.0.0.1:1/x", idempotency_key: false, max_retries: 2, backoff_ms: 1 }, { log }));
    expect(error).toMatchObject({ code: "API_SEND_FAILED", message: expect.stringMatching(/ECONNREFUSED.*\(3 attempts\)/) });
    expect(log.warnings).toHaveLength(2);
  });
});

describe("refusals that fail the task", () => {
  it("fails at once on 401, naming the connection and never the token", async () => {
    const r = await receive();
    r.fault({ phase: "before", status: 401 });
    const env = await exported({ "part-00000.ndjson": ndjson(orders(1, 2)) });
    const error = await rejectionOf(() => send(env, { path: "orders", auth: { type: "bearer" }, ...fast }, { connection: connection(r) }));
    expect(error).toMatchObject({ code: "API_SEND_REFUSED", message: expect.stringMatching(/HTTP 401 Unauthorized/) });
    expect((error as { hint?: string }).hint).toMatch(/credentials/);
    expect(r.requests).toHaveLength(1);
    expect(error.message).not.toContain(TOKEN);
  });

  it("does not follow a redirect, which would turn the POST into a GET", async () => {
    const r = await receive();
    r.fault({ phase: "before", status: 302, headers: { location: "/elsewhere" } });
    const env = await exported({ "part-00000.ndjson": ndjson(orders(1, 2)) });
    const error = await rejectionOf(() => send(env, { url: r.url }));
    expect(error).toMatchObject({ code: "API_SEND_REFUSED", message: expect.stringMatching(/redirected \(HTTP 302 Found\) to \/elsewhere/) });
    expect(r.requests).toHaveLength(1);
  });

  it("tells to lower batch_size on 413", async () => {
    const r = await receive();
    r.fault({ phase: "before", status: 413 });
    const env = await exported({ "part-00000.ndjson": ndjson(orders(1, 2)) });
    const error = await rejectionOf(() => send(env, { url: r.url }));
    expect((error as { hint?: string }).hint).toMatch(/lower `batch_size`/);
  });

  it("explains a path without a connection", async () => {
    const env = await exported({ "part-00000.ndjson": ndjson(orders(1, 2)) });
    const error = await rejectionOf(() => send(env, { path: "orders" }));
    expect(error).toMatchObject({ code: "API_SEND_CONNECTION", message: expect.stringMatching(/no base URL: set `url` in the step's `with:` instead of `path`/) });
  });

  it("stops when the task is cancelled mid-delivery", async () => {
    const r = await receive({ processingMs: 5_000 });
    const env = await exported({ "part-00000.ndjson": ndjson(orders(1, 2)) });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const error = await rejectionOf(() => send(env, { url: r.url }, { signal: controller.signal }));
    expect(error.name).toBe("AbortError");
  });
});

describe("a run killed mid-delivery", () => {
  it("re-run after SIGKILL: every record is applied exactly once", async () => {
    const r = await receive({ recordsAt: "orders" });
    const landingDir = dir.path(`landing-${++cases}`);
    const landing = folderLanding(landingDir);
    const summary = await publishPartition(landing, { "part-00000.ndjson": ndjson(orders(1, 10)) });
    const stateFile = dir.path(`state-${cases}.json`);
    const options = { path: "orders", auth: { type: "bearer" }, batch_size: 2, body: { orders: "{records}" } };
    const input: ChildInput = { landingDir, stateFile, upstream: { changed_orders: summary }, options, connection: connection(r), taskId: TASK };

    // The third batch is applied and its answer held: the child dies between the API's commit and its ledger write.
    r.fault({ phase: "after", hold: true }, { skip: 2 });
    const applied = new Promise<void>((resolve) => r.onApplied((n) => n === 3 && resolve()));
    const runner = fileURLToPath(new URL("./__fixtures__/run-ts.mjs", import.meta.url));
    const script = fileURLToPath(new URL("./__fixtures__/send-child.ts", import.meta.url));
    const child = spawn(process.execPath, [runner, script, JSON.stringify(input)], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const exited = once(child, "exit");
    await Promise.race([applied, exited.then(() => Promise.reject(new Error(`the child ended before the third batch: ${output}`)))]);
    child.kill("SIGKILL");
    const [code, signal] = (await exited) as [number | null, NodeJS.Signals | null];
    expect([code, signal]).toEqual([null, "SIGKILL"]);
    expect(output).toBe("");

    const state = fileStateStore(stateFile);
    const ledger = (await state.get(`send__${TASK}`))?.value;
    expect(ledger).toEqual({ logicalDate: "2026-01-15", sent: keys(r).slice(0, 2) });
    expect(r.appliedIds()).toEqual([1, 2, 3, 4, 5, 6]);

    const result = await send({ landing, upstream: input.upstream, state }, options, { connection: connection(r) });
    expect(result.summary).toEqual({ records: 10, batches: 5, sent: 3, skipped: 2, rejected: 0 });
    // The batch the killed run sent went again with its key, and was replayed, not applied.
    expect(r.requests[3]).toMatchObject({ key: keys(r)[2], replayed: true, status: 200 });
    expect(r.appliedIds()).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });
});

it("reports XO errors of core as they are", async () => {
  const env = await exported({ "part-00000.ndjson": ndjson(orders(1, 1)) });
  const error = await rejectionOf(() => send({ ...env, upstream: {} }, { url: "http://127.0.0.1:1" }));
  expect(isXoError(error)).toBe(true);
});
