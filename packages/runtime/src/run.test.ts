import { afterEach, describe, expect, it } from "vitest";
import { readdir, readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { loadPipeline, openProject, type ResolvedPipeline } from "@xo-foundry/core";
import { testdir, type TestDir } from "@xo-foundry/testkit";
import { consoleLogger } from "./log.js";
import { runPipeline } from "./run.js";
import { runTask } from "./task.js";
import { fixturePlugins, type Recorder } from "./__fixtures__/plugins.js";

const quiet = consoleLogger({ write: () => {} });
let dir: TestDir;
afterEach(() => dir?.remove());

async function setup(streams: string) {
  dir = await testdir({
    "pipeline.yaml": `pipeline:\n  name: shop\n  start_date: 2026-01-01\nsource:\n  plugin: pages\n  streams:\n${streams}sink:\n  plugin: memory\nlanding:\n  uri: file://landing\n`,
  });
  const recorder: Recorder = { loads: [], events: [] };
  const project = await openProject(dir.dir, { discover: false, plugins: fixturePlugins(recorder) });
  const { pipeline, diagnostics } = await loadPipeline(dir.path("pipeline.yaml"), project);
  expect(diagnostics).toEqual([]);
  return { recorder, project, pipeline: pipeline as ResolvedPipeline };
}

describe("runPipeline", () => {
  it("runs extract then load for every stream and lands files by the path builder", async () => {
    const { recorder, project, pipeline } = await setup("    - name: a\n    - name: b\n      pages: 3\n");
    const summary = await runPipeline({ pipeline, project, logicalDate: "2026-01-15", log: quiet });
    expect(summary.ok).toBe(true);
    expect(summary.runId).toBe("local__2026-01-15");
    expect(summary.tasks.map((t) => t.task)).toEqual(["extract_a", "load_a", "extract_b", "load_b"]);
    const loadB = recorder.loads.find((l) => l.stream === "b")!;
    expect(loadB.manifest.rows).toBe(9);
    expect(loadB.manifest.partition).toMatch(/\/landing\/stage\/shop\/b\/incremental\/date=2026-01-15$/);
    const text = await readFile(loadB.files[0]!, "utf8");
    expect(text.trim().split("\n").map((l) => JSON.parse(l).id)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    // Every load waits for its own extract.
    for (const s of ["a", "b"]) {
      expect(recorder.events.indexOf(`extract:${s}:end`)).toBeLessThan(recorder.events.indexOf(`load:${s}:start`));
    }
  });

  it("runs extracts of different streams in parallel", async () => {
    const { recorder, project, pipeline } = await setup("    - name: a\n    - name: b\n    - name: c\n");
    await runPipeline({ pipeline, project, logicalDate: "2026-01-15", log: quiet, concurrency: 4 });
    const ev = recorder.events;
    // b starts before a ends: the extracts overlap.
    expect(ev.indexOf("extract:b:start")).toBeLessThan(ev.indexOf("extract:a:end"));
  });

  it("marks the load of a failed extract upstream_failed and runs the other streams", async () => {
    const { recorder, project, pipeline } = await setup("    - name: bad\n      fail: true\n    - name: good\n");
    const summary = await runPipeline({ pipeline, project, logicalDate: "2026-01-15", log: quiet });
    expect(summary.ok).toBe(false);
    expect(Object.fromEntries(summary.tasks.map((t) => [t.task, t.state]))).toEqual({
      extract_bad: "failed",
      load_bad: "upstream_failed",
      extract_good: "success",
      load_good: "success",
    });
    const failed = summary.tasks.find((t) => t.task === "extract_bad")!;
    expect(failed.error).toEqual([
      expect.objectContaining({ code: "XO_STEP_FAILED", message: 'task "extract_bad" failed in fixture-source@1.0.0 (extract): source exploded' }),
    ]);
    expect(recorder.loads.map((l) => l.stream)).toEqual(["good"]);
  });

  it("replaces the stage partition on a re-run and keeps the raw files of each run", async () => {
    const { project, pipeline } = await setup("    - name: a\n");
    await runPipeline({ pipeline, project, logicalDate: "2026-01-15", runId: "manual__1", log: quiet });
    await runPipeline({ pipeline, project, logicalDate: "2026-01-15", runId: "manual__2", log: quiet });
    const stage = dir.path("landing/stage/shop/a/incremental/date=2026-01-15");
    expect((await readdir(stage)).sort()).toEqual(["_SUCCESS", "_manifest.json", "part-00000.ndjson"]);
    const manifest = JSON.parse(await readFile(`${stage}/_manifest.json`, "utf8"));
    expect(manifest).toMatchObject({ runId: "manual__2", rows: 6, strategy: "incremental", logicalDate: "2026-01-15" });
    expect(await readdir(dir.path("landing/ingest/shop/a/incremental/date=2026-01-15"))).toEqual(["run=manual__1", "run=manual__2"]);
  });

  it("lands file batches next to record pages with checksums", async () => {
    const { recorder, project, pipeline } = await setup("    - name: a\n      file: true\n      pages: 1\n");
    await runPipeline({ pipeline, project, logicalDate: "2026-01-15", log: quiet });
    const files = recorder.loads[0]!.manifest.files;
    expect(files.map((f) => [f.uri.split("/").pop(), f.format, f.rows])).toEqual([
      ["part-00000.ndjson", "ndjson", 3],
      ["00001-export.csv", "csv", undefined],
    ]);
    expect(await readFile(fileURLToPath(files[1]!.uri), "utf8")).toBe("id,name\n1,a\n");
    expect(files[1]!.sha256).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe("runTask", () => {
  it("refuses an unknown task id and lists the real ones", async () => {
    const { project, pipeline } = await setup("    - name: a\n");
    await expect(runTask({ pipeline, project, taskId: "extract_z", logicalDate: "2026-01-15", runId: "r", log: quiet })).rejects.toMatchObject({
      diagnostics: [expect.objectContaining({ code: "XO_TASK_UNKNOWN", hint: 'tasks: "extract_a", "load_a"' })],
    });
  });

  it("does not load a partition whose marker is missing", async () => {
    const { project, pipeline } = await setup("    - name: a\n");
    await runTask({ pipeline, project, taskId: "extract_a", logicalDate: "2026-01-15", runId: "r", log: quiet });
    const { rm } = await import("node:fs/promises");
    await rm(dir.path("landing/stage/shop/a/incremental/date=2026-01-15/_SUCCESS"));
    await expect(runTask({ pipeline, project, taskId: "load_a", logicalDate: "2026-01-15", runId: "r", log: quiet })).rejects.toMatchObject({
      diagnostics: [expect.objectContaining({ code: "XO_MANIFEST_MISSING" })],
    });
  });
});
