import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const INSPECT = fileURLToPath(new URL("./inspect_dag.py", import.meta.url));

/** `literal(<value>)`, the one call `inspect_dag.py` accepts around a config value. */
export interface Literal<T = string> {
  readonly literal: T;
}

/** A task argument that names a module-level constant, with the constant's value. */
export interface ConstantRef<T> {
  readonly name: string;
  readonly value: T;
}

interface TaskBase {
  readonly variable: string;
  readonly task_id: string;
  /** Keyword arguments in the order they were written. */
  readonly __order__: readonly string[];
}

export interface BashTask extends TaskBase {
  readonly operator: "BashOperator";
  readonly bash_command: Literal;
  readonly env: ConstantRef<Record<string, string>>;
  readonly append_env: boolean;
}

export interface PodTask extends TaskBase {
  readonly operator: "KubernetesPodOperator";
  readonly name: string;
  readonly namespace: Literal;
  readonly image: Literal;
  readonly image_pull_policy?: string;
  readonly cmds: readonly Literal[];
  readonly arguments: readonly string[];
  readonly env_vars: ConstantRef<Record<string, string | Literal>>;
  readonly container_resources?: {
    readonly "k8s.V1ResourceRequirements": Partial<Record<"limits" | "requests", Record<string, Literal>>>;
  };
  readonly labels?: Record<string, Literal>;
  readonly service_account_name?: string;
  readonly kubernetes_conn_id?: string;
  readonly in_cluster?: boolean;
  readonly config_file?: Literal;
  readonly startup_timeout_seconds?: number;
  readonly get_logs: boolean;
  readonly on_finish_action: string;
  readonly log_pod_spec_on_failure: boolean;
}


export interface PendulumDate {
  readonly ymd: readonly number[];
  readonly tz: string;
}

/** What `inspect_dag.py` reads back out of a generated file, without executing it. */
export interface InspectedDag<Task extends BashTask | PodTask = BashTask> {
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
  readonly tasks: readonly Task[];
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
export function inspectDags<Task extends BashTask | PodTask = BashTask>(files: readonly string[]): InspectedDag<Task>[] {
  const out = execFileSync("python3", [INSPECT, ...files], { encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
  return JSON.parse(out) as InspectedDag<Task>[];
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
