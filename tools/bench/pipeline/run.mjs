#!/usr/bin/env node
// Pipeline benchmark: REST API (cursor pagination, 5,000 records a page) -> NDJSON landing
// -> DuckDB, with xo-foundry and with dlt's rest_api source, next to two floors: a bare
// fetch-to-NDJSON script and one DuckDB `CREATE TABLE ... AS SELECT * FROM read_ndjson(...)`.
// See tools/bench/README.md. Usage:
//
//   node tools/bench/pipeline/run.mjs [--sizes 200000,1000000,4000000] [--repeats 3]
//        [--only xo,dlt,floor,direct] [--json] [--keep] [--smoke]
//
// Every measurement is a fresh process under `/usr/bin/time -v` (wall time and peak RSS);
// the API runs in a process of its own, started once. Every run is checked: each variant's
// table holds exactly the N records the API served (count, distinct ids, sum(amount),
// max(updated_at)), the fetch floor wrote N lines. This is a benchmark, not a test: it
// fails only when a check fails, never on a number.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createReadStream, existsSync, readFileSync, rmSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { duckdbApi, withDatabase } from "./duckdb.mjs";
import { expectedTotals } from "./records.mjs";
import { benchArgs, commandLine, fail, log, median, osName, run, scratchSpace, sizesAndRepeats, table, tail, track } from "../lib.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, "../../..");
const CLI = path.join(REPO, "packages/cli/bin/xo-foundry.js");
const DEFAULT_PYTHON = path.join(REPO, ".venv/bench-dlt/bin/python");
const TIME = "/usr/bin/time";
const PAGE_SIZE = 5000;
const LOGICAL_DATE = "2026-01-15";
/** Rows of the untimed, checked run of every variant before any timing (it also warms caches). */
const PREFLIGHT_ROWS = 20_000;

const VARIANTS = [
  { id: "xo-run", label: "xo-foundry run" },
  { id: "xo-extract", label: "xo extract task" },
  { id: "xo-load", label: "xo load task" },
  { id: "direct", label: "DuckDB direct" },
  { id: "direct-same", label: "DuckDB direct, same table" },
  { id: "dlt-jsonl", label: "dlt jsonl" },
  { id: "dlt-default", label: "dlt default" },
  { id: "floor", label: "fetch floor" },
];

// What --only accepts, and the units (one or more timed processes in a row) each selects.
const SELECTORS = {
  xo: ["xo-run", "xo-tasks"],
  "xo-run": ["xo-run"],
  "xo-tasks": ["xo-tasks"],
  direct: ["xo-tasks", "direct"], // it loads the very files xo's extract task landed
  dlt: ["dlt-jsonl", "dlt-default"],
  "dlt-jsonl": ["dlt-jsonl"],
  "dlt-default": ["dlt-default"],
  floor: ["floor"],
};

const USAGE = `usage: node tools/bench/pipeline/run.mjs [options]

  --sizes LIST        records per data set (default 200000,1000000,4000000)
  --repeats N         timed fresh-process runs per variant and size; the median is reported
                      (default 3)
  --only LIST         variants: xo (xo-run + xo-tasks), direct (needs xo's extract task, so it
                      runs xo-tasks too), dlt (dlt-jsonl + dlt-default), floor (default: all)
  --dlt-once-after S  a dlt variant whose first run of a size took longer than S seconds is not
                      repeated at that size (default 60; 0 = always repeat)
  --python PATH       Python of the dlt venv (default .venv/bench-dlt/bin/python)
  --smoke             the smallest size only (200000), 1 repeat, every check
  --json              print the results as JSON on stdout (progress still goes to stderr)
  --keep              keep the projects, landing folders and databases (their paths are printed)
  -h, --help          this text

dlt default (its default loader file format for DuckDB) runs at the smallest size only.`;

