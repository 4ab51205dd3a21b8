#!/usr/bin/env node
// Parse benchmark: how long Airflow's DagBag takes to load N equivalent pipelines written
// as xo-foundry-generated DAG files, as dag-factory YAML, and as hand-written DAG files.
// See tools/bench/README.md. Usage:
//
//   node tools/bench/parse/run.mjs [--sizes 10,100,1000] [--repeats 9] [--scenario all] [--models 20] [--json] [--keep] [--smoke]
//
// Scenario "ingest": the three variants of an ingest pipeline (4 tasks). Scenario "dbt": the same
// pipelines with a dbt step rendered per model (render: per_model, --models tasks in a task
// group, from a compiled manifest), against the same DAGs written by hand.
// Every measurement is a fresh Python process of the Airflow 3 venv; the three variants of
// one size run interleaved (rotating order) in this one process tree, so they share the
// machine's state. Only the DagBag fill is timed (see measure_dagbag.py). This is a
// benchmark, not a test: it prints numbers and ratios and fails only when a DagBag does not
// hold the expected DAGs or the three variants do not build the same DAGs.
import { existsSync, rmSync } from "node:fs";
import { mkdir, readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  pipelineName,
  pipelineSpec,
  writeDagFactoryFolder,
  writeHandWrittenFolder,
  writeXoProject,
} from "./fixtures.mjs";
import { benchArgs, commandLine, fail, log, machineInfo, median, run, scratchSpace, sizesAndRepeats, table, tail } from "../lib.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, "../../..");
const CLI = path.join(REPO, "packages/cli/bin/xo-foundry.js");
const MEASURE = path.join(HERE, "measure_dagbag.py");
const DEFAULT_PYTHON = path.join(REPO, ".venv/airflow3/bin/python");

const ALL_VARIANTS = [
  { id: "hand-written", label: "hand-written" },
  { id: "xo-foundry", label: "xo-foundry" },
  { id: "dag-factory", label: "dag-factory" },
];

const USAGE = `usage: node tools/bench/parse/run.mjs [options]

  --sizes LIST     pipeline counts to measure (default 10,100,1000)
  --repeats N      timed fresh-process runs per variant and size; the median is reported
                   (default 9; one untimed verification run comes first)
  --scenario S     ingest (4 tasks per DAG; hand-written, xo-foundry, dag-factory), dbt (the same
                   plus a dbt step rendered per model; hand-written and xo-foundry), or all (default)
  --models M       dbt models per pipeline in the dbt scenario (default 20)
  --smoke          only the smallest size, 1 repeat: every check, no timing worth reading
  --python PATH    Python of the Airflow 3 venv (default .venv/airflow3/bin/python)
  --json           print the results as JSON on stdout (progress still goes to stderr)
  --keep           keep the generated folders (their paths are printed)
  -h, --help       this text`;

function parseOptions(argv) {
  const values = benchArgs(argv, {
    sizes: { type: "string", default: "10,100,1000" },
    repeats: { type: "string", default: "9" },
    scenario: { type: "string", default: "all" },
    models: { type: "string", default: "20" },
    python: { type: "string", default: DEFAULT_PYTHON },
  });
  if (!["ingest", "dbt", "all"].includes(values.scenario)) fail(`--scenario: ingest, dbt or all, got ${values.scenario}`);
  const models = Number(values.models);
  if (!Number.isInteger(models) || models < 1 || models > 100) fail(`--models: an integer from 1 to 100, got ${values.models}`);
  const scenarios = values.scenario === "all" ? ["ingest", "dbt"] : [values.scenario];
  return { ...values, models, scenarios, ...sizesAndRepeats(values) };
}

const INGEST_TASKS = 4;

// ---------------------------------------------------------------------------------------
// Child processes

