import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { readdir, readFile, rm, writeFile } from "node:fs/promises";
import { testdir, type TestDir } from "@xo-foundry/testkit";
import { captureOutput } from "../__fixtures__/output.js";
import { pipelineYaml, testPlugins } from "../__fixtures__/plugins.js";
import { generateCommand } from "./generate.js";

// Projects get the test plugins instead of discovering installed packages. The
// plugins are handed over after the imports: they are made with the mocked module.
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

/** Two projects, shop and crm, and the DAGs folder they share. */
async function twoProjects(): Promise<TestDir> {
  return testdir({
    "shop/package.json": '{"name": "shop"}',
    "shop/orders.yaml": pipelineYaml("orders"),
    "shop/refunds.yaml": pipelineYaml("refunds"),
    "crm/package.json": '{"name": "crm"}',
    "crm/contacts.yaml": pipelineYaml("contacts"),
  });
}

const dags = (options: { check?: boolean; json?: boolean } = {}) => ({ out: dir.path("dags"), removeOrphans: true, ...options });
const dag = (options: { check?: boolean } = {}) => ({ out: dir.path("dags"), removeOrphans: false, ...options });
const listing = async () => (await readdir(dir.path("dags"))).sort();

describe("generate-dags", () => {
  it("keeps the files of another project in a shared DAGs folder, and removes only its own stale ones", async () => {
    dir = await twoProjects();
    expect(await generateCommand([dir.path("shop")], dags())).toBe(0);
    expect(await generateCommand([dir.path("crm")], dags())).toBe(0);
    await writeFile(dir.path("dags/hand_written.py"), "# my own DAG\nDAG = 1\n");
    expect(await generateCommand([dir.path("shop")], dags())).toBe(0);
    expect(await listing()).toEqual(["contacts.py", "hand_written.py", "orders.py", "refunds.py"]);
    expect(await readFile(dir.path("dags/orders.py"), "utf8")).toContain("\n# project: shop\n");
    expect(await readFile(dir.path("dags/contacts.py"), "utf8")).toContain("\n# project: crm\n");

    await rm(dir.path("shop/refunds.yaml"));
    output.clear("out");
    expect(await generateCommand([dir.path("shop")], dags({ check: true }))).toBe(1);
    expect(output.out()).toMatch(/refunds\.py \(no longer generated\)/);
    expect(output.out()).not.toContain("contacts.py");
    expect(output.out()).not.toContain("hand_written.py");
    expect(await generateCommand([dir.path("shop")], dags())).toBe(0);
    expect(await listing()).toEqual(["contacts.py", "hand_written.py", "orders.py"]);
    expect(await generateCommand([dir.path("crm")], dags({ check: true }))).toBe(0);
  });

  it("removes a project's last DAG when its last pipeline is gone", async () => {
    dir = await twoProjects();
    expect(await generateCommand([dir.path("crm")], dags())).toBe(0);
    expect(await generateCommand([dir.path("shop")], dags())).toBe(0);
    await rm(dir.path("crm/contacts.yaml"));
    expect(await generateCommand([dir.path("crm")], dags())).toBe(0);
    expect(await listing()).toEqual(["orders.py", "refunds.py"]);
  });

  it("refuses two projects with one name in a run: they could not tell their files apart", async () => {
    dir = await twoProjects();
    await writeFile(dir.path("crm/package.json"), '{"name": "shop"}');
    expect(await generateCommand([dir.path("shop"), dir.path("crm")], dags())).toBe(1);
    expect(output.err()).toContain("error XO_CONFIG_DUPLICATE_NAME");
    expect(output.err()).toContain('project name "shop" is already used at');
    expect(await readdir(dir.dir)).not.toContain("dags");
  });

  it("fails, naming the file and the fix, instead of overwriting a file it did not write", async () => {
    dir = await twoProjects();
    await dir.write("dags/orders.py", "# my own orders DAG\nDAG = 1\n");
    expect(await generateCommand([dir.path("shop")], dags())).toBe(1);
    const err = output.err();
    expect(err).toMatch(/dags\/orders\.py error XO_DAG_NOT_OURS/);
    expect(err).toContain("exists and was not written by xo-foundry; refusing to overwrite it with the DAG of");
    expect(err).toContain("move or delete");
    expect(err).toContain("`pipeline.dag_id`");
    expect(await listing()).toEqual(["orders.py"]);
    expect(await readFile(dir.path("dags/orders.py"), "utf8")).toBe("# my own orders DAG\nDAG = 1\n");

    output.clear("err");
    expect(await generateCommand([dir.path("shop")], dags({ check: true }))).toBe(1);
    expect(output.err()).toContain("refusing to overwrite");
  });

  it("fails instead of overwriting another project's file with the same dag_id", async () => {
    dir = await twoProjects();
    await dir.write("crm/orders.yaml", pipelineYaml("orders"));
    expect(await generateCommand([dir.path("crm")], dags())).toBe(0);
    const before = await readFile(dir.path("dags/orders.py"), "utf8");
    output.clear("out");
    expect(await generateCommand([dir.path("shop")], dags({ json: true }))).toBe(1);
    const report = JSON.parse(output.out()) as { ok: boolean; problems: { file: string; diagnostics: { code: string; message: string }[] }[] };
    expect(report.ok).toBe(false);
    expect(report.problems.map((p) => p.diagnostics[0]!.message)).toEqual([
      expect.stringContaining('orders.py was generated by project "crm", not "shop"'),
    ]);
    expect(await readFile(dir.path("dags/orders.py"), "utf8")).toBe(before);
    expect(await listing()).toEqual(["contacts.py", "orders.py"]);
  });
});

describe("generate-dag", () => {
  it("writes one file and never removes any", async () => {
    dir = await twoProjects();
    expect(await generateCommand([dir.path("shop")], dags())).toBe(0);
    expect(await generateCommand([dir.path("crm")], dags())).toBe(0);
    await writeFile(dir.path("dags/hand_written.py"), "DAG = 1\n");
    await rm(dir.path("shop/refunds.yaml"));
    expect(await generateCommand([dir.path("shop/orders.yaml")], dag())).toBe(0);
    expect(await generateCommand([dir.path("shop/orders.yaml")], dag({ check: true }))).toBe(0);
    expect(await listing()).toEqual(["contacts.py", "hand_written.py", "orders.py", "refunds.py"]);
  });
});
