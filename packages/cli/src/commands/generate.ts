import path from "node:path";
import { diagnostic, type Diagnostic } from "@xo-foundry/core";
import { pipelineFiles } from "../files.js";
import { renderDag, writeDags, type GeneratedDag } from "../generate.js";
import { output, symbols } from "../output.js";
import { Projects } from "../projects.js";

export interface GenerateCommandOptions {
  readonly out: string;
  readonly check?: boolean;
  readonly json?: boolean;
  readonly airflowVersion?: string;
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
  const dags: GeneratedDag[] = [];
  const byDagId = new Map<string, string>();
  for (const file of files) {
    const { pipeline, project, diagnostics } = await projects.load(file);
    const display = path.relative(process.cwd(), file) || file;
    if (!pipeline) {
      problems.push({ file: display, diagnostics });
      continue;
    }
    const dag = renderDag(pipeline, project, { airflowVersion });
    const first = byDagId.get(dag.dagId);
    if (first) {
      problems.push({
        file: display,
        diagnostics: [diagnostic("XO_CONFIG_DUPLICATE_NAME", { what: "dag_id", value: dag.dagId, firstPath: first }, { file: display, path: "pipeline.dag_id" })],
      });
      continue;
    }
    byDagId.set(dag.dagId, display);
    dags.push(dag);
  }
  for (const p of problems) out.diagnostics(p.diagnostics);
  if (problems.length) {
    out.line(`${symbols.fail} nothing written: ${problems.length} pipeline file(s) have errors`);
    out.document({ ok: false, problems });
    return 1;
  }

  const reports = await writeDags(dags, path.resolve(options.out), Boolean(options.check));
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

function staleReason(change: string): string {
  return change === "created" ? "missing" : change === "removed" ? "no longer generated" : "out of date";
}
