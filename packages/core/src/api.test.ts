import { describe, expect, it } from "vitest";
import * as core from "./index.js";

describe("the public API of @xo-foundry/core", () => {
  it("changes only on purpose: the exported names are reviewed in api.golden.txt", async () => {
    const names = Object.keys(core)
      .sort()
      .map((name) => `${name}: ${typeof (core as Record<string, unknown>)[name]}`);
    await expect(`${names.join("\n")}\n`).toMatchFileSnapshot("../api.golden.txt");
  });

  it("speaks plugin API version 2", () => {
    expect(core.PLUGIN_API_VERSION).toBe(2);
  });
});
