import { afterEach, describe, expect, it } from "vitest";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { openProject } from "./config/project.js";
import { discoverPlugins } from "./discovery.js";
import { PLUGIN_API_VERSION } from "./plugin.js";

let dir: string;
afterEach(() => rm(dir, { recursive: true, force: true }));

/** A package in the project's node_modules, written as plain ESM JavaScript. */
async function pkg(name: string, meta: Record<string, unknown>, source: string) {
  const root = path.join(dir, "node_modules", ...name.split("/"));
  await mkdir(root, { recursive: true });
  await writeFile(path.join(root, "package.json"), JSON.stringify({ name, version: "3.1.4", type: "module", exports: { ".": "./index.js", "./package.json": "./package.json" }, ...meta }));
  await writeFile(path.join(root, "index.js"), source);
}

const plugin = (name: string, apiVersion = PLUGIN_API_VERSION) =>
  `export function make() { return { kind: "xo-foundry/plugin", apiVersion: ${apiVersion}, name: ${JSON.stringify(name)}, version: "3.1.4", templates: [{ id: "t_${name.replace(/\W/g, "_")}", description: "", tasks: () => [] }] }; }\n`;

describe("discoverPlugins", () => {
  it("loads the project's dependencies that declare an xo-foundry field, under any npm name", async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "xo-disc-"));
    await writeFile(path.join(dir, "package.json"), JSON.stringify({ dependencies: { "@acme/extractor": "*", "left-pad": "*" } }));
    await pkg("@acme/extractor", { "xo-foundry": { factory: "make" } }, plugin("@acme/extractor"));
    await pkg("left-pad", {}, "export const leftPad = 1;\n");
    // Installed but not a dependency of the project: never loaded.
    await pkg("sneaky", { "xo-foundry": { factory: "make" } }, plugin("sneaky"));
    const found = await discoverPlugins(dir);
    expect(found.diagnostics).toEqual([]);
    expect(found.plugins.map((p) => [p.packageName, p.packageVersion])).toEqual([["@acme/extractor", "3.1.4"]]);
  });

  it("warns about dependencies that are not installed and plugins only under devDependencies", async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "xo-disc-"));
    await writeFile(
      path.join(dir, "package.json"),
      JSON.stringify({
        dependencies: { good: "*", "@acme/missing": "*", "hidden-manifest": "*" },
        // Missing dev tools are normal on workers (npm ci --omit=dev): no message.
        devDependencies: { "dev-missing": "*", "dev-plugin": "*" },
        optionalDependencies: { "fsevents-like": "*" },
      }),
    );
    await pkg("good", { "xo-foundry": { factory: "make" } }, plugin("good"));
    await pkg("dev-plugin", { "xo-foundry": { factory: "make" } }, plugin("dev-plugin"));
    // Installed, not a plugin, and its exports hide package.json: still no message.
    await pkg("hidden-manifest", { exports: { ".": "./index.js" } }, "export const x = 1;\n");
    const found = await discoverPlugins(dir);
    expect(found.plugins.map((p) => p.packageName)).toEqual(["dev-plugin", "good"]);
    expect(found.diagnostics).toHaveLength(2);
    expect(found.diagnostics[0]).toMatchObject({
      code: "XO_PLUGIN_LOAD_FAILED",
      severity: "warning",
      file: expect.stringMatching(/package\.json$/),
      message: 'could not load plugin "@acme/missing": it is in dependencies but not installed, so it was skipped; run `npm install` (or `npm ci`)',
    });
    expect(found.diagnostics[1]).toMatchObject({
      code: "XO_PLUGIN_DEV_DEPENDENCY",
      severity: "warning",
      message: 'plugin "dev-plugin" is listed under devDependencies, which `npm ci --omit=dev` leaves out on Airflow workers',
      hint: "move it to dependencies: npm install dev-plugin",
    });
  });

  it("reports a broken plugin package without stopping the others", async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "xo-disc-"));
    await writeFile(path.join(dir, "package.json"), JSON.stringify({ dependencies: { good: "*", "no-factory": "*", throws: "*" } }));
    await pkg("good", { "xo-foundry": { factory: "make" } }, plugin("good"));
    await pkg("no-factory", { "xo-foundry": { factory: "missing" } }, plugin("no-factory"));
    await pkg("throws", { "xo-foundry": { factory: "make" } }, 'throw new Error("boom at import");\n');
    const found = await discoverPlugins(dir);
    expect(found.plugins.map((p) => p.packageName)).toEqual(["good"]);
    expect(found.diagnostics.map((d) => [d.code, d.message])).toEqual([
      ["XO_PLUGIN_LOAD_FAILED", 'could not load plugin "no-factory": it does not export a function named "missing"'],
      ["XO_PLUGIN_LOAD_FAILED", 'could not load plugin "throws": boom at import'],
    ]);
  });

  it("loads only the listed packages when the project file names them, and says which are missing", async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "xo-disc-"));
    await writeFile(path.join(dir, "package.json"), JSON.stringify({ dependencies: { a: "*", b: "*" } }));
    await pkg("a", { "xo-foundry": { factory: "make" } }, plugin("a"));
    await pkg("b", { "xo-foundry": { factory: "make" } }, plugin("b"));
    await writeFile(path.join(dir, "xo-foundry.yaml"), "plugins: [b, c]\n");
    const project = await openProject(dir);
    expect(project.registry.plugins().map((p) => p.name)).toEqual(["b"]);
    expect(project.diagnostics.map((d) => d.message)).toEqual(['could not load plugin "c": the package is not installed']);
  });

  it("refuses a discovered plugin of another API version with a message naming both", async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "xo-disc-"));
    await writeFile(path.join(dir, "package.json"), JSON.stringify({ dependencies: { future: "*" } }));
    await pkg("future", { "xo-foundry": { factory: "make" } }, plugin("future", PLUGIN_API_VERSION + 1));
    const project = await openProject(dir);
    expect(project.registry.plugins()).toEqual([]);
    expect(project.diagnostics[0]).toMatchObject({ code: "XO_PLUGIN_API_VERSION" });
    expect(project.diagnostics[0]!.message).toContain(`API version ${PLUGIN_API_VERSION + 1}, but this xo-foundry supports version ${PLUGIN_API_VERSION}`);
  });
});
