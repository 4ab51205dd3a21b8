import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { loadPipeline, openProject, type ResolvedPipeline } from "@xo-foundry/core";
import { testdir, type TestDir } from "@xo-foundry/testkit";
import { fixturePlugins, type Recorder } from "./__fixtures__/plugins.js";
import { consoleLogger } from "./log.js";
import { bytesText, elapsedText, progressInterval, progressLine, progressReporter, type TaskProgress } from "./progress.js";
import { runPipeline } from "./run.js";

const extracting = (over: Partial<TaskProgress> = {}): TaskProgress => ({
  task: "extract_orders",
  step: "extract",
  startedAt: 0,
  phase: "extracting",
  rows: 0,
  pages: 0,
  bytes: 0,
  files: 0,
  ...over,
});

describe("progressLine", () => {
  it("gives rows, pages, bytes, rate and elapsed time of a record extract", () => {
    const p = extracting({ rows: 1_250_000, pages: 250, bytes: 310_000_000, files: 2 });
    expect(progressLine(p, 30_000)).toBe("progress extract_orders: 1,250,000 rows, 250 pages, 310 MB, 41,667 rows/s, 30s elapsed");
  });

  it("counts files and bytes per second for sources that send whole files", () => {
    const p = extracting({ task: "extract_fx", files: 1, bytes: 3_100_000 });
    expect(progressLine(p, 125_000)).toBe("progress extract_fx: 1 file, 3.1 MB, 25 kB/s, 2m05s elapsed");
  });

  it("says so while nothing has arrived", () => {
    expect(progressLine(extracting(), 5_000)).toBe("progress extract_orders: no data yet, 5s elapsed");
  });

  it("says what a load is loading, what waits for a lock and what a plugin step is doing", () => {
    const load = { ...extracting({ task: "load_orders", step: "load", phase: "loading" }), loading: { rows: 1, bytes: 999, files: 3 } };
    expect(progressLine(load, 3_725_000)).toBe("progress load_orders: loading 1 row, 999 B from 3 files, 1h02m elapsed");
    expect(progressLine({ ...load, loading: { bytes: 12_345, files: 1 } }, 10_000)).toBe("progress load_orders: loading 12 kB from 1 file, 10s elapsed");
    expect(progressLine({ ...load, phase: "waiting" }, 10_000)).toBe("progress load_orders: waiting for the partition lock, 10s elapsed");
    expect(progressLine(extracting({ task: "dbt_build", step: "dbt.build", phase: "running" }), 10_000)).toBe("progress dbt_build: running, 10s elapsed");
  });

  it("formats sizes in decimal units and durations compactly", () => {
    expect([0, 999, 1000, 15_500, 2_500_000_000, 7e15].map(bytesText)).toEqual(["0 B", "999 B", "1 kB", "16 kB", "2.5 GB", "7,000 TB"]);
    expect([0, 59_999, 60_000, 3_599_000, 86_400_000].map(elapsedText)).toEqual(["0s", "59s", "1m00s", "59m59s", "24h00m"]);
  });
});

