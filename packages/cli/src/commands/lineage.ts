/**
 * `xo-foundry lineage [dirs...]`: the project's lineage graph (core's `projectLineage`), as
 * Mermaid text, a self-contained HTML page, or JSON. Pipelines are loaded and validated
 * as `generate-dags` loads them; a pipeline with errors stops the command, since a graph
 * without it would quietly leave its datasets out.
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { diagnostic, projectLineage, type Diagnostic, type LineageGraph, type LineageKind, type Registry } from "@xo-foundry/core";
import { pipelineFiles } from "../files.js";
import { output, symbols } from "../output.js";
import { Projects } from "../projects.js";

export const LINEAGE_FORMATS = ["mermaid", "html", "json"] as const;
export type LineageFormat = (typeof LINEAGE_FORMATS)[number];

export interface LineageCommandOptions {
  readonly format?: LineageFormat;
  /** A file to write instead of stdout; its extension picks the format when --format is not given. */
  readonly output?: string;
  readonly json?: boolean;
}

export async function lineageCommand(inputs: readonly string[], options: LineageCommandOptions): Promise<number> {
  const out = output(Boolean(options.json));
  const { files, missing } = await pipelineFiles(inputs.length > 0 ? inputs : ["."]);
  const problems: { file: string; diagnostics: Diagnostic[] }[] = missing.map((file) => ({ file, diagnostics: [diagnostic("XO_CONFIG_NOT_FOUND", { file })] }));
  const projects = new Projects();
  const loads: { pipeline: NonNullable<Awaited<ReturnType<Projects["load"]>>["pipeline"]>; registry: Registry }[] = [];
  for (const file of files) {
    const { pipeline, project, diagnostics } = await projects.load(file);
    if (pipeline) loads.push({ pipeline, registry: project.registry });
    else problems.push({ file: path.relative(process.cwd(), file) || file, diagnostics });
  }
  if (problems.length > 0 || loads.length === 0) {
    for (const p of problems) out.diagnostics(p.diagnostics);
    out.line(problems.length ? `${symbols.fail} no lineage: ${problems.length} pipeline file(s) have errors` : `${symbols.skip} no pipeline files found in ${inputs.join(", ") || "."}`);
    out.document({ ok: false, problems });
    return 1;
  }
  const graph = projectLineage(loads, loads[0]!.registry);
  if (options.json) {
    out.document({ ok: true, ...graph });
    return 0;
  }
  const format = options.format ?? formatOf(options.output) ?? "mermaid";
  const title = `Lineage of ${loads.length === 1 ? loads[0]!.pipeline.config.pipeline.name : `${loads.length} pipelines`}`;
  const text =
    format === "json" ? `${JSON.stringify(graph, null, 2)}\n` : format === "mermaid" ? mermaid(graph) : (await import("./lineage-html.js")).lineageHtml(graph, { title });
  if (options.output === undefined) {
    process.stdout.write(text);
    return 0;
  }
  try {
    await mkdir(path.dirname(path.resolve(options.output)), { recursive: true });
    await writeFile(options.output, text);
  } catch (e) {
    process.stderr.write(`${symbols.fail} cannot write ${options.output}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}\n`);
    return 1;
  }
  out.line(`${symbols.ok} ${options.output}: ${format}, ${graph.nodes.length} nodes and ${graph.edges.length} edges from ${loads.length} pipeline(s)`);
  return 0;
}

function formatOf(file: string | undefined): LineageFormat | undefined {
  const ext = file === undefined ? "" : path.extname(file).toLowerCase();
  return ext === ".html" || ext === ".htm" ? "html" : ext === ".json" ? "json" : ext === ".mmd" || ext === ".mermaid" ? "mermaid" : undefined;
}

// ---------------------------------------------------------------- mermaid

/** Fill and stroke per kind, readable on GitHub's light and dark themes alike. */
const MERMAID_STYLE: Readonly<Record<LineageKind, string>> = {
  source: "fill:#dbeafe,stroke:#2563eb,color:#1e3a8a",
  landing: "fill:#fef3c7,stroke:#d97706,color:#78350f",
  table: "fill:#dcfce7,stroke:#16a34a,color:#14532d",
  model: "fill:#ede9fe,stroke:#7c3aed,color:#4c1d95",
  dataset: "fill:#f1f5f9,stroke:#64748b,color:#1e293b",
  destination: "fill:#fce7f3,stroke:#db2777,color:#831843",
  pipeline: "fill:#e0f2fe,stroke:#0284c7,color:#0c4a6e",
};

/** A Mermaid flowchart: one node per dataset (ids n0, n1, ...), edges labelled with their task. */
export function mermaid(graph: LineageGraph): string {
  const ids = new Map(graph.nodes.map((n, i) => [n.id, `n${i}`]));
  const lines = ["flowchart LR"];
  for (const kind of new Set(graph.nodes.map((n) => n.kind))) lines.push(`  classDef ${kind} ${MERMAID_STYLE[kind]}`);
  for (const n of graph.nodes) {
    const sub = [n.pipeline, n.kind === "table" || n.kind === "model" ? n.namespace : undefined].filter(Boolean).join(" · ");
    lines.push(`  ${ids.get(n.id)}["${mermaidText(n.label)}${sub ? `<br/><small>${mermaidText(sub)}</small>` : ""}"]:::${n.kind}`);
  }
  for (const e of graph.edges) {
    const arrow = e.kind === "trigger" ? "-.->" : "-->";
    lines.push(`  ${ids.get(e.from)} ${arrow}|"${mermaidText(e.via)}"| ${ids.get(e.to)}`);
  }
  return `${lines.join("\n")}\n`;
}

/** Text inside a quoted Mermaid label: its entity codes for what Mermaid or HTML would read as syntax. */
function mermaidText(text: string): string {
  return text.replace(/[&"<>|#\n\r]/g, (c) => ({ "&": "#amp;", '"': "#quot;", "<": "#lt;", ">": "#gt;", "|": "#124;", "#": "#35;", "\n": " ", "\r": " " })[c]!);
}
