/**
 * The CLI's checks and generation for editors: the language server and `xo-foundry ui`
 * validate text that is not saved yet, preview the DAG it would make, and write it,
 * through exactly the code `validate-config` and `generate-dag` run, so an editor never
 * says something the CLI would not.
 */
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import {
  crossPipelineDiagnostics,
  diagnostic,
  findProjectDir,
  loadPipeline,
  openProject,
  parseYaml,
  pipelineJsonSchema,
  validatePipeline,
  type Diagnostic,
  type Locator,
  type Placement,
  type Project,
  type ResolvedPipeline,
  type TaskSpec,
} from "@xo-foundry/core";
import { pipelineTasks } from "@xo-foundry/runtime";
import { pipelineFiles } from "./files.js";
import { renderDag, writeDags, type DagConflict, type GeneratedDag, type WriteReport } from "./generate.js";

/** Where editors write DAG files when not told otherwise: `<project>/dags`. */
export const DEFAULT_DAGS_FOLDER = "dags";

export interface Checked {
  readonly file: string;
  readonly project: Project;
  /** Set when the file is valid. */
  readonly pipeline?: ResolvedPipeline;
  /** What `validate-config` prints for this file, cross-pipeline problems included. */
  readonly diagnostics: readonly Diagnostic[];
  readonly valid: boolean;
}

export interface Preview extends Checked {
  /** The DAG file the CLI would write, when the pipeline is valid. */
  readonly dag?: GeneratedDag;
  /** The absolute path it would be written to. */
  readonly target?: string;
  /** What that path holds now; undefined when there is no such file. */
  readonly onDisk?: string;
  /** Set when the file on disk is a person's or another project's (generation would refuse). */
  readonly conflict?: DagConflict;
}

export interface Generated extends Checked {
  /** What happened to the DAG file; empty when nothing was written. */
  readonly files: readonly WriteReport[];
  readonly conflict?: DagConflict;
}

interface OtherLoad {
  readonly key: string;
  readonly pipeline?: ResolvedPipeline | undefined;
  readonly where?: Locator | undefined;
  readonly placements?: readonly Placement[] | undefined;
  readonly project: Project;
}

export class Workspace {
  readonly #projects = new Map<string, Promise<Project>>();
  /** The other pipelines of a project as last read from disk, by file, with the mtime and size they were read at. */
  readonly #others = new Map<string, OtherLoad>();

  /** The project folder of a pipeline file or a folder, found as the CLI finds it. */
  projectDir(file: string): string {
    return findProjectDir(path.resolve(file));
  }