function parseOptions(argv) {
  const values = benchArgs(argv, {
    sizes: { type: "string", default: "200000,1000000,4000000" },
    repeats: { type: "string", default: "3" },
    only: { type: "string", default: "xo,direct,dlt,floor" },
    "dlt-once-after": { type: "string", default: "60" },
    python: { type: "string", default: DEFAULT_PYTHON },
  });
  const { sizes, repeats } = sizesAndRepeats(values, { max: 1e9 });
  const dltOnceAfterS = Number(values["dlt-once-after"]);
  if (!(dltOnceAfterS >= 0)) fail(`--dlt-once-after: seconds, 0 or more, got ${values["dlt-once-after"]}`);
  const units = new Set();
  for (const name of values.only.split(",").map((s) => s.trim())) {
    if (!SELECTORS[name]) fail(`--only: one or more of ${Object.keys(SELECTORS).join(", ")}; got ${name}`);
    for (const u of SELECTORS[name]) units.add(u);
  }
  return { ...values, sizes, repeats, dltOnceAfterS, units };
}

// ---------------------------------------------------------------------------------------
// Child processes

/** `cmd args` as one fresh process under /usr/bin/time -v: wall seconds, CPU seconds, peak RSS. */
async function timed(ctx, label, cmd, args, options) {
  const stats = path.join(ctx.tmpRoot, "time-v.txt");
  rmSync(stats, { force: true });
  const res = await run(TIME, ["-v", "-o", stats, cmd, ...args], options);
  if (res.code !== 0) {
    fail(`${label}: exit ${res.code ?? res.signal}\n  command: ${[cmd, ...args].join(" ")}\n  last lines of its output:\n${tail(res.stderr + res.stdout, 25)}`);
  }
  const text = await readFile(stats, "utf8");
  const field = (name) => {
    const m = new RegExp(`^\\s*${name.replace(/[()]/g, "\\$&")}: (.*)$`, "m").exec(text);
    if (!m) fail(`${label}: no "${name}" in the output of ${TIME} -v:\n${text}`);
    return m[1].trim();
  };
  const clock = field("Elapsed (wall clock) time (h:mm:ss or m:ss)").split(":").map(Number);
  const wallS = clock.reduce((acc, part) => acc * 60 + part, 0);
  return {
    wallS,
    cpuS: Number(field("User time (seconds)")) + Number(field("System time (seconds)")),
    rssMiB: Number(field("Maximum resident set size (kbytes)")) / 1024,
    stdout: res.stdout,
  };
}

/** The environment of every measured process: nothing of the caller's XO_*, AIRFLOW*, PYTHON* or DLT settings. */
function childEnv(extra) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(XO_|AIRFLOW|PYTHON|DLT_|RUNTIME__|NORMALIZE__|LOAD__|EXTRACT__|DATA_WRITER__|DESTINATION__|SOURCES__)/.test(k)) continue;
    env[k] = v;
  }
  return { ...env, NO_COLOR: "1", ...extra };
}

/** The API server, in its own process for the whole benchmark. */
async function startServer(token) {
  const child = track(
    spawn(process.execPath, [path.join(HERE, "server.mjs")], {
      env: { ...process.env, TOKEN: token, PORT: "0" },
      stdio: ["ignore", "pipe", "pipe"],
    }),
  );
  let stderr = "";
  child.stderr.on("data", (b) => (stderr += b));
  const line = await new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.once("line", resolve);
    child.once("exit", (code) => reject(new Error(`the benchmark API exited (${code}) before listening:\n${stderr}`)));
  });
  child.once("exit", (code, signal) => {
    if (!child.stopping) log(`\nthe benchmark API exited unexpectedly (${code ?? signal}):\n${tail(stderr)}`);
  });
  return {
    url: JSON.parse(line).url,
    stop() {
      child.stopping = true;
      child.kill("SIGTERM");
    },
  };
}

// ---------------------------------------------------------------------------------------
// Checks

