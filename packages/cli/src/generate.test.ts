import { afterEach, describe, expect, it } from "vitest";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { z } from "zod";
import { definePlugin, loadPipeline, openProject, pyLiteral, type ResolvedPipeline } from "@xo-foundry/core";
import { testdir, type TestDir } from "@xo-foundry/testkit";
import { GENERATED_MARKER, renderDag, writeDags } from "./generate.js";

let dir: TestDir;
afterEach(() => dir?.remove());

const plugins = [
  definePlugin({
    name: "@acme/plugin-things",
    version: "2.0.0",
    sources: [{ id: "things", description: "", options: z.object({}), stream: z.object({}), async *extract() {} }],
    sinks: [{ id: "duckdb", description: "", options: z.object({}), target: z.object({}), load: async () => ({ table: "t", rowsLoaded: 0 }) }],
  }),
  definePlugin({
    name: "@acme/template-echo",
    version: "0.3.0",
    templates: [
      {
        id: "ingest",
        description: "",
        tasks: (p) => p.config.source.streams.map((s) => ({ id: `extract_${s.name}`, kind: "extract" as const, stream: s.name, upstream: [] })),
        render: ({ header, pipeline, airflowVersion }) =>
          `${header.map((h) => `# ${h}`).join("\n")}\nDAG_ID = ${pyLiteral(pipeline.config.pipeline.dag_id)}\nAIRFLOW = ${airflowVersion}\n`,
      },
    ],
  }),
];

async function load(name: string): Promise<{ pipeline: ResolvedPipeline; project: Awaited<ReturnType<typeof openProject>> }> {
  const project = await openProject(dir.dir, { discover: false, plugins });
  const result = await loadPipeline(dir.path(`${name}.yaml`), project);
  expect(result.diagnostics).toEqual([]);
  return { pipeline: result.pipeline!, project };
}

const yaml = (name: string) => `pipeline:\n  name: ${name}\n  start_date: 2026-01-01\nsource:\n  plugin: things\n  streams:\n    - name: s\n`;

describe("renderDag", () => {
  it("writes a header naming the source, config hash, generator and the plugins used", async () => {
    dir = await testdir({ "pipelines/one.yaml": yaml("one"), "package.json": "{}" });
    const project = await openProject(dir.dir, { discover: false, plugins });
    const { pipeline } = await loadPipeline(dir.path("pipelines/one.yaml"), project);
    const dag = renderDag(pipeline!, project);
    expect(dag.fileName).toBe("one.py");
    expect(dag.content.split("\n").slice(0, 6)).toEqual([
      `# ${GENERATED_MARKER} from pipelines/one.yaml`,
      "# Regenerate with `xo-foundry generate-dags`; edit the YAML file, not this one.",
      "# source: pipelines/one.yaml",
      `# config-sha256: ${pipeline!.configHash}`,
      expect.stringMatching(/^# generator: @xo-foundry\/cli \d/),
      "# plugins: @acme/plugin-things 2.0.0, @acme/template-echo 0.3.0",
    ]);
    expect(renderDag(pipeline!, project, { airflowVersion: 2 }).content).toContain("AIRFLOW = 2");
  });
});

describe("writeDags", () => {
  it("reports created, unchanged, updated and removed files, and --check writes nothing", async () => {
    dir = await testdir({ "a.yaml": yaml("a"), "b.yaml": yaml("b") });
    const a = await load("a");
    const b = await load("b");
    const out = dir.path("dags");
    const dags = [renderDag(a.pipeline, a.project), renderDag(b.pipeline, b.project)];
    expect((await writeDags(dags, out, true)).map((r) => r.change)).toEqual(["created", "created"]);
    expect(await readdir(dir.dir)).not.toContain("dags");
    expect((await writeDags(dags, out, false)).map((r) => r.change)).toEqual(["created", "created"]);
    expect((await writeDags(dags, out, false)).map((r) => r.change)).toEqual(["unchanged", "unchanged"]);

    await writeFile(dir.path("dags/a.py"), "# edited by hand\n");
    await writeFile(dir.path("dags/notes.py"), "# someone else's file\n");
    expect((await writeDags(dags.slice(1), out, true)).map((r) => [r.file.split("/").pop(), r.change])).toEqual([
      ["b.py", "unchanged"],
    ]);
    expect((await writeDags(dags, out, false)).map((r) => r.change)).toEqual(["updated", "unchanged"]);
    expect((await writeDags(dags.slice(1), out, false)).map((r) => [r.file.split("/").pop(), r.change])).toEqual([
      ["a.py", "removed"],
      ["b.py", "unchanged"],
    ]);
    expect((await readdir(out)).sort()).toEqual(["b.py", "notes.py"]);
    expect(await readFile(dir.path("dags/notes.py"), "utf8")).toBe("# someone else's file\n");
  });
});