/** The environment of every measuring process: a throwaway AIRFLOW_HOME, nothing inherited. */
function airflowEnv(airflowHome, dagFolder) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    // No Airflow settings from the caller's shell, and no XO_* variables: dag-factory runs
    // os.path.expandvars over its YAML, so a set XO_LOGICAL_DATE would change its commands.
    if (k.startsWith("AIRFLOW") || k.startsWith("XO_") || k.startsWith("PYTHON")) continue;
    env[k] = v;
  }
  return {
    ...env,
    AIRFLOW_HOME: airflowHome,
    AIRFLOW__CORE__DAGS_FOLDER: dagFolder,
    AIRFLOW__CORE__LOAD_EXAMPLES: "False",
    AIRFLOW__DATABASE__LOAD_DEFAULT_CONNECTIONS: "False",
    // Default is 30 s per file; dag-factory's single loader file builds every DAG, so give
    // it room at large N rather than turn a slow parse into an import error.
    AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT: "600",
    // dag-factory telemetry is only sent on DAG runs, but keep it off regardless.
    AIRFLOW__DAG_FACTORY__ENABLE_TELEMETRY: "False",
    DO_NOT_TRACK: "1",
    SCARF_NO_ANALYTICS: "true",
    // Never write .pyc files into the venv (it is shared and must stay untouched).
    PYTHONDONTWRITEBYTECODE: "1",
  };
}

async function measure(ctx, variant, folder, n, { fingerprint, tasks }) {
  const out = path.join(ctx.tmpRoot, "result.json");
  rmSync(out, { force: true });
  const args = [MEASURE, folder, out, "--expect-dags", String(n), "--expect-tasks", String(tasks)];
  if (fingerprint) args.push("--fingerprint");
  const res = await run(ctx.python, args, { env: airflowEnv(ctx.airflowHome, folder), cwd: ctx.tmpRoot });
  const result = existsSync(out) ? JSON.parse(await readFile(out, "utf8")) : null;
  if (res.code !== 0 || !result || result.problems.length) {
    const errors = result ? Object.entries(result.import_errors).slice(0, 3) : [];
    fail(
      [
        `${variant.label}, N=${n}: the DagBag of ${folder} is wrong (exit ${res.code ?? res.signal})`,
        ...(result ? result.problems.map((p) => `  - ${p}`) : ["  - no result written"]),
        ...errors.map(([file, msg]) => `  import error in ${file}:\n${tail(msg, 12)}`),
        "  last lines of its output:",
        tail(res.stderr + res.stdout, 25),
      ].join("\n"),
    );
  }
  return result;
}

// ---------------------------------------------------------------------------------------
// Statistics and formatting

const ms = (s) => s * 1000;
const fmt = (x, digits = 1) => x.toFixed(digits);

function firstDifference(a, b, where = "") {
  if (JSON.stringify(a) === JSON.stringify(b)) return null;
  if (a && b && typeof a === "object" && typeof b === "object") {
    for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      const d = firstDifference(a[k], b[k], `${where}.${k}`);
      if (d) return d;
    }
  }
  return `${where || "(root)"}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`;
}

// ---------------------------------------------------------------------------------------
// One size

