import path from "node:path";
import { crossPipelineDiagnostics, diagnostic, type Diagnostic, type LoadedPipeline } from "@xo-foundry/core";
import { pipelineFiles } from "../files.js";
import { output, symbols } from "../output.js";
import { Projects } from "../projects.js";

export interface ValidateOptions {
  readonly json?: boolean;
}

export async function validateCommand(inputs: readonly string[], options: ValidateOptions): Promise<number> {
  const out = output(Boolean(options.json));
  const { files, missing } = await pipelineFiles(inputs);
  const results: { file: string; valid: boolean; diagnostics: Diagnostic[] }[] = missing.map((file) => ({
    file,
    valid: false,
    diagnostics: [diagnostic("XO_CONFIG_NOT_FOUND", { file })],
  }));
  const projects = new Projects();
  const loaded: (LoadedPipeline & { result: (typeof results)[number] })[] = [];
  for (const file of files) {
    const { diagnostics, ...load } = await projects.load(file);
    const result = { file: path.relative(process.cwd(), file) || file, valid: !diagnostics.some((d) => d.severity === "error"), diagnostics };
    results.push(result);
    loaded.push({ ...load, result });
  }
  // A problem between files (one dag_id twice, ...) is the second file's.
  for (const { load, diagnostic: d } of crossPipelineDiagnostics(loaded)) {
    load.result.diagnostics.push(d);
    load.result.valid = false;
  }
  const invalid = results.filter((r) => !r.valid);
  for (const r of results) {
    out.diagnostics(r.diagnostics);
    if (r.valid) out.line(`${symbols.ok} ${r.file}`);
  }
  if (results.length === 0) out.line(`${symbols.skip} no pipeline files found in ${inputs.join(", ")}`);
  const errors = results.reduce((n, r) => n + r.diagnostics.filter((d) => d.severity === "error").length, 0);
  out.line(
    invalid.length === 0
      ? `${results.length} pipeline file(s) valid`
      : `${invalid.length} of ${results.length} pipeline file(s) invalid, ${errors} error(s)`,
  );
  out.document({ valid: invalid.length === 0 && results.length > 0, files: results });
  return invalid.length === 0 && results.length > 0 ? 0 : 1;
}
