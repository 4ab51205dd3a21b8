/**
 * OpenLineage events, sent to a receiver on loopback that checks each one against the
 * official JSON Schema and answers as Marquez does (__fixtures__/openlineage_receiver.ts).
 * Emulated: the backend (no Marquez here); the events, the HTTP client and the pipeline
 * runs are real.
 */
import { afterEach, describe, expect, it } from "vitest";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { clearSecrets, loadPipeline, openProject, registerSecret, type ResolvedPipeline } from "@xo-foundry/core";
import { testdir, type TestDir } from "@xo-foundry/testkit";
import { lineageEmitter, OPENLINEAGE_PRODUCER, staticUuid } from "./lineage.js";
import { consoleLogger } from "./log.js";
import { runPipeline } from "./run.js";
import { fixturePlugins, type Recorder } from "./__fixtures__/plugins.js";
import { openLineageReceiver, type OpenLineageReceiver } from "./__fixtures__/openlineage_receiver.js";

const quiet = consoleLogger({ write: () => {} });
let dir: TestDir | undefined;
let receiver: OpenLineageReceiver | undefined;
afterEach(async () => {
  await receiver?.close();
  await dir?.remove();
  receiver = dir = undefined;
  clearSecrets();
});

async function shop(streams: string) {
  dir = await testdir({
    "pipeline.yaml": `pipeline:\n  name: shop\n  dag_id: shop_daily\n  start_date: 2026-01-01\nsource:\n  plugin: pages\n  streams:\n${streams}sink:\n  plugin: memory\nlanding:\n  uri: file://landing\n`,
  });
  const recorder: Recorder = { loads: [], events: [] };
  const project = await openProject(dir.dir, { discover: false, plugins: fixturePlugins(recorder) });
  const { pipeline, diagnostics } = await loadPipeline(dir.path("pipeline.yaml"), project);
  expect(diagnostics).toEqual([]);
  return { project, pipeline: pipeline as ResolvedPipeline };
}

function warnings() {
  const lines: string[] = [];
  return { lines, log: consoleLogger({ write: (line) => void lines.push(line), verbose: true }) };
}

const byTask = (r: OpenLineageReceiver) => {
  const out: Record<string, string[]> = {};
  for (const { event } of r.events) (out[event.job.name] ??= []).push(event.eventType);
  return out;
};

describe("OpenLineage events of a pipeline run", () => {
  it("sends a valid START and COMPLETE per task, with the landing folder and the table named by the conventions", async () => {
    const { project, pipeline } = await shop("    - name: a\n    - name: b\n");
    receiver = await openLineageReceiver();
    const env = { ...process.env, OPENLINEAGE_URL: receiver.url, OPENLINEAGE_NAMESPACE: "xo-test" };
    const summary = await runPipeline({ pipeline, project, logicalDate: "2026-01-15", runId: "manual__1", log: quiet, env, concurrency: 1 });
    expect(summary.ok).toBe(true);

    expect(receiver.refused).toEqual([]);
    expect(byTask(receiver)).toEqual({
      "shop_daily.extract_a": ["START", "COMPLETE"],
      "shop_daily.load_a": ["START", "COMPLETE"],
      "shop_daily.extract_b": ["START", "COMPLETE"],
      "shop_daily.load_b": ["START", "COMPLETE"],
    });
    const events = receiver.events.map((r) => r.event);
    for (const e of events) {
      expect(e).toMatchObject({ producer: OPENLINEAGE_PRODUCER, job: { namespace: "xo-test", facets: { jobType: { processingType: "BATCH", integration: "XO_FOUNDRY", jobType: "TASK" } } } });
      expect(e.run.facets.parent).toMatchObject({ job: { namespace: "xo-test", name: "shop_daily" }, run: { runId: events[0].run.facets.parent.run.runId } });
    }
    // Every facet was checked against its own schema, not only the event's.
    expect(receiver.events[0]!.facets.map((f) => f.split(" ")[0]).sort()).toEqual(["jobType", "parent", "processing_engine"]);

    const [start, complete] = events.filter((e) => e.job.name === "shop_daily.load_a");
    expect(start.run.runId).toBe(complete.run.runId);
    expect(new Set(events.map((e) => e.run.runId)).size).toBe(4);
    const landing = { namespace: "file", name: `${dir!.dir}/landing/stage/shop/a` };
    expect(complete.inputs).toEqual([landing]);
    expect(complete.outputs).toEqual([{ namespace: "memory://main", name: "a" }]);
    expect(events.find((e) => e.job.name === "shop_daily.extract_a" && e.eventType === "COMPLETE").outputs).toEqual([landing]);
  });

  it("sends FAIL with the error message for a failing task, and nothing for a task that never ran", async () => {
    const { project, pipeline } = await shop("    - name: bad\n      fail: true\n    - name: good\n");
    receiver = await openLineageReceiver();
    const summary = await runPipeline({ pipeline, project, logicalDate: "2026-01-15", log: quiet, env: { ...process.env, OPENLINEAGE_URL: receiver.url } });
    expect(summary.ok).toBe(false);
    expect(receiver.refused).toEqual([]);
    expect(byTask(receiver)).toEqual({
      "shop_daily.extract_bad": ["START", "FAIL"],
      "shop_daily.extract_good": ["START", "COMPLETE"],
      "shop_daily.load_good": ["START", "COMPLETE"],
    });
    const fail = receiver.events.find((r) => r.event.eventType === "FAIL")!;
    expect(fail.event.job.namespace).toBe("default");
    expect(fail.event.run.facets.errorMessage).toMatchObject({ message: expect.stringContaining("source exploded"), programmingLanguage: "JavaScript" });
    expect(fail.facets.map((f) => f.split(" ")[0]).sort()).toEqual(["errorMessage", "jobType", "parent", "processing_engine"]);
  });
});

