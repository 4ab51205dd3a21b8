import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const INSPECT = fileURLToPath(new URL("./inspect_dag.py", import.meta.url));

export interface DagTask {
  readonly variable: string;
  readonly task_id: string;
  /** `bash_command=literal("...")`: the one call `inspect_dag.py` accepts. */
  readonly bash_command: { readonly literal: string };
  readonly env: { readonly name: string; readonly value: Record<string, string> };
  readonly append_env: boolean;
  readonly __order__: readonly string[];
}

export interface PendulumDate {
  readonly ymd: readonly number[];
  readonly tz: string;
}

/** What `inspect_dag.py` reads back out of a generated file, without executing it. */
export interface InspectedDag {
  readonly docstring: string | null;
  readonly comments: readonly string[];
  readonly imports: readonly string[];
  readonly top_level: readonly string[];
  readonly constants: readonly string[];
  readonly dag: Record<string, unknown> & {
    readonly start_date: PendulumDate;
    readonly end_date?: PendulumDate;
    readonly default_args: Record<string, unknown>;
    readonly __order__: readonly string[];
  };
  readonly tasks: readonly DagTask[];
  readonly edges: readonly (readonly [string, string])[];
}

/** A scratch directory for generated files; call `dispose` in afterAll. */
export function scratch(): { write(name: string, content: string): string; dispose(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), "xo-ingest-test-"));
  return {
    write(name, content) {
      const file = path.join(dir, name);
      writeFileSync(file, content);
      return file;
    },
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** One python3 process for all files keeps the suite fast. */
export function inspectDags(files: readonly string[]): InspectedDag[] {
  const out = execFileSync("python3", [INSPECT, ...files], { encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
  return JSON.parse(out) as InspectedDag[];
}

/** Parses each file with Python's own parser; returns the files that failed, with the error. */
export function pythonParseErrors(files: readonly string[]): string[] {
  const script = [
    "import ast, sys",
    "for f in sys.argv[1:]:",
    "    try:",
    "        ast.parse(open(f, encoding='ascii').read(), filename=f)",
    "    except Exception as e:",
    "        print(f, repr(e))",
  ].join("\n");
  const out = execFileSync("python3", ["-c", script, ...files], { encoding: "utf8" });
  return out.split("\n").filter((l) => l !== "");
}
