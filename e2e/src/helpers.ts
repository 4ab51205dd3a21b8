import { spawn } from "node:child_process";
import { chmod, cp, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { DuckDBInstance } from "@duckdb/node-api";

export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const cliBin = path.join(repo, "packages/cli/bin/xo-foundry.js");

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the built `xo-foundry` bin as a user would. */
export function xo(args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  return run(process.execPath, [cliBin, ...args], options);
}

export function run(command: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd ?? repo,
      // Progress lines would make stderr depend on how fast this machine is; tests that
      // check progress turn it back on.
      env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0", XO_PROGRESS_INTERVAL_SECONDS: "0", ...options.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => (stdout += c));
    child.stderr.on("data", (c) => (stderr += c));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(options.input ?? "");
  });
}

/**
 * A throwaway user project inside the repo (so its package.json dependencies
 * resolve to the workspace packages), with the plugins of the examples.
 */
export async function sandbox(files: Record<string, string> = {}, options: { copyExamples?: boolean } = {}) {
  const base = path.join(repo, "e2e/.tmp");
  await mkdir(base, { recursive: true });
  const dir = await mkdtemp(path.join(base, "project-"));
  if (options.copyExamples) {
    await cp(path.join(repo, "examples"), dir, {
      recursive: true,
      filter: (src) => !src.includes(`${path.sep}.xo-foundry`) && !src.includes("node_modules"),
    });
  } else {
    await writeFile(
      path.join(dir, "package.json"),
      JSON.stringify({
        name: "sandbox",
        private: true,
        dependencies: { "@xo-foundry/plugin-api": "*", "@xo-foundry/plugin-duckdb": "*", "@xo-foundry/template-ingest": "*" },
      }),
    );
  }
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), content);
  }
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** A Python check, run by python3 itself: prints JSON on stdout. */
export async function python(script: string, args: readonly string[] = []): Promise<unknown> {
  const r = await run("python3", ["-c", script, ...args]);
  if (r.code !== 0) throw new Error(`python3 failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** Every file parses with Python's own parser; returns {file: error} for those that do not. */
export async function pythonParseErrors(files: readonly string[]): Promise<Record<string, string>> {
  return (await python(
    "import ast,json,sys\nerrs={}\nfor f in sys.argv[1:]:\n  try: ast.parse(open(f,encoding='utf-8').read(), filename=f)\n  except SyntaxError as e: errs[f]=str(e)\nprint(json.dumps(errs))",
    files,
  )) as Record<string, string>;
}

/** The rows of a query on a DuckDB file, opened read-only (as JSON values). */
export async function queryDuckDb(database: string, sql: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(database, { access_mode: "READ_ONLY" });
  const c = await instance.connect();
  try {
    return (await c.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
  } finally {
    c.closeSync();
    instance.closeSync();
  }
}

/** A folder holding an `xo-foundry` executable that runs this repo's CLI, for PATH in Airflow tasks. */
export async function cliShim(scratch: string): Promise<string> {
  const bin = path.join(scratch, "bin");
  await mkdir(bin, { recursive: true });
  await writeFile(path.join(bin, "xo-foundry"), `#!/bin/sh\nexec "${process.execPath}" "${cliBin}" "$@"\n`);
  await chmod(path.join(bin, "xo-foundry"), 0o755);
  return bin;
}
