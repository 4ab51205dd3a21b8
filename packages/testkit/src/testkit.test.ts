import { describe, expect, it } from "vitest";
import { readFile, stat } from "node:fs/promises";
import { memoryStateStore, stepContext, streamContext } from "./context.js";
import { testdir } from "./testdir.js";

describe("testdir", () => {
  it("builds a throwaway tree and removes it", async () => {
    const dir = await testdir({ "xo-foundry.yaml": "defaults: {}\n", "pipelines/a.yaml": "pipeline: {}\n" });
    expect(await readFile(dir.path("pipelines/a.yaml"), "utf8")).toBe("pipeline: {}\n");
    await dir.write("more/b.yaml", "x: 1\n");
    expect((await stat(dir.path("more/b.yaml"))).isFile()).toBe(true);
    await dir.remove();
    await expect(stat(dir.dir)).rejects.toThrow();
  });
});

describe("streamContext", () => {
  it("gives a complete context with the data window of the strategy", () => {
    const ctx = streamContext({ stream: { name: "orders" }, strategy: "historical", logicalDate: "2026-01-15", timezone: "UTC" });
    expect(ctx.stream).toEqual({ name: "orders", target: {} });
    expect(ctx.window).toEqual({ logicalDate: "2026-01-15", start: "2026-01-09T00:00:00+00:00", end: "2026-01-16T00:00:00+00:00", timezone: "UTC" });
    expect(ctx.pipeline.pipeline.load_strategy).toBe("historical");
    expect(ctx.signal.aborted).toBe(false);
  });
});

describe("stepContext", () => {
  it("hands a step its options, a state store and only the warehouses the test gives", async () => {
    const state = memoryStateStore({ orders: { cursor: 5 } });
    const ctx = stepContext({ options: { sql: "select 1" }, state, taskId: "t" });
    expect(ctx.options).toEqual({ sql: "select 1" });
    expect((await ctx.state.get("orders"))?.value).toEqual({ cursor: 5 });
    await ctx.state.set("orders", { cursor: 6 }, { runId: "r", logicalDate: "2026-01-15" });
    expect(await ctx.state.list()).toEqual(["orders"]);
    expect(() => ctx.services.warehouse()).toThrow(/offers no warehouse/);
  });
});

describe("recordingLogger and rejectionOf", () => {
  it("keeps warnings and infos, and returns the error a run fails with", async () => {
    const { recordingLogger, rejectionOf } = await import("./log.js");
    const log = recordingLogger();
    log.child("x").warn("retry 1");
    log.info("done");
    expect(log.warnings).toEqual(["retry 1"]);
    expect(log.infos).toEqual(["done"]);
    expect((await rejectionOf(async () => Promise.reject(new Error("boom")))).message).toBe("boom");
    await expect(rejectionOf(async () => "fine")).rejects.toThrow("expected a failure");
  });
});