/** The table's totals, the same query for every variant; fails unless they are the expected ones. */
async function checkTable(label, database, table, expected) {
  const got = await withDatabase(database, { access_mode: "READ_ONLY" }, async (c) => {
    const row = (
      await c.runAndReadAll(
        `SELECT count(*)::BIGINT AS n, count(DISTINCT id)::BIGINT AS d, sum(round(amount * 100))::HUGEINT::VARCHAR AS cents,
                max(epoch_ms(updated_at))::BIGINT AS updated FROM ${table}`,
      )
    ).getRowObjects()[0];
    return {
      rows: Number(row.n),
      distinctIds: Number(row.d),
      amountCents: Number(row.cents),
      maxUpdatedAt: row.updated === null ? null : new Date(Number(row.updated)).toISOString(),
    };
  });
  const wrong = Object.keys(expected).filter((k) => got[k] !== expected[k]);
  if (wrong.length) {
    fail(`${label}: ${table} in ${database} is wrong:\n` + wrong.map((k) => `  ${k}: ${got[k]}, expected ${expected[k]}`).join("\n"));
  }
  return got;
}

async function countLines(file) {
  let lines = 0;
  for await (const chunk of createReadStream(file)) {
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
  }
  return lines;
}

/** The last stdout line of `xo-foundry task`: its XCom, with the landed files. */
function xcom(label, stdout) {
  const last = stdout.trimEnd().split("\n").at(-1) ?? "";
  try {
    return JSON.parse(last);
  } catch {
    return fail(`${label}: the last stdout line is not the task's JSON summary:\n${tail(stdout, 5)}`);
  }
}

// ---------------------------------------------------------------------------------------
// The variants of one size

