/**
 * The dbt Core steps: run the dbt CLI on the project with a profile for this run, stream
 * its log, read the outcome from run_results.json, and keep manifest.json and
 * run_results.json with the run in the landing zone.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { joinUri, safeRunId, type StepContext, type StepResult, type StepType } from "@xo-foundry/core";
import { dbtLineage } from "./lineage.js";
import { perModelTasks } from "./per-model.js";
import { DbtError } from "./errors.js";
import { asList, coreOptions, type CoreCommand, type CoreOptions } from "./options.js";
import { chooseSink, GENERATED_TARGET, profileOutput, writeProfiles, type GeneratedProfiles, type ProfileOutput } from "./profiles.js";
import { findDbtProject } from "./project.js";
import { failingNodes, failureReport, nodeLabel, parseRunResults, runSummary, writtenDatasets, type RunResults } from "./results.js";

const DESCRIPTIONS: Record<CoreCommand, string> = {
  build: "Run `dbt build` (seeds, models, snapshots and tests in dependency order) with a profile generated from the pipeline's sink.",
  run: "Run `dbt run` (models) with a profile generated from the pipeline's sink.",
  test: "Run `dbt test` (data and unit tests) with a profile generated from the pipeline's sink.",
  seed: "Run `dbt seed` (load the project's CSV seeds) with a profile generated from the pipeline's sink.",
  snapshot: "Run `dbt snapshot` with a profile generated from the pipeline's sink.",
};

/** Commands that take `--full-refresh`. */
const FULL_REFRESH: ReadonlySet<CoreCommand> = new Set(["build", "run", "seed"]);
/** Lines of dbt's output kept for an error report. */
const TAIL_LINES = 30;
/** How long dbt gets to cancel its queries after SIGINT before it is terminated. */
const CANCEL_GRACE_MS = 10_000;

export function coreStep(command: CoreCommand): StepType<CoreOptions> {
  return {
    id: `dbt.${command}`,
    description: DESCRIPTIONS[command],
    options: coreOptions,
    canSkip: false,
    run: (ctx) => runDbt(command, ctx),
    expand: (input) => (input.options.render === "per_model" ? perModelTasks(command, input) : undefined),
    lineage: (input) => dbtLineage(command, input),
  };
}

/** The dbt flags for a step (everything after the executable). */
export function dbtArguments(
  command: CoreCommand,
  options: CoreOptions,
  where: { projectDir: string; profilesDir: string; targetPath: string; logPath: string; profile?: string | undefined; target?: string | undefined },
  vars: Record<string, unknown>,
): string[] {
  const args = options.warn_error ? ["--warn-error"] : [];
  args.push(command, "--project-dir", where.projectDir, "--profiles-dir", where.profilesDir, "--target-path", where.targetPath, "--log-path", where.logPath);
  if (where.profile !== undefined) args.push("--profile", where.profile);
  if (where.target !== undefined) args.push("--target", where.target);
  for (const [flag, value] of [["--select", options.select], ["--exclude", options.exclude]] as const) {
    const list = asList(value);
    if (list.length > 0) args.push(flag, ...list);
  }
  if (options.selector !== undefined) args.push("--selector", options.selector);
  args.push("--vars", JSON.stringify(vars));
  if (options.threads !== undefined) args.push("--threads", String(options.threads));
  if (options.fail_fast) args.push("--fail-fast");
  if (options.full_refresh && FULL_REFRESH.has(command)) args.push("--full-refresh");
  return args;
}

/** The run's facts as dbt vars; the step's own `vars` win. */
export function runVars(ctx: Pick<StepContext, "window" | "runId">, own: Record<string, unknown>): Record<string, unknown> {
  return { data_interval_start: ctx.window.start, data_interval_end: ctx.window.end, logical_date: ctx.window.logicalDate, run_id: ctx.runId, ...own };
}

/** `dbt` on PATH, a path relative to the project, or a command list. */
export function executable(dbt: string | readonly string[], projectDir: string): { command: string; prefix: string[] } {
  const [first, ...rest] = typeof dbt === "string" ? [dbt] : dbt;
  const command = first!.includes("/") ? path.resolve(projectDir, first!) : first!;
  return { command, prefix: rest };
}