describe("lineageEmitter", () => {
  const pipeline = { config: { pipeline: { name: "shop", dag_id: "shop_daily" }, sinks: {} } } as unknown as ResolvedPipeline;
  const emitter = (env: NodeJS.ProcessEnv, log = quiet, timeoutMs?: number) =>
    lineageEmitter({ env, log, pipeline, runId: "scheduled__2026-01-15T00:00:00+00:00", logicalDate: "2026-01-15", ...(timeoutMs ? { timeoutMs } : {}) });

  it("is off without OPENLINEAGE_URL, and when OPENLINEAGE_DISABLED is true", async () => {
    receiver = await openLineageReceiver();
    expect(emitter({}).enabled).toBe(false);
    const disabled = emitter({ OPENLINEAGE_URL: receiver.url, OPENLINEAGE_DISABLED: "TRUE" });
    expect(disabled.enabled).toBe(false);
    await disabled.start("t");
    expect(receiver.events).toEqual([]);
  });

  it("posts to OPENLINEAGE_ENDPOINT with the API key as a bearer token", async () => {
    receiver = await openLineageReceiver({ endpoint: "/custom/lineage", apiKey: "k3y-for-tests" });
    const e = emitter({ OPENLINEAGE_URL: `${receiver.url}/ignored`, OPENLINEAGE_ENDPOINT: "/custom/lineage", OPENLINEAGE_API_KEY: "k3y-for-tests" });
    await e.start("load_orders");
    await e.complete("load_orders", { reads: [{ uri: "s3://lake/landing/stage/shop/orders/incremental/date=2026-01-15" }], writes: [{ uri: "sftp://bob:pw12345@partner:2222/in/o.csv?sig=abc" }] });
    expect(receiver.refused).toEqual([]);
    expect(receiver.events.map((r) => r.headers.authorization)).toEqual(["Bearer k3y-for-tests", "Bearer k3y-for-tests"]);
    const done = receiver.events[1]!.event;
    expect(done.inputs).toEqual([{ namespace: "s3://lake", name: "landing/stage/shop/orders" }]);
    // Never credentials nor query strings in a dataset name.
    expect(done.outputs).toEqual([{ namespace: "sftp://partner:2222", name: "/in/o.csv" }]);
  });

  it("derives run ids from the run, the same for START and its end, another per task and per try", async () => {
    receiver = await openLineageReceiver();
    const env = { OPENLINEAGE_URL: receiver.url };
    await emitter(env).start("a");
    await emitter(env).fail("a", "boom");
    await emitter({ ...env, AIRFLOW_CTX_TRY_NUMBER: "2" }).start("a");
    await emitter(env).start("b");
    const ids = receiver.events.map((r) => r.event.run.runId);
    expect(ids[0]).toBe(ids[1]);
    expect(new Set(ids).size).toBe(3);
    expect(ids[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    // Version 7 layout: the logical date's milliseconds come first.
    expect(parseInt(ids[0]!.replace(/-/g, "").slice(0, 12), 16)).toBe(Date.parse("2026-01-15T00:00:00Z"));
    expect(staticUuid(0, ["x"])).toBe(staticUuid(0, ["x"]));
    expect(staticUuid(0, ["x"])).not.toBe(staticUuid(0, ["y"]));
  });

  it("redacts secrets from the error message", async () => {
    receiver = await openLineageReceiver();
    registerSecret("s3cr3t-token-value");
    await emitter({ OPENLINEAGE_URL: receiver.url }).fail("a", "login refused for token s3cr3t-token-value");
    expect(receiver.events[0]!.event.run.facets.errorMessage.message).toBe("login refused for token ***");
  });

  it("warns once and stops sending when the backend is unreachable, without failing or waiting", async () => {
    const { lines, log } = warnings();
    const e = emitter({ OPENLINEAGE_URL: "http://127.0.0.1:9" }, log);
    const started = performance.now();
    await e.start("a");
    await e.complete("a", { reads: [], writes: [] });
    await emitter({ OPENLINEAGE_URL: "http://127.0.0.1:9" }, log).start("b");
    expect(performance.now() - started).toBeLessThan(3_000);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/OpenLineage: START event of a not sent to http:\/\/127\.0\.0\.1:9\/api\/v1\/lineage: .*no more lineage events are sent by this process/);
  });

  it("gives a backend that does not answer a short time, and hides its credentials in the warning", async () => {
    const sockets = new Set<import("node:net").Socket>();
    const stalled = createServer(() => {});
    stalled.on("connection", (s) => sockets.add(s));
    await new Promise<void>((resolve) => stalled.listen(0, "127.0.0.1", resolve));
    const { port } = stalled.address() as AddressInfo;
    try {
      const { lines, log } = warnings();
      const started = performance.now();
      await emitter({ OPENLINEAGE_URL: `http://ol-user:pw-of-ol-user@127.0.0.1:${port}` }, log, 300).start("a");
      expect(performance.now() - started).toBeLessThan(2_000);
      expect(lines.join("\n")).toMatch(/no answer within 300 ms/);
      expect(lines.join("\n")).not.toContain("pw-of-ol-user");
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => stalled.close(() => resolve()));
    }
  });

  it("keeps sending after the backend refused one event", async () => {
    // A backend that refuses the first event as invalid (400) and takes the next ones.
    let requests = 0;
    const picky = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        res.writeHead(requests++ === 0 ? 400 : 201);
        res.end(requests === 1 ? "bad event" : undefined);
      });
    });
    await new Promise<void>((resolve) => picky.listen(0, "127.0.0.1", resolve));
    const { port } = picky.address() as AddressInfo;
    try {
      const { lines, log } = warnings();
      await emitter({ OPENLINEAGE_URL: `http://127.0.0.1:${port}` }, log).start("a");
      await emitter({ OPENLINEAGE_URL: `http://127.0.0.1:${port}` }, log).start("b");
      expect(requests).toBe(2);
      expect(lines).toEqual([expect.stringMatching(/START event of a not sent to .*: HTTP 400 \(bad event\)$/)]);
    } finally {
      await new Promise<void>((resolve) => picky.close(() => resolve()));
    }
  });
});

