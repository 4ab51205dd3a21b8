/**
 * `xo-foundry plugin docs --check` on every first-party plugin and template package, so a
 * README whose options tables no longer match the plugin's schemas fails the tests
 * (regenerate with `npx xo-foundry plugin docs plugins/<id>`). Runs the built CLI on the
 * built plugins, as a plugin author's CI does.
 */
import { describe, expect, it } from "vitest";
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { repo, xo } from "./helpers.js";

async function pluginPackages(): Promise<string[]> {
  const dirs: string[] = [];
  for (const parent of ["plugins", "templates"]) {
    for (const entry of (await readdir(path.join(repo, parent), { withFileTypes: true })).filter((e) => e.isDirectory())) {
      const meta = JSON.parse(await readFile(path.join(repo, parent, entry.name, "package.json"), "utf8")) as Record<string, unknown>;
      if (meta["xo-foundry"]) dirs.push(`${parent}/${entry.name}`);
    }
  }
  return dirs.sort();
}

describe("plugin docs", () => {
  it("finds every first-party README up to date", async () => {
    const dirs = await pluginPackages();
    expect(dirs).toEqual(expect.arrayContaining(["plugins/api", "plugins/duckdb", "plugins/sql", "templates/hybrid", "templates/ingest"]));
    const r = await xo(["plugin", "docs", "--check", ...dirs]);
    expect(r.stderr).toBe("");
    expect(r.stdout.trim().split("\n")).toEqual(dirs.map((d) => `✔ ${d}/README.md up to date`));
    expect(r.code).toBe(0);
  });

  it("fails --check naming a README whose tables were edited by hand, and regenerates it", async () => {
    const base = path.join(repo, "e2e/.tmp");
    await mkdir(base, { recursive: true });
    const dir = await mkdtemp(path.join(base, "plugin-sql-"));
    try {
      for (const part of ["package.json", "README.md", "dist"]) await cp(path.join(repo, "plugins/sql", part), path.join(dir, part), { recursive: true });
      const original = await readFile(path.join(dir, "README.md"), "utf8");
      const edited = original.replace("| `sql` |", "| `sequel` |");
      expect(edited).not.toBe(original);
      await writeFile(path.join(dir, "README.md"), edited);

      const check = await xo(["plugin", "docs", "--check"], { cwd: dir });
      expect(check.code).toBe(1);
      expect(check.stdout).toContain("~ README.md is stale: run `xo-foundry plugin docs` in .");
      expect(await readFile(path.join(dir, "README.md"), "utf8")).toBe(edited);

      const fix = await xo(["plugin", "docs"], { cwd: dir });
      expect(fix.code).toBe(0);
      expect(fix.stdout).toContain("~ README.md updated");
      expect(await readFile(path.join(dir, "README.md"), "utf8")).toBe(original);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
