/**
 * DAG generation: one Python file per pipeline, byte-identical for the same
 * inputs. The header records where the file came from and what produced it, so
 * `--check` and code review can tell a stale or hand-edited file, and so that
 * generation never touches a file another project or a person wrote.
 */
import { readdir, readFile, rm, writeFile, mkdir } from "node:fs/promises";
import path from "node:path";
import { dagAlerts, emitDag, withOutlets, type Project, type ResolvedPipeline } from "@xo-foundry/core";
import { pipelineTasks } from "@xo-foundry/runtime";
import { IO_CONCURRENCY, mapInOrder } from "./files.js";
import { belongsTo, GENERATED_MARKER, ownershipOf, ownershipOfFile, projectHeaderLine, projectName } from "./ownership.js";
import { CLI_NAME, CLI_VERSION } from "./version.js";

export { GENERATED_MARKER };

export interface GeneratedDag {
  readonly fileName: string;
  readonly dagId: string;
  /** The pipeline file, relative to its project. */
  readonly source: string;
  /** The project identity written into the header (see `projectName`). */
  readonly project: string;
  readonly content: string;
}

export interface GenerateOptions {
  readonly airflowVersion?: 2 | 3 | undefined;
}

export function renderDag(pipeline: ResolvedPipeline, project: Project, options: GenerateOptions = {}): GeneratedDag {
  const { config } = pipeline;
  const tasks = withOutlets(pipeline, pipelineTasks(pipeline, project), project.registry);
  const owners = [
    ...Object.values(config.sources).map((s) => project.registry.ownerOf("source", s.plugin)),
    ...Object.values(config.sinks).map((s) => project.registry.ownerOf("sink", s.plugin)),
    ...tasks.map((t) => project.registry.ownerOf("step", t.step)),
    ...config.alerts.map((a) => project.registry.ownerOf("notifier", a.channel)),
    project.registry.ownerOf("template", config.template),
    project.registry.ownerOf("landing", config.landing.uri.slice(0, config.landing.uri.indexOf(":"))),
  ].filter((p) => p !== undefined);
  const plugins = [...new Set(owners.map((p) => `${p.name} ${p.version}`))].sort();
  const name = nameOf(project);
  const header = [
    `${GENERATED_MARKER} from ${pipeline.relativeFile}`,
    "Regenerate with `xo-foundry generate-dags`; edit the YAML file, not this one.",
    projectHeaderLine(name),
    `source: ${pipeline.relativeFile}`,
    `config-sha256: ${pipeline.configHash}`,
    `generator: ${CLI_NAME} ${CLI_VERSION}`,
    `plugins: ${plugins.join(", ")}`,
  ];
  const content = emitDag({
    pipeline,
    tasks,
    airflowVersion: options.airflowVersion ?? config.pipeline.airflow_version,
    header,
    alerts: dagAlerts(pipeline, project.registry),
  });
  return { fileName: `${config.pipeline.dag_id}.py`, dagId: config.pipeline.dag_id, source: pipeline.relativeFile, project: name, content };
}

/** A project's name, read once per opened project rather than once per DAG (a project is opened once per run). */
const projectNames = new WeakMap<Project, string>();

function nameOf(project: Project): string {
  let name = projectNames.get(project);
  if (name === undefined) projectNames.set(project, (name = projectName(project.dir)));
  return name;
}

export type FileChange = "created" | "updated" | "unchanged" | "removed";

export interface WriteReport {
  readonly file: string;
  readonly change: FileChange;
}

export interface WriteOptions {
  /** Report what would change, write and remove nothing. */
  readonly check?: boolean | undefined;
  /**
   * Projects whose pipelines this run generates completely (`generate-dags`): a file
   * generated for one of them that no DAG of this run produces is removed. Empty (the
   * default, and `generate-dag`) removes nothing.
   */
  readonly prune?: readonly string[] | undefined;
}

/** A DAG whose file exists but is not this project's to replace. */
export interface DagConflict {
  readonly file: string;
  readonly dag: GeneratedDag;
  /** The project named in the file's header (as written there); absent when xo-foundry did not write the file. */
  readonly owner?: string;
}