/** The xo-foundry project of one data set: in the repo, so its dependencies resolve to the workspace. */
async function writeXoProject(dir, scratch, n) {
  await mkdir(dir, { recursive: true });
  await writeFile(
    path.join(dir, "package.json"),
    `${JSON.stringify(
      {
        name: "xo-foundry-bench-pipeline",
        private: true,
        type: "module",
        dependencies: { "@xo-foundry/plugin-api": "*", "@xo-foundry/plugin-duckdb": "*", "@xo-foundry/template-ingest": "*" },
      },
      null,
      2,
    )}\n`,
  );
  await writeFile(
    path.join(dir, "xo-foundry.yaml"),
    `# Landing folder and database in the benchmark's scratch directory (OS temp dir).
defaults:
  landing:
    uri: ${JSON.stringify(`file://${path.join(scratch, "landing")}`)}
  sink:
    plugin: duckdb
    database: ${JSON.stringify(path.join(scratch, "warehouse.duckdb"))}
`,
  );
  await writeFile(
    path.join(dir, "records.yaml"),
    `# The benchmark API's data set of ${n} records, page by page, into DuckDB (replaced each run).
pipeline:
  name: bench_records
  start_date: 2026-01-01
  load_strategy: full_refresh

source:
  plugin: api
  connection: bench_api      # base URL and bearer token from XO_CONN_BENCH_API
  auth:
    type: bearer
  page_size: ${PAGE_SIZE}
  streams:
    - name: records
      path: datasets/${n}/records
      record_path: items
      pagination:
        type: cursor
        next_cursor_path: next_cursor
        limit_param: limit
      target:
        table: records
        mode: replace
`,
  );
}

function resetDir(dir) {
  rmSync(dir, { recursive: true, force: true });
  return mkdir(dir, { recursive: true });
}

/**
 * One run of each unit. A unit is one or more timed processes in a row; it starts from an
 * empty scratch folder and checks what it wrote. Returns {variantId: sample}.
 */
const UNITS = {
  async "xo-run"(ctx, size) {
    const scratch = path.join(size.scratch, "xo");
    await resetDir(scratch);
    const t = await timed(ctx, `xo-foundry run, N=${size.n}`, process.execPath, [CLI, "run", "records.yaml", "--date", LOGICAL_DATE], {
      cwd: size.project,
      env: ctx.xoEnv,
    });
    const table = await checkTable(`xo-foundry run, N=${size.n}`, path.join(scratch, "warehouse.duckdb"), "main.records", size.expected);
    return { "xo-run": { ...t, table } };
  },

  async "xo-tasks"(ctx, size) {
    const scratch = path.join(size.scratch, "xo");
    await resetDir(scratch);
    // As Airflow runs them: one `xo-foundry task` process per task, the load after the extract.
    const task = (id) =>
      timed(ctx, `xo-foundry task ${id}, N=${size.n}`, process.execPath, [CLI, "task", "records.yaml", id, "--logical-date", LOGICAL_DATE, "--run-id", "bench_tasks"], {
        cwd: size.project,
        env: ctx.xoEnv,
      });
    const extract = await task("extract_records");
    const landed = xcom(`xo extract task, N=${size.n}`, extract.stdout);
    const files = (landed.files ?? []).map((f) => fileURLToPath(f.uri));
    const landedRows = (landed.files ?? []).reduce((sum, f) => sum + f.rows, 0);
    if (landedRows !== size.n) fail(`xo extract task, N=${size.n}: landed ${landedRows} rows, expected ${size.n}`);
    const load = await task("load_records");
    const out = {
      "xo-extract": { ...extract, files: files.length, landedRows },
      "xo-load": { ...load, table: await checkTable(`xo load task, N=${size.n}`, path.join(scratch, "warehouse.duckdb"), "main.records", size.expected) },
    };
    if (ctx.units.has("direct")) {
      const database = path.join(scratch, "direct.duckdb");
      const direct = await timed(ctx, `DuckDB direct, N=${size.n}`, process.execPath, [path.join(HERE, "duckdb_direct.mjs"), "--database", database, ...files], {
        env: childEnv(),
      });
      out.direct = { ...direct, files: files.length, table: await checkTable(`DuckDB direct, N=${size.n}`, database, "main.t", size.expected) };
      // The same statement shape and columns as the xo load: what writing that table costs.
      const same = path.join(scratch, "direct-same.duckdb");
      const sameTable = await timed(ctx, `DuckDB direct (same table), N=${size.n}`, process.execPath, [path.join(HERE, "duckdb_direct.mjs"), "--database", same, "--same-table", ...files], {
        env: childEnv(),
      });
      out["direct-same"] = { ...sameTable, files: files.length, table: await checkTable(`DuckDB direct (same table), N=${size.n}`, same, "main.t", size.expected) };
    }
    return out;
  },

  "dlt-jsonl": (ctx, size) => dltRun(ctx, size, "dlt-jsonl", "jsonl"),
  "dlt-default": (ctx, size) => dltRun(ctx, size, "dlt-default", undefined),

  async floor(ctx, size) {
    const scratch = path.join(size.scratch, "floor");
    await resetDir(scratch);
    const file = path.join(scratch, "records.ndjson");
    const args = [path.join(HERE, "fetch_floor.mjs"), "--base-url", ctx.api.url, "--rows", String(size.n), "--page-size", String(PAGE_SIZE), "--out", file];
    const t = await timed(ctx, `fetch floor, N=${size.n}`, process.execPath, args, { env: childEnv({ BENCH_API_TOKEN: ctx.token }) });
    const lines = await countLines(file);
    if (lines !== size.n) fail(`fetch floor, N=${size.n}: ${file} has ${lines} lines, expected ${size.n}`);
    return { floor: { ...t, lines } };
  },
};

async function dltRun(ctx, size, id, format) {
  const label = `${id}, N=${size.n}`;
  const scratch = path.join(size.scratch, id);
  await resetDir(scratch);
  const database = path.join(scratch, "warehouse.duckdb"); // not bench.duckdb: its catalog name would clash with the dataset
  const args = [
    path.join(HERE, "dlt_pipeline.py"),
    ...["--base-url", ctx.api.url, "--rows", String(size.n), "--page-size", String(PAGE_SIZE)],
    ...["--database", database, "--pipelines-dir", path.join(scratch, "pipelines")],
    ...(format ? ["--loader-file-format", format] : []),
  ];
  const t = await timed(ctx, label, ctx.python, args, {
    cwd: scratch, // dlt reads ./.dlt/config.toml: there is none here
    env: childEnv({
      BENCH_API_TOKEN: ctx.token,
      DLT_DATA_DIR: path.join(scratch, "dlt-data"),
      RUNTIME__DLTHUB_TELEMETRY: "false",
      PYTHONDONTWRITEBYTECODE: "1",
    }),
  });
  const report = xcom(label, t.stdout);
  ctx.versions.dlt = report.dlt_version;
  ctx.versions.pythonDuckdb = report.duckdb_version;
  return { [id]: { ...t, loaderFileFormat: report.loader_file_format, dltStepsS: report.steps_s, table: await checkTable(label, database, "bench.records", size.expected) } };
}

async function prepareSize(ctx, n) {
  const size = {
    n,
    expected: expectedTotals(n),
    project: path.join(ctx.xoRoot, `n${n}`),
    scratch: path.join(ctx.tmpRoot, `n${n}`),
  };
  await writeXoProject(size.project, path.join(size.scratch, "xo"), n);
  return size;
}

function cleanSize(ctx, size) {
  if (ctx.keep) return;
  rmSync(size.scratch, { recursive: true, force: true });
}

const fmtS = (s) => (s >= 100 ? s.toFixed(0) : s >= 10 ? s.toFixed(1) : s.toFixed(2));

async function benchSize(ctx, n) {
  const size = await prepareSize(ctx, n);
  const units = [...ctx.units].filter((u) => UNITS[u] && (u !== "dlt-default" || n === ctx.sizes[0]));
  log(`\nN=${n}: ${Math.ceil(n / PAGE_SIZE)} pages of ${PAGE_SIZE}; ${units.join(", ")}`);
  const samples = {};
  const skipped = new Set();
  for (let r = 0; r < ctx.repeats; r++) {
    const order = units.map((_, i) => units[(i + r) % units.length]).filter((u) => !skipped.has(u));
    const parts = [];
    for (const u of order) {
      const got = await UNITS[u](ctx, size);
      for (const [id, s] of Object.entries(got)) {
        (samples[id] ??= []).push(s);
        parts.push(`${id} ${fmtS(s.wallS)} s ${s.rssMiB.toFixed(0)} MiB`);
        if (r === 0 && u.startsWith("dlt") && ctx.dltOnceAfterS > 0 && s.wallS > ctx.dltOnceAfterS && ctx.repeats > 1) {
          skipped.add(u);
          parts.push(`(${id} took over ${ctx.dltOnceAfterS} s: not repeated at this size)`);
        }
      }
    }
    log(`  repeat ${r + 1}/${ctx.repeats}: ${parts.join(", ")}`);
  }
  cleanSize(ctx, size);

  const variants = {};
  for (const v of VARIANTS) {
    const s = samples[v.id];
    if (!s) continue;
    const walls = s.map((x) => x.wallS);
    const last = s.at(-1);
    variants[v.id] = {
      label: v.label,
      runs: s.length,
      wallS: median(walls),
      minS: Math.min(...walls),
      maxS: Math.max(...walls),
      samplesS: walls,
      cpuS: median(s.map((x) => x.cpuS)),
      // The highest peak of the runs: what the machine must have room for.
      peakRssMiB: Math.max(...s.map((x) => x.rssMiB)),
      // Rows in its table; for the extract task the rows it landed, for the floor the lines it wrote.
      rows: last.table?.rows ?? last.landedRows ?? last.lines,
      ...(last.table ? { table: last.table } : {}),
      ...(last.files !== undefined ? { files: last.files } : {}),
      ...(last.dltStepsS ? { dltStepsS: last.dltStepsS, loaderFileFormat: last.loaderFileFormat } : {}),
    };
  }
  const ratio = (a, b, key) => (variants[a] && variants[b] ? variants[a][key] / variants[b][key] : null);
  return {
    n,
    pageSize: PAGE_SIZE,
    pages: Math.ceil(n / PAGE_SIZE),
    expected: size.expected,
    variants,
    ratios: {
      xoRunOverDltJsonlTime: ratio("xo-run", "dlt-jsonl", "wallS"),
      xoRunOverDltJsonlRss: ratio("xo-run", "dlt-jsonl", "peakRssMiB"),
      xoLoadOverDirectTime: ratio("xo-load", "direct", "wallS"),
      xoLoadOverDirectSameTableTime: ratio("xo-load", "direct-same", "wallS"),
      floorOverXoExtractTime: ratio("floor", "xo-extract", "wallS"),
    },
    project: ctx.keep ? size.project : undefined,
    scratch: ctx.keep ? size.scratch : undefined,
  };
}

/** Every selected variant once on a small data set, checked, untimed: fails fast, warms caches. */
async function preflight(ctx) {
  const size = await prepareSize(ctx, PREFLIGHT_ROWS);
  log(`preflight: every variant once on ${PREFLIGHT_ROWS} records, checked, not timed`);
  for (const u of ctx.units) if (UNITS[u]) await UNITS[u](ctx, size);
  rmSync(size.scratch, { recursive: true, force: true });
  rmSync(size.project, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------
// Statistics and formatting

const times = (x) => (x === null || x === undefined ? "-" : `${x.toFixed(2)}x`);

function printSize(r) {
  const xo = r.variants["xo-run"];
  const dlt = r.variants["dlt-jsonl"];
  const rows = Object.values(r.variants).map((x) => [
    x.label,
    x.runs,
    `${fmtS(x.wallS)} (${fmtS(x.minS)}-${fmtS(x.maxS)})`,
    fmtS(x.cpuS),
    x.peakRssMiB.toFixed(0),
    xo ? times(x.wallS / xo.wallS) : "-",
    dlt ? times(x.peakRssMiB / dlt.peakRssMiB) : "-",
    x.rows,
  ]);
  console.log(`\nN = ${r.n} records, ${r.pages} pages of ${r.pageSize}: median of the runs, each a fresh process`);
  console.log(table(rows, ["variant", "runs", "wall s (min-max)", "CPU s", "peak RSS MiB", "time vs xo run", "RSS vs dlt jsonl", "rows"]));
  const q = r.ratios;
  const lines = [
    [q.xoRunOverDltJsonlTime, `xo run vs dlt jsonl:            time ${times(q.xoRunOverDltJsonlTime)}, RSS ${times(q.xoRunOverDltJsonlRss)} (xo / dlt)`],
    [q.xoLoadOverDirectTime, `xo load task vs DuckDB direct:  time ${times(q.xoLoadOverDirectTime)} (xo / direct)`],
    [q.xoLoadOverDirectSameTableTime, `xo load task vs DuckDB direct, same table: time ${times(q.xoLoadOverDirectSameTableTime)} (xo / direct)`],
    [q.floorOverXoExtractTime, `xo extract task vs fetch floor: speed ${times(q.floorOverXoExtractTime)} (floor time / xo extract time)`],
  ];
  for (const [value, text] of lines) if (value !== null) console.log(text);
}

// ---------------------------------------------------------------------------------------

async function main() {
  const opts = commandLine(USAGE, parseOptions);
  if (typeof opts === "number") return opts;
  if (!existsSync(TIME)) {
    log(`pipeline bench: ${TIME} is missing; install GNU time (apt-get install time)`);
    return 2;
  }
  if (!existsSync(path.join(REPO, "packages/cli/dist/index.js"))) {
    log("pipeline bench: the CLI is not built; run `npx nx run-many -t build` from the repo root first");
    return 2;
  }
  if ([...opts.units].some((u) => u.startsWith("dlt")) && !existsSync(opts.python)) {
    log(`pipeline bench: no dlt venv at ${opts.python}; run tools/bench/pipeline/setup.sh first (or leave dlt out: --only xo,direct,floor)`);
    return 2;
  }

  const started = Date.now();
  // The xo-foundry projects must sit inside the repo so that their package.json dependencies
  // resolve to the workspace packages; their landing folders and databases go to the OS temp dir.
  const token = randomBytes(16).toString("hex");
  const space = await scratchSpace(REPO, "pipeline", { keep: opts.keep, beforeCleanup: () => ctx.api?.stop() });
  const ctx = {
    ...opts,
    token,
    xoRoot: space.xoRoot,
    tmpRoot: space.tmpRoot,
    versions: {},
  };
  const cleanup = space.cleanup;

  try {
    ctx.api = await startServer(token);
    ctx.xoEnv = childEnv({ XO_CONN_BENCH_API: JSON.stringify({ host: ctx.api.url, password: token }) });
    const machine = {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? "unknown",
      memGiB: Math.round(os.totalmem() / 2 ** 30),
      os: osName(),
      node: process.version,
      // A shared machine: other work running at the same time shows here.
      loadAvgAtStart: os.loadavg().map((x) => Number(x.toFixed(2))),
      duckdbNode: (await duckdbApi()).version?.() ?? JSON.parse(readFileSync(path.join(REPO, "node_modules/@duckdb/node-api/package.json"), "utf8")).version,
    };
    log(`pipeline bench: sizes ${ctx.sizes.join(", ")}; ${ctx.repeats} timed run(s) per variant and size; API at ${ctx.api.url}`);
    log(`machine: ${machine.cpus} cores (${machine.cpuModel}), ${machine.memGiB} GiB, ${machine.os}; load average ${machine.loadAvgAtStart.join(", ")}`);
    await preflight(ctx);
    const results = [];
    for (const n of ctx.sizes) results.push(await benchSize(ctx, n));
    const elapsedS = (Date.now() - started) / 1000;
    const report = {
      benchmark: "pipeline",
      checks: "passed",
      date: new Date().toISOString(),
      machine: { ...machine, loadAvgAtEnd: os.loadavg().map((x) => Number(x.toFixed(2))), dlt: ctx.versions.dlt, duckdbPython: ctx.versions.pythonDuckdb },
      repeats: ctx.repeats,
      elapsedS,
      results,
    };
    if (ctx.json) {
      console.log(JSON.stringify(report, null, 2));
    } else {
      console.log(
        `\n${report.date.slice(0, 10)}; ${machine.cpus} cores, ${machine.memGiB} GiB, ${machine.os}; Node ${machine.node}, ` +
          `DuckDB ${machine.duckdbNode} (node)${ctx.versions.dlt ? `, dlt ${ctx.versions.dlt} with DuckDB ${ctx.versions.pythonDuckdb} (Python)` : ""}`,
      );
      console.log(`load average (1, 5, 15 min) at start ${machine.loadAvgAtStart.join(", ")}, at end ${report.machine.loadAvgAtEnd.join(", ")}`);
      console.log(
        "Timed: each variant's whole process under /usr/bin/time -v (start-up included). Checked: every table holds N rows,\n" +
          "N distinct ids, the API's sum(amount) and max(updated_at); the fetch floor wrote N lines.",
      );
      for (const r of results) printSize(r);
      console.log(`\nwall time of the whole benchmark: ${elapsedS.toFixed(0)} s`);
    }
    return 0;
  } catch (err) {
    log(`\npipeline bench FAILED: ${err.benchFailure ? err.message : err.stack}`);
    if (ctx.json) console.log(JSON.stringify({ benchmark: "pipeline", checks: "failed", error: err.message }, null, 2));
    return 1;
  } finally {
    cleanup();
  }
}

process.exitCode = await main();
