/**
 * xo-foundry's evaluation of dbt node selection (render: per_model) against dbt's own:
 * each selection is given to the real `dbt ls` (dbt-core 1.11) on a project whose graph has
 * folders, tags, materializations, a seed and a snapshot between models, and both must pick
 * the same models.
 */
import { execFile, execFileSync } from "node:child_process";
import { cpSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { testdir, type TestDir } from "@xo-foundry/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dbt } from "./index.js";
import { readManifest } from "./manifest.js";
import { coreOptions } from "./options.js";
import { selectModels, type ManifestNode } from "./select.js";
import { DBT, PYTHON, QUIET_DBT, requireDbt } from "./__fixtures__/shop.js";

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
let dir: TestDir;
let nodes: readonly ManifestNode[];
let expected: string[][];

function dbtArgs(command: string): string[] {
  return [command, "--project-dir", dir.path("project"), "--profiles-dir", dir.dir, "--target-path", dir.path("target"), "--log-path", dir.path("logs")];
}

beforeAll(async () => {
  requireDbt();
  dir = await testdir({ "profiles.yml": "shop_graph:\n  target: dev\n  outputs:\n    dev: { type: duckdb, path: graph.duckdb }\n" });
  cpSync(path.join(here, "__fixtures__/graph_project"), dir.path("project"), { recursive: true });
  await run(DBT, dbtArgs("parse"), { env: { ...process.env, ...QUIET_DBT }, cwd: dir.dir });
  nodes = readManifest(dir.path("target/manifest.json"), "target/manifest.json");
  expected = dbtLsMany(CASES);
}, 180_000);
afterAll(async () => {
  await dir?.remove();
});

/** The models `dbt ls` selects for each case, as sorted unique ids (one dbt process for all of them). */
function dbtLsMany(cases: readonly (readonly [string[], string[]])[]): string[][] {
  const input = JSON.stringify({ args: dbtArgs("ls").slice(1), cases: cases.map(([select, exclude]) => ({ select, exclude })) });
  const out = dir.path("dbt-ls.json");
  execFileSync(PYTHON, [path.join(here, "__fixtures__/dbt_ls_many.py"), out], { input, env: { ...process.env, ...QUIET_DBT }, cwd: dir.dir, stdio: ["pipe", "ignore", "pipe"] });
  return JSON.parse(readFileSync(out, "utf8")) as string[][];
}

const CASES: [select: string[], exclude: string[]][] = [
  [[], []],
  [["stg_a"], []],
  [["+mart_x"], []],
  [["int_ab+"], []],
  [["1+mart_y"], []],
  [["2+mart_x"], []],
  [["int_ab+1"], []],
  [["@int_ab"], []],
  [["tag:daily"], []],
  [["tag:nightly+"], []],
  [["path:models/int"], []],
  [["models/marts/mart_y.sql"], []],
  [["marts"], []],
  [["shop_graph.staging"], []],
  [["shop_graph"], []],
  [["config.materialized:table"], []],
  [["stg_* mart_y"], []],
  [["stg_a", "lonely"], []],
  [["int_ab+,tag:daily"], []],
  [["resource_type:model,config.materialized:view"], []],
  [["+mart_y"], ["stg_b"]],
  [["+mart_y"], ["tag:nightly", "int_codes"]],
  [["package:shop_graph"], ["marts"]],
];

describe("node selection for render: per_model", () => {
  it.each(CASES.map((c, i) => [...c, i] as const))("selects what dbt ls selects for --select %j --exclude %j", (select, exclude, i) => {
    expect(selectModels(nodes, select, exclude).sort()).toEqual(expected[i]);
  });

  it("compares selections that pick different models (the comparison is not vacuous)", () => {
    expect(new Set(expected.map((e) => e.join())).size).toBeGreaterThan(12);
    expect(expected[2]).toEqual(["model.shop_graph.int_ab", "model.shop_graph.int_codes", "model.shop_graph.mart_x", "model.shop_graph.stg_a", "model.shop_graph.stg_b"]);
  });

  it("reads models, seeds, snapshots and sources with their dependencies", () => {
    const martX = nodes.find((n) => n.name === "mart_x")!;
    expect(martX).toMatchObject({ resourceType: "model", packageName: "shop_graph", fqn: ["shop_graph", "marts", "mart_x"], tags: ["daily"], path: "models/marts/mart_x.sql", materialized: "table" });
    expect([...martX.parents].sort()).toEqual(["model.shop_graph.int_codes", "snapshot.shop_graph.ab_snapshot"]);
    expect(nodes.map((n) => n.resourceType).sort()).toEqual(["model", "model", "model", "model", "model", "model", "model", "seed", "snapshot"]);
  });

  it("refuses what it cannot evaluate, naming the selection", () => {
    expect(() => selectModels(nodes, ["state:modified"], [])).toThrow(/cannot evaluate the selection "state:modified": the method "state" is not evaluated here/);
    expect(() => selectModels(nodes, ["source:shop+"], [])).toThrow(/XO_DBT|the method "source"/);
  });
});

describe("render: per_model", () => {
  const expand = (command: "build" | "seed", options: Record<string, unknown>) =>
    dbt()
      .steps!.find((s) => s.id === `dbt.${command}`)!
      .expand!({ stepId: "dbt_build", options: coreOptions.parse({ project_dir: "project", manifest: "target/manifest.json", render: "per_model", ...options }), pipeline: {} as never, projectDir: dir.dir });

  it("is one task per selected model, wired through seeds and snapshots to the nearest selected models", () => {
    const tasks = expand("build", { select: "+mart_y", threads: 2 })!;
    expect(Object.fromEntries(tasks.map((t) => [t.name, t.upstream]))).toEqual({
      int_ab: ["stg_a", "stg_b"],
      int_codes: [],
      mart_x: ["int_ab", "int_codes"],
      mart_y: ["mart_x"],
      stg_a: [],
      stg_b: [],
    });
    const martX = tasks.find((t) => t.name === "mart_x")!;
    expect(martX.with).toMatchObject({ project_dir: "project", select: "fqn:shop_graph.marts.mart_x", threads: 2 });
    expect(martX.with).not.toHaveProperty("render");
    // The same manifest gives the same tasks: generation is deterministic.
    expect(expand("build", { select: "+mart_y", threads: 2 })).toEqual(tasks);
  });

  it("is undefined with render: single, and explains what it cannot do", () => {
    expect(dbt().steps!.find((s) => s.id === "dbt.build")!.expand!({ stepId: "x", options: coreOptions.parse({}), pipeline: {} as never, projectDir: dir.dir })).toBeUndefined();
    expect(() => expand("seed", {})).toThrow(/dbt seed runs no models/);
    expect(() => expand("build", { select: "no_such_model" })).toThrow(expect.objectContaining({ code: "XO_DBT_SELECTION_EMPTY" }));
    expect(() => expand("build", { manifest: "missing/manifest.json" })).toThrow(/reads the compiled manifest missing\/manifest.json, and the file does not exist/);
    expect(() => expand("build", { selector: "nightly" })).toThrow(expect.objectContaining({ code: "XO_DBT_SELECTION_UNSUPPORTED" }));
  });
});