  project(file: string): Promise<Project> {
    const dir = this.projectDir(file);
    let p = this.#projects.get(dir);
    if (!p) {
      p = openProject(dir);
      this.#projects.set(dir, p);
      p.catch(() => this.#projects.delete(dir));
    }
    return p;
  }

  /** Forgets opened projects (xo-foundry.yaml changed, a plugin was installed): the next call reads them again. */
  reload(projectDir?: string): void {
    if (projectDir === undefined) this.#projects.clear();
    else this.#projects.delete(path.resolve(projectDir));
    this.#others.clear();
  }

  /** The pipeline files of the project that holds `dir`, as `validate-config <project>` finds them. */
  async pipelines(dir: string): Promise<string[]> {
    return (await pipelineFiles([this.projectDir(dir)])).files;
  }

  /** The JSON Schema of a pipeline file in this file's project: core's, with the installed plugins' options. */
  async schema(file: string): Promise<Record<string, unknown>> {
    return pipelineJsonSchema((await this.project(file)).registry);
  }

  /**
   * Validates `text` (default: the file on disk) as the pipeline file `file`: the
   * diagnostics `validate-config` prints for it, including problems with the project's
   * other pipelines on disk (one dag_id twice, ...).
   */
  async check(file: string, text?: string): Promise<Checked> {
    const absolute = path.resolve(file);
    const project = await this.project(absolute);
    const parsed = text === undefined ? undefined : parseYaml(text, display(absolute));
    const load = parsed
      ? parsed.diagnostics.length
        ? { diagnostics: parsed.diagnostics }
        : validatePipeline(parsed, absolute, project)
      : await loadPipeline(absolute, project);
    const diagnostics = [...project.diagnostics, ...load.diagnostics];
    if (load.pipeline) {
      const others = await this.#otherLoads(project, absolute);
      const mine: OtherLoad = { key: absolute, pipeline: load.pipeline, where: load.where, placements: load.placements, project };
      // The file being edited is reported as if it came last, so a clash is always its own.
      for (const { load: at, diagnostic: d } of crossPipelineDiagnostics([...others, mine])) if (at === mine) diagnostics.push(d);
    }
    const valid = !diagnostics.some((d) => d.severity === "error");
    return { file: absolute, project, diagnostics, valid, ...(valid && load.pipeline ? { pipeline: load.pipeline } : {}) };
  }

  /** The task graph of a valid pipeline, as the generated DAG and `run` have it. */
  async tasks(file: string, text?: string): Promise<Checked & { readonly tasks?: readonly TaskSpec[] }> {
    const checked = await this.check(file, text);
    return checked.pipeline ? { ...checked, tasks: pipelineTasks(checked.pipeline, checked.project) } : checked;
  }

  /** The DAG `generate-dag` would write for `text`, and what is on disk at that place now. */
  async preview(file: string, text?: string, options: { dagsDir?: string; airflowVersion?: 2 | 3 } = {}): Promise<Preview> {
    const checked = await this.check(file, text);
    if (!checked.pipeline) return checked;
    const dag = renderDag(checked.pipeline, checked.project, { airflowVersion: options.airflowVersion });
    const outDir = this.dagsDir(checked.project, options.dagsDir);
    const target = path.join(outDir, dag.fileName);
    const { conflicts } = await writeDags([dag], outDir, { check: true });
    const onDisk = await readIfFile(target);
    return { ...checked, dag, target, ...(onDisk === undefined ? {} : { onDisk }), ...(conflicts[0] ? { conflict: conflicts[0] } : {}) };
  }

  /** Writes the DAG of `file` (saved or as `text`) as `generate-dag -o <dagsDir>` would; refuses when it is not valid. */
  async generate(file: string, text?: string, options: { dagsDir?: string; airflowVersion?: 2 | 3 } = {}): Promise<Generated> {
    const checked = await this.check(file, text);
    if (!checked.pipeline) return { ...checked, files: [] };
    const dag = renderDag(checked.pipeline, checked.project, { airflowVersion: options.airflowVersion });
    const { files, conflicts } = await writeDags([dag], this.dagsDir(checked.project, options.dagsDir));
    if (conflicts[0]) {
      const c = conflicts[0];
      const refusal = diagnostic("XO_DAG_NOT_OURS", { file: display(c.file), pipeline: checked.pipeline.relativeFile, project: c.dag.project, owner: c.owner }, { file: display(c.file) });
      return { ...checked, diagnostics: [...checked.diagnostics, refusal], valid: false, files: [], conflict: c };
    }
    return { ...checked, files };
  }

  /** The DAGs folder: `dagsDir` (relative to the project) or `<project>/dags`. */
  dagsDir(project: Project, dagsDir?: string): string {
    return path.resolve(project.dir, dagsDir ?? DEFAULT_DAGS_FOLDER);
  }

  /** The project's other valid pipelines, read again only when their file changed. */
  async #otherLoads(project: Project, except: string): Promise<OtherLoad[]> {
    const files = (await pipelineFiles([project.dir])).files.filter((f) => f !== except);
    const out: OtherLoad[] = [];
    for (const file of files) {
      const info = await stat(file).catch(() => undefined);
      if (!info) continue;
      const key = `${file}\0${info.mtimeMs}\0${info.size}`;
      let load = this.#others.get(file);
      if (load?.key !== key || load.project !== project) {
        const r = await loadPipeline(file, project);
        load = { key, pipeline: r.pipeline, where: r.where, placements: r.placements, project };
        this.#others.set(file, load);
      }
      if (load.pipeline) out.push(load);
    }
    return out;
  }
}

/** As core shows a file in a diagnostic: relative to the working directory when inside it. */
function display(absolute: string): string {
  const rel = path.relative(process.cwd(), absolute);
  return rel && !rel.startsWith("..") && !path.isAbsolute(rel) ? rel : absolute;
}

async function readIfFile(file: string): Promise<string | undefined> {
  return readFile(file, "utf8").catch(() => undefined);
}
