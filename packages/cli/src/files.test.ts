import path from "node:path";
import { testdir } from "@xo-foundry/testkit";
import { describe, expect, it } from "vitest";
import { mapInOrder, pipelineFiles } from "./files.js";

describe("pipelineFiles", () => {
  it("finds pipeline YAML in folders, leaving out dbt projects, fixtures, the project file and hidden folders", async () => {
    const dir = await testdir({
      "xo-foundry.yaml": "defaults: {}\n",
      "shop.yaml": "pipeline: {}\n",
      "shop.test.yaml": "tests: []\n",
      "more/orders.yml": "pipeline: {}\n",
      "dbt/dbt_project.yml": "name: shop\n",
      "dbt/models/sources.yml": "version: 2\n",
      ".xo-foundry/landing/x.yaml": "x: 1\n",
    });
    try {
      const { files, missing } = await pipelineFiles([dir.dir, dir.path("nope.yaml")]);
      expect(files.map((f) => path.relative(dir.dir, f))).toEqual(["more/orders.yml", "shop.yaml"]);
      expect(missing).toEqual([dir.path("nope.yaml")]);
    } finally {
      await dir.remove();
    }
  });
});

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("mapInOrder", () => {
  it("keeps the items' order whatever order the calls finish in, with at most `limit` in flight", async () => {
    let inFlight = 0;
    let most = 0;
    const items = Array.from({ length: 20 }, (_, i) => i);
    const out = await mapInOrder(items, 3, async (n, index) => {
      most = Math.max(most, ++inFlight);
      await tick((n * 7) % 5);
      inFlight--;
      return `${n}@${index}`;
    });
    expect(out).toEqual(items.map((n) => `${n}@${n}`));
    expect(most).toBe(3);
    expect(await mapInOrder([], 3, async () => 1)).toEqual([]);
  });

  it("throws the error of the first failed item, starts nothing after a failure, and waits for the calls in flight", async () => {
    const started: number[] = [];
    const settled: number[] = [];
    const run = mapInOrder([0, 1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      started.push(n);
      // Item 2 fails last, item 1 first: the error is still item 1's.
      await tick(n === 2 ? 15 : 1);
      settled.push(n);
      if (n === 1 || n === 2) throw new Error(`item ${n}`);
      return n;
    });
    await expect(run).rejects.toThrow("item 1");
    expect(settled.sort()).toEqual(started.sort());
    expect(started).not.toContain(7);
  });
});
