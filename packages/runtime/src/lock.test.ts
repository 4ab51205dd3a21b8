/**
 * Partition locks through the runtime: two runs of one pipeline and date in this
 * process, the file:// landing zone on a real disk, and lock objects written by hand
 * where a test needs a holder that is dead, stalled or on another machine.
 */
import { afterEach, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { readlinkSync } from "node:fs";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { loadPipeline, openProject, type Diagnostic, type ResolvedPipeline } from "@xo-foundry/core";
import { testdir, type TestDir } from "@xo-foundry/testkit";
import { consoleLogger } from "./log.js";
import { runPipeline } from "./run.js";
import { runTask } from "./task.js";
import { fixturePlugins, type Recorder } from "./__fixtures__/plugins.js";

let dir: TestDir;
afterEach(() => dir?.remove());

const DATE = "2026-01-15";
const PARTITION = "shop/a/incremental/date=2026-01-15";
const quiet = consoleLogger({ write: () => {} });

async function setup(streams = "    - name: a\n      pages: 3\n") {
  dir = await testdir({
    "pipeline.yaml": `pipeline:\n  name: shop\n  start_date: 2026-01-01\nsource:\n  plugin: pages\n  streams:\n${streams}sink:\n  plugin: memory\nlanding:\n  uri: file://landing\n`,
  });
  const recorder: Recorder = { loads: [], events: [] };
  const project = await openProject(dir.dir, { discover: false, plugins: fixturePlugins(recorder) });
  const { pipeline, diagnostics } = await loadPipeline(dir.path("pipeline.yaml"), project);
  expect(diagnostics).toEqual([]);
  return { recorder, project, pipeline: pipeline as ResolvedPipeline };
}

/** Holds the first extract after its first page until `release()`; later extracts pass. */
function holdFirst(recorder: Recorder) {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let calls = 0;
  recorder.hold = () => (++calls === 1 ? gate : Promise.resolve());
  return release;
}

async function until(check: () => boolean | Promise<boolean>, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A lock object as another process would have left it. */
async function plantLock(fields: { host?: string; pid?: number; expiresInMs: number; runId?: string; task?: string }) {
  const folder = dir.path(`landing/locks/${PARTITION}`);
  await mkdir(folder, { recursive: true });
  const now = Date.now();
  await writeFile(
    path.join(folder, "lock-000000000001.json"),
    JSON.stringify({
      version: 1,
      generation: 1,
      token: "planted",
      pipeline: "shop",
      stream: "a",
      partition: "incremental/date=2026-01-15",
      runId: fields.runId ?? "scheduled__2026-01-15T00:00:00+00:00",
      task: fields.task ?? "extract_a",
      host: fields.host ?? os.hostname(),
      pid: fields.pid ?? process.pid,
      // What a process of this machine records (Linux), so the holder's pid can be judged here.
      ...(fields.host === undefined ? { pidNamespace: readlinkSync("/proc/self/ns/pid") } : {}),
      acquiredAt: new Date(now - 60_000).toISOString(),
      heartbeatAt: new Date(now - 1_000).toISOString(),
      expiresAt: new Date(now + fields.expiresInMs).toISOString(),
    }),
  );
}

/** The pid of a process that has exited. */
const deadPid = () => spawnSync(process.execPath, ["-e", ""]).pid!;

describe("two runs of one pipeline and date", () => {
  it("with the same run id do not delete each other's files: the second waits for the first", async () => {
    const { recorder, project, pipeline } = await setup();
    const release = holdFirst(recorder);
    const env = { XO_LOCK_WAIT_SECONDS: "30" };
    const first = runPipeline({ pipeline, project, logicalDate: DATE, log: quiet, env });
    await until(() => recorder.events.includes("extract:a:held"));
    const second = runPipeline({ pipeline, project, logicalDate: DATE, log: quiet, env });
    // Without a lock the second run replaces the first one's ingest folder under its open part file here.
    await Promise.race([second, sleep(500)]);
    release();
    const [a, b] = await Promise.all([first, second]);
    expect(a.tasks.map((t) => [t.task, t.state, t.error])).toEqual([
      ["extract_a", "success", undefined],
      ["load_a", "success", undefined],
    ]);
    expect(b.ok).toBe(true);
    expect(recorder.loads.map((l) => l.manifest.rows)).toEqual([9, 9]);
    for (const load of recorder.loads) {
      const ids = (await readFile(load.files[0]!, "utf8")).trim().split("\n").map((l) => (JSON.parse(l) as { id: number }).id);
      expect(ids).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    }
  });

  it("refuses the second with a message naming the holder and how to clear the lock, when it may not wait", async () => {
    const { recorder, project, pipeline } = await setup();
    const release = holdFirst(recorder);
    const first = runPipeline({ pipeline, project, logicalDate: DATE, runId: "scheduled__1", log: quiet });
    await until(() => recorder.events.includes("extract:a:held"));
    const second = await runPipeline({ pipeline, project, logicalDate: DATE, runId: "manual__2", log: quiet, env: { XO_LOCK_WAIT_SECONDS: "0" } });
    release();
    expect((await first).ok).toBe(true);
    expect(second.ok).toBe(false);
    const [diagnostic] = second.tasks.find((t) => t.task === "extract_a")!.error as readonly Diagnostic[];
    expect(diagnostic).toMatchObject({ code: "XO_LANDING_LOCKED" });
    expect(diagnostic!.message).toMatch(
      new RegExp(
        `^task "extract_a" of run "manual__2" cannot start: stream "a" partition incremental/date=2026-01-15 is in use by run "scheduled__1" \\(task "extract_a", pid ${process.pid} on ${os.hostname()}, since .+, last heartbeat .+\\)`,
      ),
    );
    expect(diagnostic!.hint).toContain(`file://${dir.path(`landing/locks/${PARTITION}`)}`);
    expect(diagnostic!.hint).toMatch(/expires by itself at .+Z/);
  });
});

describe("a live holder", () => {
  it("keeps its lock past the time to live by its heartbeat", async () => {
    const { recorder, project, pipeline } = await setup();
    const release = holdFirst(recorder);
    const env = { XO_LOCK_TTL_SECONDS: "0.4" };
    const first = runTask({ pipeline, project, taskId: "extract_a", logicalDate: DATE, runId: "long", log: quiet, env });
    await until(() => recorder.events.includes("extract:a:held"));
    await sleep(1_200);
    await expect(runTask({ pipeline, project, taskId: "extract_a", logicalDate: DATE, runId: "late", log: quiet, env: { ...env, XO_LOCK_WAIT_SECONDS: "0" } })).rejects.toMatchObject({
      diagnostics: [expect.objectContaining({ code: "XO_LANDING_LOCKED", message: expect.stringContaining('in use by run "long"') })],
    });
    release();
    expect((await first).manifest?.rows).toBe(9);
  });
});

describe("a lock whose holder is gone", () => {
  it("is taken over at once when its process on this machine is dead (a killed attempt, retried)", async () => {
    const { project, pipeline } = await setup();
    await plantLock({ pid: deadPid(), expiresInMs: 10 * 60_000, runId: "r1" });
    const lines: string[] = [];
    const started = Date.now();
    const outcome = await runTask({ pipeline, project, taskId: "extract_a", logicalDate: DATE, runId: "r1", log: consoleLogger({ write: (l) => lines.push(l) }), env: { XO_LOCK_WAIT_SECONDS: "0" } });
    expect(outcome.manifest?.rows).toBe(9);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(lines.join("\n")).toMatch(/taking over the lock of run "r1" \(task "extract_a", pid \d+ on .+\): its process is gone/);
  });

  it("on another machine is taken over once it expires, so a retry is never blocked for good", async () => {
    const { project, pipeline } = await setup();
    await plantLock({ host: "worker-7.example", pid: 4242, expiresInMs: 1_500 });
    const started = Date.now();
    const outcome = await runTask({ pipeline, project, taskId: "extract_a", logicalDate: DATE, runId: "r2", log: quiet, env: { XO_LOCK_WAIT_SECONDS: "20" } });
    expect(outcome.manifest?.rows).toBe(9);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
  });

  it("on another machine that still heartbeats makes the task give up after its wait", async () => {
    const { project, pipeline } = await setup();
    await plantLock({ host: "worker-7.example", pid: 4242, expiresInMs: 60_000 });
    await expect(runTask({ pipeline, project, taskId: "extract_a", logicalDate: DATE, runId: "r3", log: quiet, env: { XO_LOCK_WAIT_SECONDS: "0.3" } })).rejects.toMatchObject({
      diagnostics: [expect.objectContaining({ code: "XO_LANDING_LOCKED", message: expect.stringContaining("pid 4242 on worker-7.example") })],
    });
  });
});

describe("a task that lost its lock", () => {
  it("does not publish over the run that took the partition over", async () => {
    const { recorder, project, pipeline } = await setup();
    const release = holdFirst(recorder);
    const first = runTask({ pipeline, project, taskId: "extract_a", logicalDate: DATE, runId: "slow", log: quiet });
    await until(() => recorder.events.includes("extract:a:held"));
    // Another run decided this holder was dead and took the partition over.
    const folder = dir.path(`landing/locks/${PARTITION}`);
    const mine = JSON.parse(await readFile(path.join(folder, "lock-000000000001.json"), "utf8")) as Record<string, unknown>;
    await writeFile(path.join(folder, "lock-000000000002.json"), JSON.stringify({ ...mine, generation: 2, token: "thief", runId: "fast", pid: 4242, host: "worker-7.example" }));
    release();
    await expect(first).rejects.toMatchObject({ diagnostics: [expect.objectContaining({ code: "XO_LANDING_LOCK_LOST" })] });
    expect(await readdir(dir.path("landing"))).not.toContain("stage");
  });
});

describe("stale temporaries", () => {
  it("of any run are removed when the partition is published; finished files of other runs stay", async () => {
    const uuid = "0b0f6a4e-3a53-4a55-9d6b-6a4b1e2c7d10";
    const { project, pipeline } = await setup();
    dir = dir as TestDir;
    const ingest = `landing/ingest/${PARTITION}`;
    await mkdir(dir.path(`${ingest}/run=killed__1`), { recursive: true });
    await writeFile(dir.path(`${ingest}/run=killed__1/part-00000.ndjson`), '{"id":0}\n');
    await writeFile(dir.path(`${ingest}/run=killed__1/part-00001.ndjson.${uuid}.tmp`), '{"id":');
    const summary = await runPipeline({ pipeline, project, logicalDate: DATE, runId: "manual__2", log: quiet });
    expect(summary.ok).toBe(true);
    expect(await readdir(dir.path(`${ingest}/run=killed__1`))).toEqual(["part-00000.ndjson"]);
    expect(await readdir(dir.path(`${ingest}/run=manual__2`))).toEqual(["part-00000.ndjson"]);
  });
});

describe("the lock objects", () => {
  it("are released when the task ends, so the next run takes the lock without waiting", async () => {
    const { project, pipeline } = await setup();
    await runTask({ pipeline, project, taskId: "extract_a", logicalDate: DATE, runId: "r1", log: quiet });
    const started = Date.now();
    await runTask({ pipeline, project, taskId: "load_a", logicalDate: DATE, runId: "r1", log: quiet, env: { XO_LOCK_WAIT_SECONDS: "0" } });
    expect(Date.now() - started).toBeLessThan(2_000);
    const folder = dir.path(`landing/locks/${PARTITION}`);
    // Older generations are removed by the next holder: one object per partition stays.
    expect(await readdir(folder)).toEqual(["lock-000000000002.json"]);
    expect(JSON.parse(await readFile(path.join(folder, "lock-000000000002.json"), "utf8"))).toMatchObject({
      runId: "r1",
      task: "load_a",
      pid: process.pid,
      host: os.hostname(),
      releasedAt: expect.any(String),
    });
  });
});
