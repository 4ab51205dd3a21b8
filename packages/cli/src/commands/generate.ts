import path from "node:path";
import { crossPipelineDiagnostics, diagnostic, findProjectDir, type Diagnostic, type LoadedPipeline, type ResolvedPipeline } from "@xo-foundry/core";
import { pipelineFiles } from "../files.js";
import { renderDag, writeDags, type DagConflict, type GeneratedDag } from "../generate.js";
import { projectName } from "../ownership.js";
import { output, symbols } from "../output.js";
import { Projects } from "../projects.js";

export interface GenerateCommandOptions {
  readonly out: string;
  readonly check?: boolean;
  readonly json?: boolean;
  readonly airflowVersion?: string;
  /**
   * The inputs are the complete pipelines of their projects (`generate-dags`): remove
   * the files those projects generated earlier for pipelines that are gone. Never for
   * `generate-dag`, which writes one file and removes nothing.
   */
  readonly removeOrphans?: boolean;
}

export async function generateCommand(inputs: readonly string[], options: GenerateCommandOptions): Promise<number> {
  const out = output(Boolean(options.json));
  const airflowVersion = options.airflowVersion === undefined ? undefined : (Number(options.airflowVersion) as 2 | 3);
  const { files, missing } = await pipelineFiles(inputs);
  const problems: { file: string; diagnostics: Diagnostic[] }[] = missing.map((file) => ({
    file,
    diagnostics: [diagnostic("XO_CONFIG_NOT_FOUND", { file })],
  }));
  const projects = new Projects();
  const names = new ProjectNames();
  if (options.removeOrphans) {
    // A project named on the command line still owns its old files when none of its pipelines is left.
    for (const input of inputs.filter((i) => !missing.includes(i))) names.add(findProjectDir(path.resolve(input)), problems);
  }
  const loaded: (LoadedPipeline & { pipeline: ResolvedPipeline; display: string })[] = [];
  for (const file of files) {
    const { pipeline, project, diagnostics, where, placements } = await projects.load(file);
    const display = path.relative(process.cwd(), file) || file;
    if (!pipeline) {
      problems.push({ file: display, diagnostics });
      continue;
    }
    names.add(project.dir, problems);
    loaded.push({ pipeline, project, where, placements, display });
  }
  // One dag_id twice, one pipeline name twice in a landing zone, one table loaded by two
  // pipelines: the second file's problem.
  for (const { load, diagnostic: d } of crossPipelineDiagnostics(loaded)) problems.push({ file: load.display, diagnostics: [d] });
  for (const p of problems) out.diagnostics(p.diagnostics);
  if (problems.length) {
    out.line(`${symbols.fail} nothing written: ${problems.length} pipeline file(s) have errors`);
    out.document({ ok: false, problems });
    return 1;
  }
  const dags: GeneratedDag[] = [];
  const pipelineOf = new Map<GeneratedDag, string>();
  for (const { pipeline, project, display } of loaded) {
    const dag = renderDag(pipeline, project, { airflowVersion });
    pipelineOf.set(dag, display);
    dags.push(dag);
  }

  const { files: reports, conflicts } = await writeDags(dags, path.resolve(options.out), {
    check: Boolean(options.check),
    prune: options.removeOrphans ? names.all() : [],
  });
  if (conflicts.length) {
    const diagnostics = conflicts.map((c) => conflictDiagnostic(c, pipelineOf.get(c.dag) ?? c.dag.source));
    out.diagnostics(diagnostics);
    out.line(`${symbols.fail} ${conflicts.length} DAG file(s) would replace files that are not this project's; nothing written`);
    out.document({ ok: false, problems: diagnostics.map((d) => ({ file: d.file, diagnostics: [d] })) });
    return 1;
  }
  const stale = reports.filter((r) => r.change !== "unchanged");
  for (const r of reports) {
    const rel = path.relative(process.cwd(), r.file);
    if (options.check) out.line(r.change === "unchanged" ? `${symbols.ok} ${rel}` : `${symbols.stale} ${rel} (${staleReason(r.change)})`);
    else out.line(`${r.change === "unchanged" ? symbols.ok : symbols.stale} ${rel} ${r.change}`);
  }
  if (options.check) {
    out.line(stale.length ? `${stale.length} of ${reports.length} DAG file(s) are stale: run \`xo-foundry generate-dags\`` : `${reports.length} DAG file(s) up to date`);
    out.document({ ok: stale.length === 0, files: reports.map((r) => ({ file: r.file, change: r.change })) });
    return stale.length ? 1 : 0;
  }
  out.line(`${dags.length} DAG file(s) in ${path.relative(process.cwd(), path.resolve(options.out)) || "."}`);
  out.document({ ok: true, files: reports.map((r) => ({ file: r.file, change: r.change })) });
  return 0;
}

/**
 * The project names of one run. Two projects with one name cannot be told apart in a
 * DAGs folder (each would remove the other's files), so that is an error, like two
 * pipelines with one dag_id.
 */
class ProjectNames {
  readonly #dirs = new Map<string, string>();
  /** Each directory's name, read from its package.json once per run, not once per pipeline. */
  readonly #names = new Map<string, string>();

  add(dir: string, problems: { file: string; diagnostics: Diagnostic[] }[]): void {
    let name = this.#names.get(dir);
    if (name === undefined) this.#names.set(dir, (name = projectName(dir)));
    const first = this.#dirs.get(name);
    if (first === undefined) this.#dirs.set(name, dir);
    else if (first !== dir) {
      const display = (d: string) => path.relative(process.cwd(), d) || ".";
      problems.push({
        file: display(dir),
        diagnostics: [
          diagnostic(
            "XO_CONFIG_DUPLICATE_NAME",
            { what: "project name", value: name, firstPath: display(first) },
            { file: path.relative(process.cwd(), path.join(dir, "package.json")), path: "name" },
          ),
        ],
      });
    }
  }

  all(): string[] {
    return [...this.#dirs.keys()].sort();
  }
}

/** A DAG whose file is a person's or another project's. */
function conflictDiagnostic(conflict: DagConflict, pipeline: string): Diagnostic {
  const file = path.relative(process.cwd(), conflict.file) || conflict.file;
  return diagnostic("XO_DAG_NOT_OURS", { file, pipeline, project: conflict.dag.project, owner: conflict.owner }, { file });
}

function staleReason(change: string): string {
  return change === "created" ? "missing" : change === "removed" ? "no longer generated" : "out of date";
}