async function benchSize(ctx, n, scenario) {
  const dbtModels = scenario === "dbt" ? ctx.models : 0;
  const tasksPerDag = INGEST_TASKS + dbtModels;
  // dag-factory has no dbt rendering of its own; the dbt scenario compares with hand-written only.
  const VARIANTS = scenario === "dbt" ? ALL_VARIANTS.filter((v) => v.id !== "dag-factory") : ALL_VARIANTS;
  const specs = Array.from({ length: n }, (_, i) => pipelineSpec(pipelineName(i, n), { dbtModels }));
  const base = path.join(ctx.tmpRoot, `${scenario}-n${n}`);
  const project = path.join(ctx.xoRoot, `${scenario}-n${n}`);
  const folders = {
    "hand-written": path.join(base, "hand-written"),
    "xo-foundry": path.join(base, "xo-foundry"),
    "dag-factory": path.join(base, "dag-factory"),
  };
  log(`\n${scenario}, N=${n}: writing ${n} pipelines ${VARIANTS.length === 3 ? "three" : "two"} ways${dbtModels ? `, each with ${dbtModels} dbt models rendered per model` : ""}`);
  await writeXoProject(project, specs, { dbtModels });
  if (VARIANTS.some((v) => v.id === "dag-factory")) await writeDagFactoryFolder(folders["dag-factory"], specs);
  await writeHandWrittenFolder(folders["hand-written"], specs);

  // The build step, outside the parse measurement; timed once, for information only.
  const genStart = process.hrtime.bigint();
  const gen = await run(process.execPath, [CLI, "generate-dags", project, "-o", folders["xo-foundry"]], { cwd: REPO });
  const generateMs = Number(process.hrtime.bigint() - genStart) / 1e6;
  if (gen.code !== 0) fail(`xo-foundry generate-dags failed for N=${n} (exit ${gen.code}):\n${tail(gen.stderr + gen.stdout)}`);
  const generated = (await readdir(folders["xo-foundry"])).filter((f) => f.endsWith(".py"));
  if (generated.length !== n) fail(`xo-foundry generate-dags wrote ${generated.length} DAG files, expected ${n}`);
  log(`  xo-foundry generate-dags: ${fmt(generateMs, 0)} ms for ${n} pipelines (build step, not timed below)`);

  // Untimed verification: every bag is complete and the three build the same DAGs.
  const prints = {};
  for (const v of VARIANTS) {
    const r = await measure(ctx, v, folders[v.id], n, { fingerprint: true, tasks: tasksPerDag });
    prints[v.id] = r;
    ctx.versions = { airflow: r.airflow_version, python: r.python, dagFactory: r.dag_factory_version };
  }
  const ref = prints["hand-written"];
  for (const v of VARIANTS) {
    if (prints[v.id].fingerprint_sha256 !== ref.fingerprint_sha256) {
      fail(
        `N=${n}: ${v.label} does not build the same DAGs as hand-written; first difference:\n  ` +
          firstDifference(prints[v.id].fingerprints, ref.fingerprints),
      );
    }
  }
  log(`  verified: ${n} DAGs x ${tasksPerDag} tasks, no import errors, identical DAGs in all ${VARIANTS.length} folders`);

  // Timed repeats, interleaved with a rotating order.
  const samples = Object.fromEntries(VARIANTS.map((v) => [v.id, []]));
  for (let r = 0; r < ctx.repeats; r++) {
    const order = VARIANTS.map((_, i) => VARIANTS[(i + r) % VARIANTS.length]);
    const parts = [];
    for (const v of order) {
      const res = await measure(ctx, v, folders[v.id], n, { fingerprint: false, tasks: tasksPerDag });
      samples[v.id].push(res);
      parts.push(`${v.label} ${fmt(ms(res.fill_wall_s))} ms`);
    }
    log(`  repeat ${r + 1}/${ctx.repeats}: ${parts.join(", ")}`);
  }

  const variants = {};
  for (const v of VARIANTS) {
    const s = samples[v.id];
    const totals = s.map((x) => x.fill_wall_s);
    const totalMs = ms(median(totals));
    const files = s[0].files;
    variants[v.id] = {
      folder: ctx.keep ? folders[v.id] : undefined,
      files,
      dags: s[0].dags,
      tasks: s[0].tasks_total,
      importErrors: Object.keys(s[0].import_errors).length,
      totalMs,
      minMs: ms(Math.min(...totals)),
      maxMs: ms(Math.max(...totals)),
      perFileMs: totalMs / files,
      perDagMs: totalMs / s[0].dags,
      medianFileMs: ms(median(s.map((x) => x.file_median_s))),
      slowestFileMs: ms(median(s.map((x) => x.file_max_s))),
      cpuMs: ms(median(s.map((x) => x.fill_cpu_s))),
      samplesMs: totals.map(ms),
    };
  }
  return {
    scenario,
    n,
    tasksPerDag,
    repeats: ctx.repeats,
    generateMs,
    variants,
    ratios: {
      xoFoundryOverHandWritten: variants["xo-foundry"].totalMs / variants["hand-written"].totalMs,
      ...(variants["dag-factory"] ? { dagFactoryOverXoFoundry: variants["dag-factory"].totalMs / variants["xo-foundry"].totalMs } : {}),
    },
  };
}

function printSize(r) {
  const rows = ALL_VARIANTS.filter((v) => r.variants[v.id]).map((v) => {
    const x = r.variants[v.id];
    return [
      v.label,
      x.files,
      `${fmt(x.totalMs)} (${fmt(x.minMs)}-${fmt(x.maxMs)})`,
      fmt(x.perFileMs, 2),
      fmt(x.medianFileMs, 2),
      fmt(x.perDagMs, 2),
      x.dags,
      x.tasks,
      x.importErrors,
    ];
  });
  const header = ["variant", "files", "total ms (min-max)", "per file ms", "median file ms", "per DAG ms", "DAGs", "tasks", "import errors"];
  console.log(`\n${r.scenario}: N = ${r.n} pipelines, ${r.tasksPerDag} tasks each: DagBag fill, median of ${r.repeats} fresh processes`);
  console.log(table(rows, header));
  console.log(
    `ratios: xo-foundry / hand-written = ${fmt(r.ratios.xoFoundryOverHandWritten, 2)}x` +
      (r.ratios.dagFactoryOverXoFoundry !== undefined ? `   dag-factory / xo-foundry = ${fmt(r.ratios.dagFactoryOverXoFoundry, 2)}x` : ""),
  );
}