describe("the OpenLineage receiver", () => {
  it("refuses an invalid event with 400, as Marquez does", async () => {
    receiver = await openLineageReceiver();
    const post = (body: unknown) =>
      fetch(`${receiver!.url}/api/v1/lineage`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    const bad = await post({ eventType: "START", eventTime: "yesterday", producer: "xo", schemaURL: "x", run: { runId: "not-a-uuid" }, job: { namespace: "n" } });
    expect(bad.status).toBe(400);
    expect(receiver.refused).toHaveLength(1);
    expect(receiver.refused[0]!.errors.join("\n")).toMatch(/runId|name|date-time/);
    const badFacet = await post({
      eventType: "START",
      eventTime: "2026-01-15T00:00:00Z",
      producer: "https://example.invalid/p",
      schemaURL: "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
      run: { runId: "01890a5d-ac96-774b-b9aa-1f4d6c9d1b2a" },
      job: { namespace: "n", name: "j", facets: { jobType: { _producer: "https://example.invalid/p", _schemaURL: "https://openlineage.io/spec/facets/2-0-4/JobTypeJobFacet.json#/$defs/JobTypeJobFacet", jobType: "TASK" } } },
    });
    expect(badFacet.status).toBe(400);
    expect(receiver.refused[1]!.errors.join("\n")).toMatch(/jobType.*processingType/);
    expect(receiver.events).toEqual([]);
  });
});