describe("progressReporter", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("prints one line per running task each interval, from that task's start, with the counters of the moment", () => {
    const lines: string[] = [];
    const reporter = progressReporter({ intervalMs: 5_000, write: (l) => lines.push(l), now: () => Date.now() });
    const p = extracting({ startedAt: Date.now() });
    reporter.taskStarted(p);
    vi.advanceTimersByTime(4_999);
    expect(lines).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(lines).toEqual(["progress extract_orders: no data yet, 5s elapsed"]);
    p.rows = 500;
    p.pages = 5;
    p.bytes = 40_000;
    vi.advanceTimersByTime(5_000);
    expect(lines[1]).toBe("progress extract_orders: 500 rows, 5 pages, 40 kB, 50 rows/s, 10s elapsed");
    reporter.taskEnded(p);
    vi.advanceTimersByTime(60_000);
    expect(lines).toHaveLength(2);
  });

  it("keeps tasks apart, and stops every timer at once", () => {
    const lines: string[] = [];
    const reporter = progressReporter({ intervalMs: 1_000, write: (l) => lines.push(l), now: () => Date.now() });
    reporter.taskStarted(extracting({ startedAt: Date.now() }));
    vi.advanceTimersByTime(500);
    reporter.taskStarted(extracting({ task: "extract_customers", startedAt: Date.now() }));
    vi.advanceTimersByTime(1_000);
    expect(lines).toEqual(["progress extract_orders: no data yet, 1s elapsed", "progress extract_customers: no data yet, 1s elapsed"]);
    reporter.stop();
    vi.advanceTimersByTime(10_000);
    expect(lines).toHaveLength(2);
  });

  it("prints nothing with an interval of 0", () => {
    const write = vi.fn();
    const reporter = progressReporter({ intervalMs: 0, write });
    reporter.taskStarted(extracting());
    vi.advanceTimersByTime(60_000);
    expect(write).not.toHaveBeenCalled();
  });
});

describe("progressInterval", () => {
  it("reads XO_PROGRESS_INTERVAL_SECONDS, 5 seconds by default, 0 for off", () => {
    expect(progressInterval({})).toBe(5_000);
    expect(progressInterval({ XO_PROGRESS_INTERVAL_SECONDS: " " })).toBe(5_000);
    expect(progressInterval({ XO_PROGRESS_INTERVAL_SECONDS: "0" })).toBe(0);
    expect(progressInterval({ XO_PROGRESS_INTERVAL_SECONDS: "0.25" })).toBe(250);
  });

  it("refuses what is not a number of seconds", () => {
    for (const bad of ["soon", "-1", "Infinity"]) {
      expect(() => progressInterval({ XO_PROGRESS_INTERVAL_SECONDS: bad })).toThrow(/XO_PROGRESS_INTERVAL_SECONDS must be a number of seconds/);
    }
  });
});

describe("task progress", () => {
  let dir: TestDir;
  afterEach(() => dir?.remove());

  it("counts the pages of an extract as they land and tells what a load loads", async () => {
    dir = await testdir({
      "pipeline.yaml": `pipeline:\n  name: shop\n  start_date: 2026-01-01\nsource:\n  plugin: pages\n  streams:\n    - name: a\n      pages: 3\n      file: true\nsink:\n  plugin: memory\nlanding:\n  uri: file://landing\n`,
    });
    const seen: TaskProgress[] = [];
    const running = new Set<Readonly<TaskProgress>>();
    // Held after the first page: what the counters say while the extract is still going.
    const recorder: Recorder = { loads: [], events: [], hold: async () => void seen.push(...[...running].map((p) => ({ ...p }))) };
    const project = await openProject(dir.dir, { discover: false, plugins: fixturePlugins(recorder) });
    const { pipeline } = await loadPipeline(dir.path("pipeline.yaml"), project);
    const ended: TaskProgress[] = [];
    await runPipeline({
      pipeline: pipeline as ResolvedPipeline,
      project,
      logicalDate: "2026-01-15",
      log: consoleLogger({ write: () => {} }),
      progress: { taskStarted: (p) => running.add(p), taskEnded: (p) => (running.delete(p), ended.push({ ...p })) },
    });
    expect(seen).toEqual([expect.objectContaining({ task: "extract_a", phase: "extracting", rows: 3, pages: 1, files: 0 })]);
    const [extract, load] = ended as [TaskProgress, TaskProgress];
    expect(extract).toMatchObject({ task: "extract_a", rows: 9, pages: 3, files: 2 });
    const manifest = recorder.loads[0]!.manifest;
    // Page bytes are counted as encoded, file bytes as the landing zone pulls them: together, what landed.
    expect(extract.bytes).toBe(manifest.bytes);
    expect(load).toMatchObject({ task: "load_a", phase: "loading", loading: { bytes: manifest.bytes, files: 2 } });
    expect(load.loading).not.toHaveProperty("rows");
    expect(running.size).toBe(0);
  });
});
