import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { readFile } from "node:fs/promises";
import { testdir, type TestDir } from "@xo-foundry/testkit";
import { captureOutput } from "../__fixtures__/output.js";
import { pipelineYaml, testPlugins } from "../__fixtures__/plugins.js";
import { main } from "../index.js";

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

describe("pipelines checked together", () => {
  it("validate-config refuses two pipelines with one name in one landing zone, at the second name", async () => {
    dir = await testdir({
      "shop/package.json": '{"name": "shop"}',
      "shop/a.yaml": pipelineYaml("orders"),
      "shop/b.yaml": pipelineYaml("orders").replace("name: orders", "name: orders\n  dag_id: orders_v2"),
    });
    expect(await xo("validate-config", dir.path("shop"))).toBe(1);
    const err = output.err();
    expect(err).toMatch(/shop\/b\.yaml:2:9 error XO_CONFIG_DUPLICATE_NAME\n {2}pipeline\.name: pipeline name "orders" is already used at \S*shop\/a\.yaml:2:9/);
    expect(err).toContain("share landing paths and saved state");
    expect(output.out()).toContain("1 of 2 pipeline file(s) invalid");
  });

  it("validate-config and generate-dags refuse one dag_id twice, at the second file's line and column", async () => {
    dir = await testdir({
      "shop/package.json": '{"name": "shop"}',
      "shop/a.yaml": pipelineYaml("orders"),
      "shop/b.yaml": `${pipelineYaml("refunds").replace("name: refunds", "name: refunds\n  dag_id: orders")}landing:\n  uri: file://refunds\n`,
    });
    expect(await xo("validate-config", dir.path("shop"))).toBe(1);
    expect(output.err()).toMatch(/shop\/b\.yaml:3:11 error XO_CONFIG_DUPLICATE_NAME\n {2}pipeline\.dag_id: dag_id "orders" is already used at \S*shop\/a\.yaml:2:9/);
    output.clear("err");
    expect(await xo("generate-dags", dir.path("shop"), "-o", dir.path("dags"))).toBe(1);
    expect(output.err()).toMatch(/shop\/b\.yaml:3:11 error XO_CONFIG_DUPLICATE_NAME/);
  });
});

describe("values that used to pass validation and fail generation", () => {
  it("generate-dag writes `retries: -0` as the int 0 instead of failing", async () => {
    dir = await testdir({ "package.json": "{}", "p.yaml": pipelineYaml("p").replace("start_date: 2026-01-01", "start_date: 2026-01-01\n  retries: -0") });
    expect(await xo("generate-dag", dir.path("p.yaml"), "-o", dir.path("dags"))).toBe(0);
    expect(output.err()).toBe("");
    expect(await readFile(dir.path("dags/p.py"), "utf8")).toContain('"retries": 0,');
  });

  it("validate-config refuses a pipeline file whose name starts with `-`, which generate-dag refuses too", async () => {
    dir = await testdir({ "package.json": "{}", "-p.yaml": pipelineYaml("p") });
    expect(await xo("validate-config", dir.path("-p.yaml"))).toBe(1);
    expect(output.err()).toMatch(/-p\.yaml:1:1 error XO_CONFIG_UNSAFE_PATH/);
    output.clear("err");
    expect(await xo("generate-dag", dir.path("-p.yaml"), "-o", dir.path("dags"))).toBe(1);
    expect(output.err()).toContain("error XO_CONFIG_UNSAFE_PATH");
  });

  it("validate-config refuses an impossible start_date with its line and column", async () => {
    dir = await testdir({ "package.json": "{}", "p.yaml": pipelineYaml("p").replace("2026-01-01", "2026-02-30") });
    expect(await xo("validate-config", dir.path("p.yaml"))).toBe(1);
    expect(output.err()).toMatch(/p\.yaml:3:15 error XO_CONFIG_INVALID_VALUE\n {2}pipeline\.start_date: 2026-02-30 is not a date/);
  });
});
