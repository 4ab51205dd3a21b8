import { afterEach, describe, expect, it } from "vitest";
import { readFile, writeFile } from "node:fs/promises";
import { loadPipeline, openProject, type ResolvedPipeline } from "@xo-foundry/core";
import { testdir, type TestDir } from "@xo-foundry/testkit";
import { consoleLogger } from "./log.js";
import { decide, runPipeline } from "./run.js";
import { runTask } from "./task.js";
import { fixturePlugins, type Recorder } from "./__fixtures__/plugins.js";
import { fixtureStepPlugin } from "./__fixtures__/steps.js";

const quiet = consoleLogger({ write: () => {} });
let dir: TestDir;
afterEach(() => dir?.remove());

const TWO_SOURCES = `pipeline:
  name: shop
  start_date: 2026-01-01
template: grouped
sources:
  api:
    plugin: pages
    sink: main
    streams:
      - name: orders
      - name: customers
        pages: 1
  files:
    plugin: pages
    sink: main
    streams:
      - name: rates
        size: 4
sinks:
  main:
    plugin: memory
  archive:
    plugin: memory
landing:
  uri: file://landing
`;

async function setup(yaml: string) {
  dir = await testdir({ "pipeline.yaml": yaml });
  const recorder: Recorder = { loads: [], events: [], states: [] };
  const events: string[] = [];
  const project = await openProject(dir.dir, { discover: false, plugins: [...fixturePlugins(recorder), fixtureStepPlugin(events)] });
  const { pipeline, diagnostics } = await loadPipeline(dir.path("pipeline.yaml"), project);
  expect(diagnostics).toEqual([]);
  return { recorder, events, project, pipeline: pipeline as ResolvedPipeline };
}

const states = (tasks: readonly { task: string; state: string }[]) => Object.fromEntries(tasks.map((t) => [t.task, t.state]));

describe("steps from a plugin the core does not know", () => {
  it("run after the tasks their globs match, with the upstream summaries", async () => {
    const steps = `steps:
  - id: tally
    uses: fixture.note
    with: { message: loaded }
    after: ["*.load_*"]
`;
    const { events, project, pipeline } = await setup(`${TWO_SOURCES}${steps}`);
    const summary = await runPipeline({ pipeline, project, logicalDate: "2026-01-15", log: quiet });
    expect(summary.ok).toBe(true);
    expect(summary.tasks.map((t) => t.task)).toEqual([
      "api.extract_customers",
      "api.load_customers",
      "api.extract_orders",
      "api.load_orders",
      "files.extract_rates",
      "files.load_rates",
      "tally",
    ]);
    const tally = summary.tasks.find((t) => t.task === "tally")!;
    // Upstream summaries reach the step: every task before it, extracts (with rows) included.
    expect(tally.outcome?.summary).toEqual({
      message: "loaded",
      upstream_rows: 6 + 3 + 8,
      upstream: ["api.extract_customers", "api.extract_orders", "api.load_customers", "api.load_orders", "files.extract_rates", "files.load_rates"],
    });
    expect(events.filter((e) => e.includes("tally"))).toEqual(["start:tally", "run:tally:loaded", "end:tally:success"]);
    // The summary is kept in the landing zone for tasks on other workers.
    const kept = JSON.parse(await readFile(dir.path("landing/runs/shop/run=local__2026-01-15/tally.json"), "utf8"));
    expect(kept).toMatchObject({ task: "tally", step: "fixture.note", state: "success", summary: { upstream_rows: 17 } });
  });

  it("skip on a false `when:`, and their downstream tasks follow their trigger rules", async () => {
    const steps = `steps:
  - id: mondays
    uses: fixture.note
    with: { message: weekly }
    after: ["*.load_*"]
    when: { weekday: [mon] }
  - id: after_mondays
    uses: fixture.note
    with: { message: strict }
    after: [mondays]
  - id: copy
    uses: load
    with: { stream: orders, sink: archive }
    after: [mondays, api.extract_orders]
    trigger_rule: none_failed
`;
    const { recorder, project, pipeline } = await setup(`${TWO_SOURCES}${steps}`);
    // 2026-01-15 is a Thursday, 2026-01-19 a Monday.
    const thursday = await runPipeline({ pipeline, project, logicalDate: "2026-01-15", log: quiet });
    expect(thursday.ok).toBe(true);
    expect(states(thursday.tasks)).toMatchObject({ mondays: "skipped", after_mondays: "skipped", copy: "success" });
    expect(thursday.tasks.find((t) => t.task === "mondays")!.reason).toBe("2026-01-15 is a thu, not mon");

    recorder.loads.length = 0;
    const monday = await runPipeline({ pipeline, project, logicalDate: "2026-01-19", log: quiet });
    expect(states(monday.tasks)).toMatchObject({ mondays: "success", after_mondays: "success", copy: "success" });
    // The copy loaded the landed orders a second time, into the other sink.
    expect(recorder.loads.filter((l) => l.stream === "orders")).toHaveLength(2);
  });

  it("compare upstream summary fields in `when:`", async () => {
    const steps = `steps:
  - id: big
    uses: fixture.note
    with: { message: big }
    after: [api.load_orders]
    when:
      summary: [{ task: api.load_orders, field: rowsLoaded, op: ">", value: 5 }]
  - id: huge
    uses: fixture.note
    with: { message: huge }
    after: [api.load_orders]
    when:
      summary: [{ task: api.load_orders, field: rowsLoaded, op: ">=", value: 100 }]
`;
    const { project, pipeline } = await setup(`${TWO_SOURCES}${steps}`);
    const summary = await runPipeline({ pipeline, project, logicalDate: "2026-01-15", log: quiet });
    expect(states(summary.tasks)).toMatchObject({ big: "success", huge: "skipped" });
    expect(summary.tasks.find((t) => t.task === "huge")!.reason).toBe('api.load_orders.rowsLoaded is 6, not >= 100');
  });

  it("may ask to be skipped, and keep their own error codes when they fail", async () => {
    const steps = `steps:
  - id: lazy
    uses: fixture.note
    with: { message: zzz, skip: true }
  - id: rude
    uses: fixture.note
    with: { message: no, refuse: true }
`;
    const { events, project, pipeline } = await setup(`${TWO_SOURCES}${steps}`);
    const summary = await runPipeline({ pipeline, project, logicalDate: "2026-01-15", log: quiet });
    expect(summary.ok).toBe(false);
    expect(states(summary.tasks)).toMatchObject({ lazy: "skipped", rude: "failed" });
    expect(summary.tasks.find((t) => t.task === "rude")!.error).toEqual([
      expect.objectContaining({
        code: "NOTE_REFUSED",
        plugin: "third-party-steps@0.3.0",
        task: "rude",
        message: 'task "rude" failed in third-party-steps@0.3.0 (run): refused to take notes',
        hint: "say please",
      }),
    ]);
    expect(events).toContain("failure:rude:NOTE_REFUSED");
  });
});

