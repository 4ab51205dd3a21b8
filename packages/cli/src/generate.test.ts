import { afterEach, describe, expect, it } from "vitest";
import { readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { loadPipeline, openProject, pyComment } from "@xo-foundry/core";
import { testdir, type TestDir } from "@xo-foundry/testkit";
import { pipelineYaml, testPlugins } from "./__fixtures__/plugins.js";
import { GENERATED_MARKER, renderDag, writeDags, type GeneratedDag, type WriteResult } from "./generate.js";
import { projectHeaderLine } from "./ownership.js";

let dir: TestDir;
afterEach(() => dir?.remove());

describe("renderDag", () => {
  it("writes a header naming the project, source, config hash, generator and the plugins used", async () => {
    dir = await testdir({ "pipelines/one.yaml": pipelineYaml("one"), "package.json": '{"name": "@acme/dags"}' });
    const project = await openProject(dir.dir, { discover: false, plugins: testPlugins });
    const { pipeline } = await loadPipeline(dir.path("pipelines/one.yaml"), project);
    const dag = renderDag(pipeline!, project);
    expect(dag.fileName).toBe("one.py");
    expect(dag.project).toBe("@acme/dags");
    expect(dag.content.split("\n").slice(0, 7)).toEqual([
      `# ${GENERATED_MARKER} from pipelines/one.yaml`,
      "# Regenerate with `xo-foundry generate-dags`; edit the YAML file, not this one.",
      "# project: @acme/dags",
      "# source: pipelines/one.yaml",
      `# config-sha256: ${pipeline!.configHash}`,
      expect.stringMatching(/^# generator: @xo-foundry\/cli \d/),
      "# plugins: @acme/plugin-things 2.0.0, @acme/template-echo 0.3.0",
    ]);
    expect(renderDag(pipeline!, project, { airflowVersion: 2 }).content).toContain("from airflow import DAG");
  });

  it("names a project without a package.json name by its directory, never by an absolute path", async () => {
    dir = await testdir({ "shop/one.yaml": pipelineYaml("one"), "shop/package.json": "{}" });
    const project = await openProject(dir.path("shop"), { discover: false, plugins: testPlugins });
    const { pipeline } = await loadPipeline(dir.path("shop/one.yaml"), project);
    const dag = renderDag(pipeline!, project);
    expect(dag.project).toBe("shop");
    expect(dag.content).toContain("\n# project: shop\n");
    expect(dag.content).not.toContain(dir.dir);
  });
});

/** A DAG as renderDag makes it, without a template: the header is what ownership reads. */
function dag(project: string, dagId: string, body = "DAG = 1"): GeneratedDag {
  const header = [`${GENERATED_MARKER} from ${dagId}.yaml`, projectHeaderLine(project), `source: ${dagId}.yaml`];
  return { fileName: `${dagId}.py`, dagId, source: `${dagId}.yaml`, project, content: `${header.map(pyComment).join("\n")}\n${body}\n` };
}

const names = (r: WriteResult) => r.files.map((f) => [path.basename(f.file), f.change]);

describe("writeDags", () => {
  it("reports created, unchanged, updated and removed files, and --check writes nothing", async () => {
    dir = await testdir();
    const out = dir.path("dags");
    const dags = [dag("shop", "a"), dag("shop", "b")];
    const prune = ["shop"];
    expect(names(await writeDags(dags, out, { check: true, prune }))).toEqual([["a.py", "created"], ["b.py", "created"]]);
    expect(await readdir(dir.dir)).not.toContain("dags");
    expect(names(await writeDags(dags, out, { prune }))).toEqual([["a.py", "created"], ["b.py", "created"]]);
    expect(names(await writeDags(dags, out, { prune }))).toEqual([["a.py", "unchanged"], ["b.py", "unchanged"]]);

    await writeFile(dir.path("dags/a.py"), `${dags[0]!.content}# edited by hand\n`);
    await writeFile(dir.path("dags/notes.py"), "# someone else's file\n");
    expect(names(await writeDags(dags, out, { check: true, prune }))).toEqual([["a.py", "updated"], ["b.py", "unchanged"]]);
    expect(names(await writeDags(dags.slice(1), out, { check: true, prune }))).toEqual([["a.py", "removed"], ["b.py", "unchanged"]]);
    expect((await readdir(out)).sort()).toEqual(["a.py", "b.py", "notes.py"]);
    expect(names(await writeDags(dags, out, { prune }))).toEqual([["a.py", "updated"], ["b.py", "unchanged"]]);
    expect(names(await writeDags(dags.slice(1), out, { prune }))).toEqual([["a.py", "removed"], ["b.py", "unchanged"]]);
    expect((await readdir(out)).sort()).toEqual(["b.py", "notes.py"]);
    expect(await readFile(dir.path("dags/notes.py"), "utf8")).toBe("# someone else's file\n");
  });

  it("keeps the files of another project that generates into the same folder", async () => {
    dir = await testdir();
    const out = dir.path("dags");
    await writeDags([dag("shop", "orders"), dag("shop", "refunds")], out, { prune: ["shop"] });
    await writeDags([dag("crm", "contacts")], out, { prune: ["crm"] });
    expect((await readdir(out)).sort()).toEqual(["contacts.py", "orders.py", "refunds.py"]);

    // shop drops `refunds`: only shop's stale file goes, crm's file is not shop's to judge.
    expect(names(await writeDags([dag("shop", "orders")], out, { check: true, prune: ["shop"] }))).toEqual([
      ["orders.py", "unchanged"],
      ["refunds.py", "removed"],
    ]);
    await writeDags([dag("shop", "orders")], out, { prune: ["shop"] });
    expect((await readdir(out)).sort()).toEqual(["contacts.py", "orders.py"]);
    expect(await readFile(path.join(out, "contacts.py"), "utf8")).toBe(dag("crm", "contacts").content);
  });

  it("removes nothing without projects to prune, as generate-dag runs it", async () => {
    dir = await testdir();
    const out = dir.path("dags");
    await writeDags([dag("shop", "orders"), dag("shop", "refunds")], out, { prune: ["shop"] });
    await writeFile(path.join(out, "mine.py"), "DAG = 'mine'\n");
    expect(names(await writeDags([dag("shop", "orders", "DAG = 2")], out))).toEqual([["orders.py", "updated"]]);
    expect((await readdir(out)).sort()).toEqual(["mine.py", "orders.py", "refunds.py"]);
  });

  it("refuses to overwrite a file xo-foundry did not write, and then writes nothing", async () => {
    dir = await testdir({ "dags/orders.py": "# my own orders DAG\nDAG = 'mine'\n" });
    const out = dir.path("dags");
    const result = await writeDags([dag("shop", "orders"), dag("shop", "refunds")], out, { prune: ["shop"] });
    expect(result.files).toEqual([]);
    expect(result.conflicts).toEqual([{ file: path.join(out, "orders.py"), dag: dag("shop", "orders") }]);
    expect((await readdir(out)).sort()).toEqual(["orders.py"]);
    expect(await readFile(path.join(out, "orders.py"), "utf8")).toBe("# my own orders DAG\nDAG = 'mine'\n");
  });

  it("refuses to overwrite another project's file, naming that project", async () => {
    dir = await testdir();
    const out = dir.path("dags");
    await writeDags([dag("crm", "orders")], out, { prune: ["crm"] });
    const result = await writeDags([dag("shop", "orders")], out, { check: true, prune: ["shop"] });
    expect(result.conflicts).toEqual([{ file: path.join(out, "orders.py"), dag: dag("shop", "orders"), owner: "crm" }]);
    expect((await writeDags([dag("shop", "orders")], out, { prune: ["shop"] })).conflicts).toHaveLength(1);
    expect(await readFile(path.join(out, "orders.py"), "utf8")).toBe(dag("crm", "orders").content);
  });

  it("adopts a file of an older release without a project line, but never removes one", async () => {
    const unnamed = (id: string) => `# ${GENERATED_MARKER} from ${id}.yaml\n# source: ${id}.yaml\nDAG = 0\n`;
    dir = await testdir({ "dags/orders.py": unnamed("orders"), "dags/old.py": unnamed("old") });
    const out = dir.path("dags");
    expect(names(await writeDags([dag("shop", "orders")], out, { prune: ["shop"] }))).toEqual([["orders.py", "updated"]]);
    expect((await readdir(out)).sort()).toEqual(["old.py", "orders.py"]);
  });

  it("reads, writes and reports many files at once in a fixed order, conflicts in the DAGs' order", async () => {
    const ids = Array.from({ length: 40 }, (_, i) => `p${String(i).padStart(2, "0")}`).reverse();
    dir = await testdir({ "dags/p07.py": "# mine\n", "dags/p31.py": "# mine too\n" });
    const out = dir.path("dags");
    const refused = await writeDags(ids.map((id) => dag("shop", id)), out, { prune: ["shop"] });
    expect(refused.conflicts.map((c) => path.basename(c.file))).toEqual(["p31.py", "p07.py"]);
    expect((await readdir(out)).sort()).toEqual(["p07.py", "p31.py"]);

    const mine = new Set(["p07", "p31"]);
    const written = await writeDags(ids.filter((id) => !mine.has(id)).map((id) => dag("shop", id)), out, { prune: ["shop"] });
    expect(names(written)).toEqual([...ids].filter((id) => !mine.has(id)).sort().map((id) => [`${id}.py`, "created"]));
    for (const id of ids.filter((i) => !mine.has(i))) expect(await readFile(path.join(out, `${id}.py`), "utf8")).toBe(dag("shop", id).content);
    expect(names(await writeDags([dag("shop", "p00")], out, { prune: ["shop"] })).filter(([, change]) => change === "removed")).toHaveLength(37);
    expect((await readdir(out)).sort()).toEqual(["p00.py", "p07.py", "p31.py"]);
  });

  it("leaves directories and non-Python files alone", async () => {
    dir = await testdir({ "dags/README.md": `# ${GENERATED_MARKER}\n# project: shop\n`, "dags/pkg.py/__init__.py": "" });
    const out = dir.path("dags");
    expect(names(await writeDags([], out, { prune: ["shop"] }))).toEqual([]);
    const result = await writeDags([dag("shop", "pkg")], out, { prune: ["shop"] });
    expect(result.conflicts.map((c) => path.basename(c.file))).toEqual(["pkg.py"]);
  });
});
