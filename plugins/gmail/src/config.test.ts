/**
 * The README's pipelines through the core's real YAML loader and config validation, with this
 * plugin registered. Nothing emulated, no network (the sink and template are stubs).
 */
import { readFileSync } from "node:fs";
import { definePlugin, loadPipeline, openProject } from "@xo-foundry/core";
import { testdir } from "@xo-foundry/testkit";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { gmail } from "./index.js";
import { parseStream } from "./options.js";

const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
const [example, ingestOnly] = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);

const stubs = definePlugin({
  name: "stubs",
  version: "0.0.0",
  templates: [{ id: "ingest", description: "stub", isDefault: true, tasks: () => [] }],
  sinks: [{ id: "duckdb", description: "stub", options: z.object({}), target: z.object({ table: z.string().optional() }), load: () => Promise.reject(new Error("stub")) }],
});

async function validate(yaml: string) {
  const project = await testdir();
  try {
    const opened = await openProject(project.dir, { discover: false, plugins: [gmail(), stubs] });
    return await loadPipeline(await project.write("pipelines/vendor_mail.yaml", yaml), opened);
  } finally {
    await project.remove();
  }
}

const streamsOf = (result: Awaited<ReturnType<typeof validate>>) =>
  (result.pipeline!.config.sources.main!.streams as unknown as Record<string, unknown>[]).map(({ name: _n, target: _t, mode: _m, ...s }) => parseStream(s));

describe("config", () => {
  it("accepts the README example", async () => {
    const result = await validate(example!);
    expect(result.diagnostics).toEqual([]);
    expect(streamsOf(result).map((s) => s.content)).toEqual(["messages", "attachments"]);
  });

  it("accepts the README's ingest-only stream", async () => {
    const result = await validate(`${example!.replace(/\nsink:/, `\n${ingestOnly!.replace(/\n$/, "")}\n\nsink:`)}`);
    expect(result.diagnostics).toEqual([]);
    expect(result.pipeline!.config.sources.main!.streams.map((s) => s.mode)).toEqual([undefined, undefined, "ingest_only"]);
  });

  it("reports a stream that needs load_attachments_as, and a misspelt key, with their lines", async () => {
    const result = await validate(example!.replace("      load_attachments_as: csv     # the loader reads the files as CSV: the stream becomes a table\n", "").replace("include_body: false", "include_bodies: false"));
    const found = result.diagnostics.map((d) => `${d.path} line ${d.line}`);
    expect(found.some((f) => f.startsWith("source.streams[1].load_attachments_as"))).toBe(true);
    expect(found.some((f) => f.startsWith("source.streams[0].include_bodies"))).toBe(true);
  });

  it("refuses a query in a history stream at the query's line", async () => {
    const result = await validate(example!.replace("      include_body: false", "      include_body: false\n      incremental: history"));
    expect(result.diagnostics.map((d) => d.path)).toEqual(["source.streams[0].query"]);
  });
});