describe("plugin error codes", () => {
  it("survive from a sink, with the hint the plugin wrote", async () => {
    const { project, pipeline } = await setup(TWO_SOURCES.replace("  archive:\n    plugin: memory\n", "").replace("    plugin: memory\n", "    plugin: memory\n    fail: true\n"));
    await runTask({ pipeline, project, taskId: "api.extract_orders", logicalDate: "2026-01-15", runId: "r1", log: quiet });
    await expect(runTask({ pipeline, project, taskId: "api.load_orders", logicalDate: "2026-01-15", runId: "r1", log: quiet })).rejects.toMatchObject({
      diagnostics: [expect.objectContaining({ code: "MEM_FULL", plugin: "fixture-sink@1.0.0", hint: "free some memory" })],
    });
  });
});

describe("stream state", () => {
  const STATEFUL = `pipeline:
  name: shop
  start_date: 2026-01-01
source:
  plugin: pages
  streams:
    - name: orders
      stateful: true
sink:
  plugin: memory
landing:
  uri: file://landing
`;

  it("is saved after the load and handed to the next extract", async () => {
    const { recorder, project, pipeline } = await setup(STATEFUL);
    await runPipeline({ pipeline, project, logicalDate: "2026-01-15", log: quiet });
    await runPipeline({ pipeline, project, logicalDate: "2026-01-16", log: quiet });
    expect(recorder.states).toEqual([undefined, { through: "2026-01-15" }]);
    const saved = JSON.parse(await readFile(dir.path("landing/state/shop/orders.json"), "utf8"));
    expect(saved).toMatchObject({ value: { through: "2026-01-16" }, runId: "local__2026-01-16", logicalDate: "2026-01-16" });
  });

  it("stays where it was when a run stops between extract and load", async () => {
    const { recorder, project, pipeline } = await setup(STATEFUL);
    await runPipeline({ pipeline, project, logicalDate: "2026-01-15", log: quiet });
    // The run of the 16th lands its data and dies before the load.
    await runTask({ pipeline, project, taskId: "extract_orders", logicalDate: "2026-01-16", runId: "killed", log: quiet });
    await runPipeline({ pipeline, project, logicalDate: "2026-01-17", log: quiet });
    // The 17th starts from what was loaded (the 15th), not from what was only landed.
    expect(recorder.states).toEqual([undefined, { through: "2026-01-15" }, { through: "2026-01-15" }]);
  });
});