// ---------------------------------------------------------------------------------------

async function main() {
  const opts = commandLine(USAGE, parseOptions);
  if (typeof opts === "number") return opts;
  if (!existsSync(opts.python)) {
    log(`parse bench: no Airflow 3 venv at ${opts.python}; run tools/airflow/setup.sh 3 first`);
    return 2;
  }
  if (!existsSync(path.join(REPO, "packages/cli/dist/index.js"))) {
    log("parse bench: the CLI is not built; run `npx nx run-many -t build` from the repo root first");
    return 2;
  }

  const started = Date.now();
  // The xo-foundry project must sit inside the repo so that its package.json dependencies
  // resolve to the workspace packages; everything else goes to the OS temp dir.
  const space = await scratchSpace(REPO, "parse", { keep: opts.keep });
  const ctx = {
    ...opts,
    xoRoot: space.xoRoot,
    tmpRoot: space.tmpRoot,
    versions: {},
  };
  ctx.airflowHome = path.join(ctx.tmpRoot, "airflow-home");
  await mkdir(ctx.airflowHome);
  const cleanup = space.cleanup;

  try {
    const machine = machineInfo();
    log(
      `parse bench: sizes ${ctx.sizes.join(", ")}; ${ctx.repeats} timed run(s) per variant and size, after 1 untimed verification run` +
        (ctx.smoke ? " (smoke run: checks only, timings not meaningful)" : ""),
    );
    log(`machine: ${machine.cpus} cores (${machine.cpuModel}), ${machine.os}`);
    const results = [];
    for (const scenario of ctx.scenarios) for (const n of ctx.sizes) results.push(await benchSize(ctx, n, scenario));
    const elapsedS = (Date.now() - started) / 1000;
    const report = {
      benchmark: "parse",
      checks: "passed",
      smoke: ctx.smoke,
      date: new Date().toISOString(),
      machine: { ...machine, python: ctx.versions.python, airflow: ctx.versions.airflow, dagFactory: ctx.versions.dagFactory },
      repeats: ctx.repeats,
      elapsedS,
      results,
    };

    if (ctx.json) {
      console.log(JSON.stringify(report, null, 2));
    } else {
      console.log(
        `\nAirflow ${report.machine.airflow}, dag-factory ${report.machine.dagFactory}, Python ${report.machine.python}; ` +
          `${machine.cpus} cores, ${machine.os}; ${report.date.slice(0, 10)}`,
      );
      console.log(
        "Timed: the DagBag(dag_folder=...) fill only, in a fresh process per run (interpreter start and `import airflow` excluded).\n" +
          "per file = total / files; median file = median of DagBag's own per-file durations; per DAG = total / DAGs.\n" +
          "dag-factory's folder holds one loader .py (the only file the DagBag parses) plus one YAML per pipeline.",
      );
      for (const r of results) printSize(r);
      console.log("\nsummary (ratios of median totals):");
      console.log(
        table(
          results.map((r) => [
            r.scenario,
            r.n,
            r.tasksPerDag,
            fmt(r.variants["hand-written"].totalMs),
            fmt(r.variants["xo-foundry"].totalMs),
            r.variants["dag-factory"] ? fmt(r.variants["dag-factory"].totalMs) : "-",
            `${fmt(r.ratios.xoFoundryOverHandWritten, 2)}x`,
            r.ratios.dagFactoryOverXoFoundry !== undefined ? `${fmt(r.ratios.dagFactoryOverXoFoundry, 2)}x` : "-",
          ]),
          ["scenario", "N", "tasks/DAG", "hand-written ms", "xo-foundry ms", "dag-factory ms", "xo-foundry / hand-written", "dag-factory / xo-foundry"],
        ),
      );
      console.log(`\nchecks passed; wall time of the whole benchmark: ${fmt(elapsedS, 0)} s`);
    }
    return 0;
  } catch (err) {
    log(`\nparse bench FAILED: ${err.benchFailure ? err.message : err.stack}`);
    if (ctx.json) console.log(JSON.stringify({ benchmark: "parse", checks: "failed", smoke: ctx.smoke, error: err.message }, null, 2));
    return 1;
  } finally {
    cleanup();
  }
}

process.exitCode = await main();