export interface WriteResult {
  /** Every DAG file of the run and every removed file, in path order; empty when there are conflicts. */
  readonly files: readonly WriteReport[];
  readonly conflicts: readonly DagConflict[];
}

/**
 * Writes the DAGs and removes the files that the `prune` projects generated for
 * pipelines that are gone. Files without the xo-foundry header, files of other
 * projects and files of unnamed (older) generations are never removed; when a DAG
 * would replace a file that is not its project's, nothing at all is written.
 */
export async function writeDags(dags: readonly GeneratedDag[], outDir: string, options: WriteOptions = {}): Promise<WriteResult> {
  const reports: WriteReport[] = [];
  const conflicts: DagConflict[] = [];
  const writes: GeneratedDag[] = [];
  const existing = await folderNames(outDir);
  const currents = await mapInOrder(dags, IO_CONCURRENCY, async (dag) =>
    existing?.has(foldCase(dag.fileName)) === false ? undefined : currentText(path.join(outDir, dag.fileName)),
  );
  for (const [i, dag] of dags.entries()) {
    const file = path.join(outDir, dag.fileName);
    const current = currents[i];
    if (current === undefined) {
      reports.push({ file, change: "created" });
      writes.push(dag);
      continue;
    }
    const ownership = current === DIRECTORY ? ({ kind: "user" } as const) : ownershipOf(current);
    // A header without a project line predates them: the file was xo-foundry's, and the project that now produces this dag_id adopts it.
    if (ownership.kind === "user" || (ownership.kind === "project" && !belongsTo(ownership, dag.project))) {
      conflicts.push({ file, dag, ...(ownership.kind === "project" ? { owner: ownership.project } : {}) });
    } else if (current === dag.content) {
      reports.push({ file, change: "unchanged" });
    } else {
      reports.push({ file, change: "updated" });
      writes.push(dag);
    }
  }
  if (conflicts.length) return { files: [], conflicts };

  const wanted = new Set(dags.map((d) => d.fileName));
  const orphans = await projectFiles(outDir, options.prune ?? [], wanted);
  if (!options.check) {
    await mkdir(outDir, { recursive: true });
    await mapInOrder(writes, IO_CONCURRENCY, (dag) => writeFile(path.join(outDir, dag.fileName), dag.content));
    await mapInOrder(orphans, IO_CONCURRENCY, (orphan) => rm(orphan));
  }
  reports.push(...orphans.map((file) => ({ file, change: "removed" as const })));
  return { files: reports.sort((a, b) => (a.file < b.file ? -1 : 1)), conflicts };
}

/**
 * The names in `dir`, case-folded, so that only the DAG files that may exist are read
 * (on a case-insensitive file system `P1.py` is `p1.py`); empty when `dir` does not
 * exist, undefined when it cannot be listed (then every file is read).
 */
async function folderNames(dir: string): Promise<ReadonlySet<string> | undefined> {
  try {
    return new Set((await readdir(dir)).map(foldCase));
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "ENOENT" ? new Set() : undefined;
  }
}

/** Upper then lower case: folds the letters that fold to ASCII (`ſ`, the Kelvin sign) like the file systems that ignore case. */
function foldCase(name: string): string {
  return name.toUpperCase().toLowerCase();
}

const DIRECTORY = Symbol("directory");

async function currentText(file: string): Promise<string | typeof DIRECTORY | undefined> {
  try {
    return await readFile(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return undefined;
    if (code === "EISDIR") return DIRECTORY;
    throw e;
  }
}

/**
 * The `.py` files directly in `dir`, other than the `wanted` ones, that xo-foundry
 * generated for one of the projects.
 */
async function projectFiles(dir: string, projects: readonly string[], wanted: ReadonlySet<string>): Promise<string[]> {
  if (!projects.length) return [];
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const files = entries
    .filter((e) => e.isFile() && e.name.endsWith(".py") && !wanted.has(e.name))
    .map((e) => path.join(dir, e.name));
  const owners = await mapInOrder(files, IO_CONCURRENCY, (file) => ownershipOfFile(file));
  return files.filter((_, i) => projects.some((p) => belongsTo(owners[i]!, p))).sort();
}
