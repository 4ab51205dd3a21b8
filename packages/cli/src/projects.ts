import path from "node:path";
import { findProjectDir, loadPipeline, openProject, type Diagnostic, type Locator, type Placement, type Project, type ResolvedPipeline } from "@xo-foundry/core";

/** Opens each project once, however many of its pipelines a command touches. */
export class Projects {
  readonly #open = new Map<string, Promise<Project>>();
  /** The project directory of each folder of pipeline files: looked up once, not once per file. */
  readonly #dirs = new Map<string, string>();

  project(file: string): Promise<Project> {
    const dir = this.#projectDir(path.resolve(file));
    let p = this.#open.get(dir);
    if (!p) {
      p = openProject(dir);
      this.#open.set(dir, p);
    }
    return p;
  }

  #projectDir(file: string): string {
    // For a YAML file the search starts at its folder whatever the name (see findProjectDir).
    if (!/\.ya?ml$/i.test(file)) return findProjectDir(file);
    const folder = path.dirname(file);
    let dir = this.#dirs.get(folder);
    if (dir === undefined) this.#dirs.set(folder, (dir = findProjectDir(file)));
    return dir;
  }

  /** Loads and validates one pipeline; project-level problems are reported with it. */
  async load(
    file: string,
  ): Promise<{ pipeline?: ResolvedPipeline; project: Project; diagnostics: Diagnostic[]; where?: Locator; placements?: readonly Placement[] }> {
    const project = await this.project(file);
    const result = await loadPipeline(file, project);
    return {
      ...(result.pipeline && !project.diagnostics.some((d) => d.severity === "error") ? { pipeline: result.pipeline } : {}),
      project,
      diagnostics: [...project.diagnostics, ...result.diagnostics],
      ...(result.where ? { where: result.where } : {}),
      ...(result.placements ? { placements: result.placements } : {}),
    };
  }
}
