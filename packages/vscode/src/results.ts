// The answers of the server's commands (docs: the LSP contract of the language server) and
// the messages the extension shows for them. Pure, so the wording is tested without VS Code.

export const SERVER_COMMANDS = {
  validate: "xo-foundry.validate",
  previewDag: "xo-foundry.previewDag",
  generateDag: "xo-foundry.generateDag",
} as const;

export type ServerCommand = (typeof SERVER_COMMANDS)[keyof typeof SERVER_COMMANDS];

/** A diagnostic as @xo-foundry/core serializes it (only what the extension reads). */
export interface ServerDiagnostic {
  readonly code: string;
  readonly severity: "error" | "warning";
  readonly message: string;
  readonly line?: number;
  readonly column?: number;
}

export interface ValidateResult {
  readonly valid: boolean;
  readonly diagnostics: readonly ServerDiagnostic[];
}

export interface PreviewResult extends ValidateResult {
  readonly fileName?: string;
  /** The absolute path generate would write. */
  readonly target?: string;
  /** The Python of the DAG. */
  readonly content?: string;
  /** What `target` holds now; absent when there is no such file. */
  readonly onDisk?: string;
}

export type FileChange = "created" | "updated" | "unchanged" | "removed";

export interface GenerateResult extends ValidateResult {
  readonly files: readonly { readonly file: string; readonly change: FileChange }[];
}

export interface Message {
  readonly level: "info" | "warning" | "error";
  readonly text: string;
}

/**
 * Checks that an answer has the contract's shape. A server of another version may answer
 * differently; saying so beats showing "undefined errors".
 */
export function asResult<T extends ValidateResult>(command: ServerCommand, value: unknown): T {
  const ok =
    typeof value === "object" &&
    value !== null &&
    typeof (value as { valid?: unknown }).valid === "boolean" &&
    Array.isArray((value as { diagnostics?: unknown }).diagnostics) &&
    (command !== SERVER_COMMANDS.generateDag || Array.isArray((value as { files?: unknown }).files));
  if (!ok) {
    const shown = value === undefined ? "nothing" : JSON.stringify(value).slice(0, 200);
    throw new Error(`the language server answered ${command} with ${shown}, not { valid, diagnostics${command === SERVER_COMMANDS.generateDag ? ", files" : ""} }; update @xo-foundry/language-server and this extension to matching versions`);
  }
  return value as T;
}

export function validateMessage(name: string, result: ValidateResult): Message {
  const { warnings } = counts(result.diagnostics);
  if (result.valid && warnings === 0) return { level: "info", text: `xo-foundry: ${name} is valid.` };
  if (result.valid) return { level: "warning", text: `xo-foundry: ${name} is valid, with ${plural(warnings, "warning")}.` };
  return { level: "error", text: `xo-foundry: ${problems(name, result.diagnostics)}` };
}

/** `show` turns an absolute path into what the user reads (workspace-relative). */
export function generateMessage(name: string, result: GenerateResult, show: (file: string) => string): Message {
  const { errors, warnings } = counts(result.diagnostics);
  if (!result.valid || (result.files.length === 0 && errors > 0)) {
    return { level: "error", text: `xo-foundry: did not generate the DAG. ${problems(name, result.diagnostics)}` };
  }
  const suffix = warnings ? ` (${plural(warnings, "warning")})` : "";
  const changed = result.files.filter((f) => f.change !== "unchanged");
  if (result.files.length === 0) return { level: "warning", text: `xo-foundry: ${name} produced no DAG file${suffix}.` };
  if (changed.length === 0) {
    return { level: "info", text: `xo-foundry: the DAG of ${name} is up to date: ${result.files.map((f) => show(f.file)).join(", ")}${suffix}.` };
  }
  const list = changed.map((f) => `${show(f.file)} (${f.change})`).join(", ");
  return { level: "info", text: `xo-foundry: generated the DAG of ${name}: ${list}${suffix}.` };
}

export type PreviewPlan =
  | { readonly kind: "refused"; readonly message: Message }
  /** Show the Python alone: there is no file on disk, or it already holds this text. */
  | { readonly kind: "open"; readonly fileName: string; readonly content: string; readonly target?: string | undefined; readonly upToDate: boolean }
  /** Show the file on disk against the Python generate would write. */
  | { readonly kind: "diff"; readonly fileName: string; readonly content: string; readonly target: string };

export function previewPlan(name: string, result: PreviewResult): PreviewPlan {
  if (!result.valid || result.content === undefined) {
    const why = result.valid ? `the language server returned no DAG for ${name}.` : problems(name, result.diagnostics);
    return { kind: "refused", message: { level: "error", text: `xo-foundry: cannot preview the DAG. ${why}` } };
  }
  const fileName = result.fileName ?? (result.target ? baseName(result.target) : "dag.py");
  if (result.target !== undefined && result.onDisk !== undefined && result.onDisk !== result.content) {
    return { kind: "diff", fileName, content: result.content, target: result.target };
  }
  return { kind: "open", fileName, content: result.content, target: result.target, upToDate: result.onDisk !== undefined };
}

/** "shop.yaml has 2 errors and 1 warning. First, line 4: ..." */
function problems(name: string, diagnostics: readonly ServerDiagnostic[]): string {
  const { errors, warnings } = counts(diagnostics);
  const first = diagnostics.find((d) => d.severity === "error");
  if (!first) return `${name} is not valid.`;
  const counted = warnings ? `${plural(errors, "error")} and ${plural(warnings, "warning")}` : plural(errors, "error");
  const where = first.line !== undefined ? `First, line ${first.line}` : "First";
  return `${name} has ${counted}. ${where}: ${first.message}`;
}

function counts(diagnostics: readonly ServerDiagnostic[]): { errors: number; warnings: number } {
  let errors = 0;
  let warnings = 0;
  for (const d of diagnostics) {
    if (d.severity === "error") errors++;
    else warnings++;
  }
  return { errors, warnings };
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

function baseName(file: string): string {
  return file.split(/[\\/]/).pop() ?? file;
}
