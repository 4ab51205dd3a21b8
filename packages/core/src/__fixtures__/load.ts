import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { openProject, type Project } from "../config/project.js";
import { loadPipeline } from "../config/load.js";
import { fixturePlugins } from "./plugins.js";

/** A minimal valid pipeline for the fixture plugins. */
export const PIPELINE = `pipeline:
  name: shop
  start_date: 2026-01-01
source:
  plugin: api
  streams:
    - name: orders
      path: /orders
`;

const dirs: string[] = [];

/** Removes every project the fixtures made; call from afterEach. */
export async function removeFixtureProjects(): Promise<void> {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
}

/** A throwaway project holding `files`, opened with `plugins` (the fixture plugins by default). */
export async function fixtureProject(files: Record<string, string>, plugins: readonly unknown[] = fixturePlugins()) {
  const dir = await mkdtemp(path.join(os.tmpdir(), "xo-core-"));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), text);
  const project: Project = await openProject(dir, { discover: false, plugins });
  return {
    dir,
    project,
    load: async (name: string) => {
      const result = await loadPipeline(path.join(dir, name), project);
      return { ...result, project, codes: result.diagnostics.map((d) => d.code) };
    },
  };
}

/** Loads one pipeline file, with an optional project file next to it. */
export async function loadFixture(yaml: string, projectYaml?: string) {
  const files: Record<string, string> = { "pipeline.yaml": yaml };
  if (projectYaml !== undefined) files["xo-foundry.yaml"] = projectYaml;
  return (await fixtureProject(files)).load("pipeline.yaml");
}
