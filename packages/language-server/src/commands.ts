/**
 * `workspace/executeCommand` handlers (the shared contract): validate and preview a
 * pipeline's DAG through the CLI's Workspace, from the editor's text when the file is open
 * (unsaved edits count) and from disk otherwise; generate from the saved file only.
 */
import { readFile } from "node:fs/promises";
import type { Diagnostic } from "@xo-foundry/core";
import type { Workspace } from "@xo-foundry/cli/workspace";
import type { Settings } from "./settings.js";

export const COMMANDS = ["xo-foundry.validate", "xo-foundry.previewDag", "xo-foundry.generateDag"] as const;
export type Command = (typeof COMMANDS)[number];

export interface ValidateResult {
  readonly valid: boolean;
  readonly diagnostics: readonly Diagnostic[];
}

export interface PreviewResult extends ValidateResult {
  readonly fileName?: string;
  /** The absolute path the DAG would be written to. */
  readonly target?: string;
  /** The Python `generate-dag` would write. */
  readonly content?: string;
  /** What `target` holds now, when it exists. */
  readonly onDisk?: string;
}

export interface GenerateResult extends ValidateResult {
  readonly files: readonly { readonly file: string; readonly change: string }[];
}

export async function runCommand(workspace: Workspace, command: Command, file: string, text: string | undefined, settings: Settings): Promise<ValidateResult | PreviewResult | GenerateResult> {
  switch (command) {
    case "xo-foundry.validate": {
      const { valid, diagnostics } = await workspace.check(file, text);
      return { valid, diagnostics };
    }
    case "xo-foundry.previewDag": {
      const p = await workspace.preview(file, text, { dagsDir: settings.dagsFolder });
      return {
        valid: p.valid,
        diagnostics: p.diagnostics,
        ...(p.dag ? { fileName: p.dag.fileName, content: p.dag.content } : {}),
        ...(p.target !== undefined ? { target: p.target } : {}),
        ...(p.onDisk !== undefined ? { onDisk: p.onDisk } : {}),
      };
    }
    case "xo-foundry.generateDag": {
      // The DAG names its YAML file and that file's hash: it is made from the file as saved,
      // as `generate-dag` makes it, so `generate-dags --check` agrees with what was written.
      const saved = await readFile(file, "utf8").catch(() => undefined);
      if (text !== undefined && text !== saved) throw new UnsavedFile(file);
      const g = await workspace.generate(file, undefined, { dagsDir: settings.dagsFolder });
      return { valid: g.valid, diagnostics: g.diagnostics, files: g.files.map((f) => ({ file: f.file, change: f.change })) };
    }
  }
}

/** Generate DAG on a file with unsaved edits: the client should save first. */
export class UnsavedFile extends Error {
  constructor(readonly file: string) {
    super(`${file} has unsaved changes: save it first (Generate DAG writes the DAG of the saved file, as generate-dag does)`);
  }
}
