import path from "node:path";
import { diagnostic, type Diagnostic } from "@xo-foundry/core";
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
  for (const file of files) {
    const { diagnostics } = await projects.load(file);
    results.push({ file: path.relative(process.cwd(), file) || file, valid: !diagnostics.some((d) => d.severity === "error"), diagnostics });
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