describe("state a step stages", () => {
  const PIPELINE = (failing: boolean) => `${TWO_SOURCES}steps:
  - id: export
    uses: fixture.stage
    with: { key: export__orders, value: "2026-01-15T10:00:00" }
  - id: to_sftp
    uses: fixture.note
    after: [export]
    with: { message: sent }
  - id: to_api
    uses: fixture.note
    after: [export]
    with: { message: posted, refuse: ${failing} }
  - id: alone
    uses: fixture.stage
    with: { key: alone, value: "1" }
`;
  const task = async (setupResult: Awaited<ReturnType<typeof setup>>, taskId: string, runId = "manual__1") =>
    runTask({ pipeline: setupResult.pipeline, project: setupResult.project, taskId, logicalDate: "2026-01-15", runId, log: quiet });
  const saved = async (key: string) => {
    const text = await readFile(dir.path(`landing/state/shop/${key}.json`), "utf8").catch(() => undefined);
    return text === undefined ? undefined : (JSON.parse(text) as { value: unknown; runId: string }).value;
  };

  it("is saved only once every task directly after the step succeeded in the same run", async () => {
    const s = await setup(PIPELINE(true));
    await task(s, "export");
    expect(await saved("export__orders")).toBeUndefined();
    await task(s, "to_sftp");
    expect(await saved("export__orders")).toBeUndefined();
    await expect(task(s, "to_api")).rejects.toMatchObject({ code: "NOTE_REFUSED" });
    expect(await saved("export__orders")).toBeUndefined();

    // The failed delivery retried with its cause fixed: now every task after the export has succeeded.
    const fixed = await setup(PIPELINE(false));
    await task(fixed, "export", "manual__2");
    await task(fixed, "to_api", "manual__2");
    expect(await saved("export__orders")).toBeUndefined();
    await task(fixed, "to_sftp", "manual__2");
    expect(await saved("export__orders")).toEqual({ watermark: "2026-01-15T10:00:00" });
  });

  it("waits again when the step is cleared and re-run: earlier deliveries of the run do not count", async () => {
    const s = await setup(PIPELINE(false));
    for (const id of ["export", "to_sftp", "to_api"]) await task(s, id);
    expect(await saved("export__orders")).toEqual({ watermark: "2026-01-15T10:00:00" });
    // The same run, its export cleared and re-run after more rows arrived: it stages a later watermark.
    await writeFile(dir.path("pipeline.yaml"), PIPELINE(false).replace('value: "2026-01-15T10:00:00"', 'value: "2026-01-15T12:00:00"'));
    const moved = { ...s, pipeline: (await loadPipeline(dir.path("pipeline.yaml"), s.project)).pipeline as ResolvedPipeline };
    await task(moved, "export");
    await task(moved, "to_sftp");
    expect(await saved("export__orders")).toEqual({ watermark: "2026-01-15T10:00:00" });
    await task(moved, "to_api");
    expect(await saved("export__orders")).toEqual({ watermark: "2026-01-15T12:00:00" });
  });

  it("is saved at once by a step with nothing after it, and never by a failed run", async () => {
    const s = await setup(PIPELINE(true));
    await task(s, "alone");
    expect(await saved("alone")).toEqual({ watermark: "1" });
    const summary = await runPipeline({ pipeline: s.pipeline, project: s.project, logicalDate: "2026-01-15", log: quiet });
    expect(summary.ok).toBe(false);
    expect(await saved("export__orders")).toBeUndefined();
  });
});

describe("an ingest-only stream", () => {
  it("lands its files and has no load task; a load step can still load them", async () => {
    const yaml = TWO_SOURCES.replace("      - name: rates\n", "      - name: rates\n        mode: ingest_only\n").replace(
      "      - name: customers\n",
      "      - name: customers\n        mode: ingest_only\n        target: { table: orders }   # nothing loads it, so it shares no table\n",
    );
    const steps = `steps:
  - id: load_rates_later
    uses: load
    after: [files.extract_rates]
    with: { stream: rates, sink: archive }
`;
    const { recorder, project, pipeline } = await setup(`${yaml}${steps}`);
    const summary = await runPipeline({ pipeline, project, logicalDate: "2026-01-15", log: quiet });
    expect(summary.ok).toBe(true);
    expect(summary.tasks.map((t) => t.task)).toEqual(["api.extract_customers", "api.extract_orders", "api.load_orders", "files.extract_rates", "load_rates_later"]);
    expect(recorder.loads.map((l) => l.stream).sort()).toEqual(["orders", "rates"]);
    // The files of the stream nothing loads are landed all the same.
    expect(summary.tasks.find((t) => t.task === "api.extract_customers")).toMatchObject({ state: "success" });
  });
});