async function runDbt(command: CoreCommand, ctx: StepContext<CoreOptions>): Promise<StepResult> {
  ctx.signal.throwIfAborted();
  const options = ctx.options;
  const project = findDbtProject(ctx.projectDir, options.project_dir);
  const work = await mkdtemp(path.join(tmpdir(), "xo-dbt-"));
  let generated: GeneratedProfiles | undefined;
  try {
    let profilesDir: string;
    let datasets: ProfileOutput | undefined;
    let profile = options.profile;
    let target = options.target;
    if (options.profiles_dir !== undefined) {
      profilesDir = path.resolve(ctx.projectDir, options.profiles_dir);
    } else {
      const sink = chooseSink(ctx.pipeline, options.sink);
      const output = profileOutput({ block: sink.block, sinkName: sink.name, projectDir: ctx.projectDir, schema: options.schema, env: process.env });
      profile ??= project.profile ?? "xo_foundry";
      target ??= GENERATED_TARGET;
      generated = await writeProfiles(profile, target, output);
      profilesDir = generated.dir;
      datasets = output;
      ctx.log.info(`dbt profile ${profile} (target ${target}) generated from sink ${sink.name} (${sink.block.plugin})`);
    }
    const targetPath = path.join(work, "target");
    const args = dbtArguments(command, options, { projectDir: project.dir, profilesDir, targetPath, logPath: path.join(work, "logs"), profile, target }, runVars(ctx, options.vars));
    const { command: exe, prefix } = executable(options.dbt, ctx.projectDir);
    ctx.log.info(`dbt ${command} in ${project.dir}`, { select: asList(options.select), exclude: asList(options.exclude) });
    const exit = await spawnDbt(exe, [...prefix, ...args], { ...dbtEnvironment(), ...options.env, ...(generated?.env ?? {}) }, ctx);

    const results = await readResults(path.join(targetPath, "run_results.json"));
    await keepArtifacts(ctx, targetPath);
    if (exit.code === 0 && results) {
      for (const warned of results.results.filter((r) => r.status === "warn")) ctx.log.warn(`${nodeLabel(warned.unique_id)} warned: ${warned.message ?? ""}`);
      return { summary: runSummary(command, results), writes: writtenDatasets(results, datasets) };
    }
    if (results && failingNodes(results).length > 0) {
      throw new DbtError("XO_DBT_FAILED", failureReport(command, results), "fix the nodes named above; run_results.json and manifest.json are kept with the run in the landing zone");
    }
    const why = exit.signal ? `was stopped by ${exit.signal}` : `exited with code ${String(exit.code)}`;
    throw new DbtError(
      "XO_DBT_ERROR",
      `dbt ${command} ${why} before running nodes. Its last lines:\n${exit.tail.map((l) => `  | ${l}`).join("\n")}`,
      `run \`dbt ${command} --project-dir ${project.dir}\` locally to see the whole output`,
    );
  } finally {
    await generated?.remove();
    await rm(work, { recursive: true, force: true });
  }
}

/** dbt's environment: this process's, minus the connection URIs dbt has no use for. */
function dbtEnvironment(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined && !key.startsWith("XO_CONN_")) env[key] = value;
  return env;
}

interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly tail: readonly string[];
}

/** Runs dbt, logging each line it prints; an abort cancels it with SIGINT, then terminates it. */
function spawnDbt(exe: string, args: readonly string[], env: Record<string, string>, ctx: StepContext): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(exe, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    const tail: string[] = [];
    const keep = (line: string) => {
      tail.push(line);
      if (tail.length > TAIL_LINES) tail.shift();
    };
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on("line", (line) => {
        if (line.trim() === "") return;
        keep(line);
        ctx.log.info(line);
      });
    }
    let timer: NodeJS.Timeout | undefined;
    const cancel = () => {
      ctx.log.warn("cancelling dbt (SIGINT)");
      child.kill("SIGINT");
      timer = setTimeout(() => child.kill("SIGKILL"), CANCEL_GRACE_MS);
    };
    if (ctx.signal.aborted) cancel();
    else ctx.signal.addEventListener("abort", cancel, { once: true });
    child.once("error", (error: NodeJS.ErrnoException) => {
      ctx.signal.removeEventListener("abort", cancel);
      reject(
        error.code === "ENOENT" || error.code === "EACCES"
          ? new DbtError("XO_DBT_EXECUTABLE_NOT_FOUND", `cannot start ${exe}: ${error.message}`, "install dbt-core with its adapter, or set `dbt` in the step to the executable")
          : error,
      );
    });
    child.once("close", (code, signal) => {
      ctx.signal.removeEventListener("abort", cancel);
      if (timer) clearTimeout(timer);
      if (ctx.signal.aborted) return reject(ctx.signal.reason instanceof Error ? ctx.signal.reason : new Error(String(ctx.signal.reason)));
      resolve({ code, signal, tail });
    });
  });
}

async function readResults(file: string): Promise<RunResults | undefined> {
  if (!existsSync(file)) return undefined;
  return parseRunResults(await readFile(file, "utf8"));
}

/** manifest.json and run_results.json under `runs/<pipeline>/run=<id>/<task>/` in the landing zone. */
export function artifactsUri(ctx: Pick<StepContext, "landing" | "pipeline" | "runId" | "taskId">): string {
  return joinUri(ctx.landing.root, "runs", ctx.pipeline.pipeline.name, `run=${safeRunId(ctx.runId)}`, ctx.taskId);
}

async function keepArtifacts(ctx: StepContext, targetPath: string): Promise<void> {
  const base = artifactsUri(ctx);
  for (const name of ["manifest.json", "run_results.json"]) {
    const file = path.join(targetPath, name);
    if (existsSync(file)) await ctx.landing.store.writeText(joinUri(base, name), await readFile(file, "utf8"));
  }
}
