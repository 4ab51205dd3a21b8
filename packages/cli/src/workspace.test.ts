import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { readFile, writeFile } from "node:fs/promises";
import { formatDiagnostic } from "@xo-foundry/core";
import { testdir, type TestDir } from "@xo-foundry/testkit";
import { captureOutput } from "./__fixtures__/output.js";
import { pipelineYaml, testPlugins } from "./__fixtures__/plugins.js";
import { main } from "./index.js";
import { Workspace } from "./workspace.js";

// Projects get the test plugins instead of discovering installed packages (see generate.test.ts).
const injected = vi.hoisted(() => ({ plugins: [] as unknown[] }));
vi.mock("@xo-foundry/core", async (importOriginal) => {
  const core = await importOriginal<typeof import("@xo-foundry/core")>();
  return { ...core, openProject: (start: string) => core.openProject(start, { discover: false, plugins: injected.plugins }) };
});
beforeAll(() => {
  injected.plugins = testPlugins;
});

let dir: TestDir;
const output = captureOutput();
afterEach(() => dir?.remove());
const xo = (...args: string[]) => main(["node", "xo-foundry", ...args]);

describe("Workspace", () => {
  it("reports for unsaved text exactly what validate-config prints for the saved file", async () => {
    const typo = pipelineYaml("orders").replace("start_date:", "start_dat:");
    dir = await testdir({ "shop/package.json": '{"name": "shop"}', "shop/orders.yaml": typo });
    expect(await xo("validate-config", dir.path("shop/orders.yaml"))).toBe(1);
    const printed = output.err();
    await writeFile(dir.path("shop/orders.yaml"), pipelineYaml("orders"));
    const checked = await new Workspace().check(dir.path("shop/orders.yaml"), typo);
    expect(checked.valid).toBe(false);
    expect(checked.diagnostics.length).toBeGreaterThan(0);
    for (const d of checked.diagnostics) expect(printed).toContain(formatDiagnostic(d).split("\n")[0]);
    expect(checked.diagnostics.map((d) => d.code)).toContain("XO_CONFIG_UNKNOWN_KEY");
    expect((await new Workspace().check(dir.path("shop/orders.yaml"))).valid).toBe(true);
  });

  it("reports a dag_id another pipeline of the project already uses at the file being edited", async () => {
    dir = await testdir({ "shop/package.json": '{"name": "shop"}', "shop/b.yaml": pipelineYaml("orders"), "shop/a.yaml": pipelineYaml("refunds") });
    const ws = new Workspace();
    const clash = pipelineYaml("refunds").replace("name: refunds", "name: refunds\n  dag_id: orders") + "landing:\n  uri: file://refunds\n";
    const checked = await ws.check(dir.path("shop/a.yaml"), clash);
    expect(checked.diagnostics.map((d) => [d.code, d.path, d.line])).toEqual([["XO_CONFIG_DUPLICATE_NAME", "pipeline.dag_id", 3]]);
    // Another file changed on disk is read again.
    await writeFile(dir.path("shop/b.yaml"), pipelineYaml("orders").replace("name: orders", "name: orders\n  dag_id: orders_v2"));
    expect((await ws.check(dir.path("shop/a.yaml"), clash)).valid).toBe(true);
  });

  it("previews the file generate-dag writes, then writes that same file, and refuses a file that is not the project's", async () => {
    dir = await testdir({ "shop/package.json": '{"name": "shop"}', "shop/orders.yaml": pipelineYaml("orders") });
    const ws = new Workspace();
    const preview = await ws.preview(dir.path("shop/orders.yaml"));
    expect(preview.target).toBe(dir.path("shop/dags/orders.py"));
    expect(preview.onDisk).toBeUndefined();
    expect(await xo("generate-dag", dir.path("shop/orders.yaml"), "-o", dir.path("cli-dags"))).toBe(0);
    expect(preview.dag!.content).toBe(await readFile(dir.path("cli-dags/orders.py"), "utf8"));

    const generated = await ws.generate(dir.path("shop/orders.yaml"));
    expect(generated.files.map((f) => f.change)).toEqual(["created"]);
    expect(await readFile(dir.path("shop/dags/orders.py"), "utf8")).toBe(preview.dag!.content);
    expect((await ws.preview(dir.path("shop/orders.yaml"))).onDisk).toBe(preview.dag!.content);

    await writeFile(dir.path("shop/dags/orders.py"), "# a person's DAG\n");
    const refused = await ws.generate(dir.path("shop/orders.yaml"));
    expect(refused.valid).toBe(false);
    expect(refused.diagnostics.map((d) => d.code)).toContain("XO_DAG_NOT_OURS");
    expect(await readFile(dir.path("shop/dags/orders.py"), "utf8")).toBe("# a person's DAG\n");
  });

  it("gives the task graph and the project's schema", async () => {
    dir = await testdir({ "shop/package.json": '{"name": "shop"}', "shop/orders.yaml": pipelineYaml("orders") });
    const ws = new Workspace();
    const { tasks } = await ws.tasks(dir.path("shop/orders.yaml"));
    expect(tasks!.length).toBeGreaterThan(0);
    expect(tasks!.every((t) => t.upstream.every((u) => tasks!.some((o) => o.id === u)))).toBe(true);
    expect(JSON.stringify(await ws.schema(dir.path("shop/orders.yaml")))).toContain('"pipeline"');
    expect(await ws.pipelines(dir.path("shop"))).toEqual([dir.path("shop/orders.yaml")]);
  });
});