describe("trigger rules", () => {
  it("decide like Airflow's", () => {
    expect(decide("all_success", ["success", "skipped"])).toBe("skipped");
    expect(decide("all_success", ["success", "failed", "skipped"])).toBe("upstream_failed");
    expect(decide("none_failed", ["success", "skipped"])).toBe("run");
    expect(decide("none_failed", ["upstream_failed"])).toBe("upstream_failed");
    expect(decide("none_failed_min_one_success", ["skipped", "skipped"])).toBe("skipped");
    expect(decide("one_failed", ["success", "failed"])).toBe("run");
    expect(decide("all_done", ["failed", "skipped"])).toBe("run");
    expect(decide("all_skipped", ["skipped"])).toBe("run");
    expect(decide("none_skipped", ["success", "skipped"])).toBe("skipped");
  });
});

describe("a step that expands into several tasks", () => {
  const FAN = (parts: string, extra = "") => `${TWO_SOURCES}steps:
  - id: fan
    uses: fixture.fan
    after: ["*.load_*"]
    with:
      parts: ${parts}${extra}
  - id: summary
    uses: fixture.note
    after: [fan]
    with: { message: done }
`;

  it("becomes a task group wired by its own graph, and steps after it wait for its last tasks", async () => {
    const { events, project, pipeline } = await setup(FAN("[{ name: a }, { name: b, after: [a] }, { name: c, after: [a] }]"));
    const { pipelineTasks } = await import("./task.js");
    const tasks = Object.fromEntries(pipelineTasks(pipeline, project).map((t) => [t.id, t]));
    expect(tasks["fan"]).toBeUndefined();
    expect(tasks["fan.a"]).toMatchObject({ step: "fixture.fan", group: "fan", with: { parts: [], part: "a" }, upstream: ["api.load_customers", "api.load_orders", "files.load_rates"] });
    // The step type never skips, so its Airflow tasks do not treat the skip exit code as a skip.
    expect(tasks["fan.a"]!.canSkip).toBe(false);
    expect(tasks["summary"]!.canSkip).toBeUndefined();
    expect(tasks["fan.b"]!.upstream).toEqual(["fan.a"]);
    expect(tasks["fan.c"]!.upstream).toEqual(["fan.a"]);
    expect(tasks["summary"]!.upstream).toEqual(["fan.b", "fan.c"]);

    const run = await runPipeline({ pipeline, project, logicalDate: "2026-01-15", log: quiet });
    expect(run.ok).toBe(true);
    const order = events.filter((e) => e.startsWith("run:"));
    expect(order.indexOf("run:fan.a:part=a")).toBeLessThan(order.indexOf("run:fan.b:part=b"));
    expect(order.at(-1)).toBe("run:summary:done");
  });

  it("fails a task whose step type declares it never skips, yet asks to", async () => {
    const { project, pipeline } = await setup(FAN("[{ name: a }]", "\n      skip: true"));
    const run = await runPipeline({ pipeline, project, logicalDate: "2026-01-15", log: quiet });
    expect(run.ok).toBe(false);
    const fan = run.tasks.find((t) => t.task === "fan.a")!;
    expect(fan.state).toBe("failed");
    expect(fan.error).toMatchObject([{ code: "XO_STEP_FAILED", message: expect.stringMatching(/fixture\.fan declares canSkip: false, yet asked to skip \(nothing to do\)/) }]);
  });

  it("is reported at the step when the plugin cannot expand it, with the plugin's code and hint", async () => {
    dir = await testdir({ "pipeline.yaml": FAN("[{ name: a, after: [zz] }]") });
    const project = await openProject(dir.dir, { discover: false, plugins: [...fixturePlugins({ loads: [], events: [], states: [] }), fixtureStepPlugin([])] });
    const { diagnostics } = await loadPipeline(dir.path("pipeline.yaml"), project);
    expect(diagnostics).toMatchObject([
      { code: "FAN_UNKNOWN_PART", plugin: "third-party-steps@0.3.0", message: 'step "fan": part a runs after zz, which is no part', hint: "name parts of this step", line: 31 },
    ]);
  });

  it("refuses tasks the graph cannot hold", async () => {
    dir = await testdir({ "pipeline.yaml": FAN("[{ name: a }]", "\n      broken: true") });
    const project = await openProject(dir.dir, { discover: false, plugins: [...fixturePlugins({ loads: [], events: [], states: [] }), fixtureStepPlugin([])] });
    const { diagnostics } = await loadPipeline(dir.path("pipeline.yaml"), project);
    expect(diagnostics).toMatchObject([{ code: "XO_STEP_EXPANSION_INVALID", message: 'step "fan" cannot be expanded into tasks by third-party-steps@0.3.0: task name "A" is not [a-z0-9_]' }]);
  });
});
