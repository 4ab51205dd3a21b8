#!/usr/bin/env node
// LSP benchmark: how soon after an edit does a person see the error in the editor? The
// xo-foundry language server next to Red Hat's yaml-language-server given the same JSON
// Schema (`xo-foundry schema`), both driven over stdio by the same client (client.mjs) on
// the same pipeline file of N lines. See tools/bench/README.md. Usage:
//
//   node tools/bench/lsp/run.mjs [--sizes 100,500,2000] [--repeats 20] [--json] [--keep] [--smoke]
//
// Per size both servers run side by side for the whole size: each opens the document, then
// in every repeat (the order of the two servers alternating) gets a change that misspells a
// key, and the time until its publishDiagnostics shows that error is measured; then a change
// that fixes it, until the empty diagnostics arrive. This is a benchmark, not a test: it
// prints numbers and ratios and fails only when what it measured is wrong (a server that
// does not report exactly one diagnostic, on the typo's line, naming the typo; or reports
// anything for the valid document).
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { benchArgs, commandLine, fail, log, machineInfo, median, run, scratchSpace, sizesAndRepeats, stopChildren, table, tail } from "../lib.mjs";
import { brief, LspServer, now } from "./client.mjs";
import { KEY, MIN_LINES, TYPO, writeLspProject } from "./fixtures.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, "../../..");
const CLI = path.join(REPO, "packages/cli/bin/xo-foundry.js");
const XO_PKG = path.join(REPO, "packages/language-server");
const XO_BIN = path.join(XO_PKG, "bin/xo-foundry-language-server.js");
const PIPELINE = "bench_lsp";
// Pause after each result before the next edit: nobody types the fix in the same
// millisecond, and a server's late re-publish of the old state lands here, not in a timing.
const PAUSE_MS = 200;
const SMOKE_REPEATS = 2;

const SERVERS = [
  { id: "xo", label: "xo-foundry" },
  { id: "peer", label: "yaml-language-server" },
];

const NOTE =
  "Not the same work: yaml-language-server checks the document against the JSON Schema only; the xo-foundry server runs\n" +
  "`validate-config`'s checks (the JSON Schema's rules plus cross-field ones: references between streams and steps,\n" +
  "connections, plugin options, other pipelines of the project). Both wait before validating a change (debounce).";

const USAGE = `usage: node tools/bench/lsp/run.mjs [options]

  --sizes LIST     lines in the pipeline document (default 100,500,2000; at least ${MIN_LINES})
  --repeats N      timed typo + fix edits per server and size; median and p95 are reported
                   (default 20; one untimed, checked edit pair comes first)
  --timeout S      longest wait for one server answer, in seconds (default 60)
  --smoke          only the smallest size, ${SMOKE_REPEATS} repeats: every check, no timing worth reading
  --json           print the results as JSON on stdout (progress still goes to stderr)
  --keep           keep the generated project and schema (their paths are printed)
  -h, --help       this text`;

function parseOptions(argv) {
  const values = benchArgs(argv, {
    sizes: { type: "string", default: "100,500,2000" },
    repeats: { type: "string", default: "20" },
    timeout: { type: "string", default: "60" },
  });
  const { sizes, repeats } = sizesAndRepeats(values);
  if (sizes.some((n) => n < MIN_LINES)) fail(`--sizes: at least ${MIN_LINES} lines (the header and two streams), got ${values.sizes}`);
  const timeoutS = Number(values.timeout);
  if (!(timeoutS > 0)) fail(`--timeout: a positive number of seconds, got ${values.timeout}`);
  // Two repeats even in a smoke run: the second proves a fixed document takes the same typo again.
  return { ...values, sizes, repeats: values.smoke ? SMOKE_REPEATS : repeats, timeoutMs: timeoutS * 1000 };
}

/** The environment of both servers: no inherited Node.js or xo-foundry settings. */
function childEnv() {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith("XO_") || k.startsWith("NODE_") || k === "FORCE_COLOR") continue;
    env[k] = v;
  }
  return { ...env, NO_COLOR: "1" };
}

/** yaml-language-server as e2e/ depends on it, wherever npm put it. */
function peerPackage() {
  try {
    const pkgJson = createRequire(path.join(REPO, "e2e/package.json")).resolve("yaml-language-server/package.json");
    const pkg = JSON.parse(readFileSync(pkgJson, "utf8"));
    return { dir: path.dirname(pkgJson), version: pkg.version, bin: path.join(path.dirname(pkgJson), pkg.bin["yaml-language-server"]) };
  } catch {
    return undefined;
  }
}

/**
 * How long a server waits after a change before it validates (its debounce), read from its
 * built code because neither reports it: part of every latency here, on purpose (a person
 * waits for it too), and shown on its own so the rest can be compared. undefined if not found.
 */
function debounceMs(file, pattern) {
  try {
    const m = pattern.exec(readFileSync(file, "utf8"));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------
// The two servers, configured for the same file

function xoServer(size, env) {
  return new LspServer({
    label: "xo-foundry language server",
    args: [XO_BIN, "--stdio"],
    cwd: size.project,
    env,
    initializationOptions: { dagsFolder: "dags" },
    settings: { xoFoundry: { dagsFolder: "dags" } },
  });
}

/**
 * yaml-language-server with the file mapped to the project's schema, and nothing it would
 * fetch: no schema store (it downloads a catalog by default), no Kubernetes schema.
 */
function peerServer(ctx, size, env) {
  const yaml = {
    validate: true,
    hover: false,
    completion: false,
    format: { enable: false },
    schemaStore: { enable: false },
    schemas: { [pathToFileURL(size.schema).href]: [size.file] },
    customTags: [],
  };
  return new LspServer({ label: "yaml-language-server", args: [ctx.peer.bin, "--stdio"], cwd: size.project, env, settings: { yaml, "[yaml]": {}, http: {}, editor: {}, files: {} } });
}

// ---------------------------------------------------------------------------------------
// Measuring and checking

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A publish for `version`; servers that send no version are taken at their word. */
const forVersion = (version) => (p) => p.version === undefined || p.version === null || p.version === version;

/** Opens the document; resolves with the time to its first diagnostics, which must be empty. */
async function openDocument(ctx, size, server) {
  const waiting = server.waitFor(size.uri, "first diagnostics after didOpen", () => true, ctx.timeoutMs);
  const t0 = now();
  await server.open(size.uri, size.text);
  const first = await waiting;
  const openMs = first.at - t0;
  await sleep(PAUSE_MS * 2);
  const last = server.publishes.filter((p) => p.uri === size.uri).at(-1);
  if (last.diagnostics.length) {
    fail(`${server.label}, ${size.n} lines: the valid document got ${last.diagnostics.length} diagnostic(s):\n  ${last.diagnostics.map(brief).join("\n  ")}`);
  }
  server.version = 1;
  return openMs;
}

/** One timed change: resolves with the latency (ms) and the publish that ended it. */
async function timedChange(ctx, size, server, what, edit, accept) {
  const version = ++server.version;
  const waiting = server.waitFor(size.uri, what, (p) => forVersion(version)(p) && accept(p), ctx.timeoutMs);
  const t0 = now();
  await server.change(size.uri, version, edit);
  const p = await waiting;
  return { ms: p.at - t0, publish: p };
}

/** Misspells the key, waits for the error; fixes it, waits for the empty diagnostics. Both checked. */
async function typoAndFix(ctx, size, server) {
  const { line, character, length } = size.typo;
  const range = { start: { line, character }, end: { line, character: character + length } };
  const before = server.publishes.length;

  const typo = await timedChange(ctx, size, server, `diagnostics naming "${TYPO}"`, { range, text: TYPO, full: size.typoText }, (p) => p.diagnostics.length > 0);
  const ds = typo.publish.diagnostics;
  if (ds.length !== 1 || ds[0].range.start.line !== line || !ds[0].message.includes(TYPO)) {
    fail(
      `${server.label}, ${size.n} lines: after misspelling "${KEY}" as "${TYPO}" on line ${line + 1}, expected exactly one diagnostic ` +
        `on that line naming "${TYPO}"; got ${ds.length}:\n  ${ds.map(brief).join("\n  ")}`,
    );
  }
  await sleep(PAUSE_MS);

  const fix = await timedChange(ctx, size, server, "empty diagnostics after the fix", { range, text: KEY, full: size.text }, (p) => p.diagnostics.length === 0);
  await sleep(PAUSE_MS);
  const last = server.publishes.filter((p) => p.uri === size.uri).at(-1);
  if (last.diagnostics.length) fail(`${server.label}, ${size.n} lines: after the fix it published diagnostics again:\n  ${last.diagnostics.map(brief).join("\n  ")}`);
  return { typoMs: typo.ms, fixMs: fix.ms, diagnostic: brief(ds[0]), publishes: server.publishes.length - before };
}

/** Nearest-rank percentile: a value that was measured, never an interpolation. */
function percentile(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.max(0, Math.ceil((p / 100) * s.length) - 1)];
}

function stats(xs) {
  return { medianMs: median(xs), p95Ms: percentile(xs, 95), minMs: Math.min(...xs), maxMs: Math.max(...xs), samplesMs: xs };
}

// ---------------------------------------------------------------------------------------
// One size

async function writeSchema(ctx, size) {
  const res = await run(process.execPath, [CLI, "schema", "--project", size.project, "-o", size.schema], { cwd: REPO, env: childEnv() });
  let schema;
  try {
    schema = JSON.parse(readFileSync(size.schema, "utf8"));
  } catch {
    schema = undefined;
  }
  if (res.code !== 0 || !schema?.properties?.pipeline) fail(`xo-foundry schema, ${size.n} lines: exit ${res.code ?? res.signal}, no pipeline schema written\n${tail(res.stderr + res.stdout)}`);
}

async function benchSize(ctx, n) {
  const project = path.join(ctx.xoRoot, `n${n}`);
  log(`\n${n} lines: writing the project, the pipeline and its JSON Schema`);
  const doc = await writeLspProject(project, PIPELINE, n);
  const { line, character, length } = doc.typo;
  const lines = doc.text.split("\n");
  lines[line] = lines[line].slice(0, character) + TYPO + lines[line].slice(character + length);
  const size = { n, project, ...doc, uri: pathToFileURL(doc.file).href, typoText: lines.join("\n"), schema: path.join(ctx.tmpRoot, `n${n}-schema.json`) };
  await writeSchema(ctx, size);

  const env = childEnv();
  const servers = { xo: xoServer(size, env), peer: peerServer(ctx, size, env) };
  try {
    const openMs = {};
    for (const s of SERVERS) {
      await servers[s.id].start();
      openMs[s.id] = await openDocument(ctx, size, servers[s.id]);
    }
    // One untimed pair of edits each, checked like the rest: both servers' code is warm after it.
    for (const s of SERVERS) await typoAndFix(ctx, size, servers[s.id]);
    log(
      `  verified: both servers report nothing for the valid document, and exactly "${TYPO}" on line ${line + 1} after the typo; ` +
        `first diagnostics after open: ${SERVERS.map((s) => `${s.id} ${fmt(openMs[s.id], 0)} ms`).join(", ")}`,
    );

    const samples = Object.fromEntries(SERVERS.map((s) => [s.id, []]));
    for (let r = 0; r < ctx.repeats; r++) {
      const order = r % 2 ? [...SERVERS].reverse() : SERVERS;
      const parts = [];
      for (const s of order) {
        const res = await typoAndFix(ctx, size, servers[s.id]);
        samples[s.id].push(res);
        parts.push(`${s.id} ${fmt(res.typoMs, 0)}/${fmt(res.fixMs, 0)} ms`);
      }
      log(`  repeat ${r + 1}/${ctx.repeats} (typo/fix): ${parts.join(", ")}`);
    }

    const results = {};
    for (const s of SERVERS) {
      const server = servers[s.id];
      const xs = samples[s.id];
      results[s.id] = {
        label: s.label,
        change: server.changeKind,
        debounceMs: ctx.debounce[s.id],
        openMs: openMs[s.id],
        typo: stats(xs.map((x) => x.typoMs)),
        fix: stats(xs.map((x) => x.fixMs)),
        publishesPerEdit: xs.reduce((a, x) => a + x.publishes, 0) / (2 * xs.length),
        peakRssMiB: server.peakRssKiB() / 1024,
        diagnostic: xs[0].diagnostic,
      };
    }
    const ratio = (get) => get(results.xo) / get(results.peer);
    return {
      n,
      lines: doc.lines,
      streams: doc.streams,
      typoLine: line + 1,
      repeats: ctx.repeats,
      project: ctx.keep ? project : undefined,
      servers: results,
      xoOverPeer: {
        typoMedian: ratio((x) => x.typo.medianMs),
        typoP95: ratio((x) => x.typo.p95Ms),
        fixMedian: ratio((x) => x.fix.medianMs),
        fixP95: ratio((x) => x.fix.p95Ms),
        // The medians less each server's own wait: what the checking itself takes.
        typoMedianLessDebounce: ratio((x) => x.typo.medianMs - (x.debounceMs ?? NaN)),
        open: ratio((x) => x.openMs),
        peakRss: ratio((x) => x.peakRssMiB),
      },
    };
  } finally {
    await Promise.all(Object.values(servers).map((s) => s.stop()));
  }
}

// ---------------------------------------------------------------------------------------
// Output

const fmt = (x, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : "-");

function printSize(r) {
  console.log(`\n${r.lines} lines (${r.streams} streams; typo on line ${r.typoLine}): ${r.repeats} typo + fix edits per server`);
  console.log(
    table(
      SERVERS.map((s) => {
        const x = r.servers[s.id];
        return [x.label, x.change, fmt(x.debounceMs, 0), fmt(x.openMs, 0), fmt(x.typo.medianMs, 0), fmt(x.typo.p95Ms, 0), fmt(x.fix.medianMs, 0), fmt(x.fix.p95Ms, 0), fmt(x.publishesPerEdit, 2), fmt(x.peakRssMiB, 0)];
      }),
      ["server", "didChange", "debounce ms", "open ms", "typo median ms", "typo p95 ms", "fix median ms", "fix p95 ms", "publishes/edit", "peak RSS MiB"],
    ),
  );
  for (const s of SERVERS) console.log(`  ${r.servers[s.id].label} reported: ${r.servers[s.id].diagnostic}`);
}

async function main() {
  const opts = commandLine(USAGE, parseOptions);
  if (typeof opts === "number") return opts;
  if (!existsSync(path.join(REPO, "packages/cli/dist/workspace.js"))) {
    log("lsp bench: the CLI is not built; run `npx nx run-many -t build --output-style=static` from the repo root first");
    return 2;
  }
  if (!existsSync(path.join(XO_PKG, "dist/index.js")) || !existsSync(XO_BIN)) {
    log("lsp bench: the language server is not built; run `npx nx run-many -t build --output-style=static` from the repo root first");
    return 2;
  }
  const peer = peerPackage();
  if (!peer) {
    log("lsp bench: yaml-language-server is missing (a devDependency of e2e/); run `npm ci` from the repo root");
    return 2;
  }
  const debounce = {
    xo: debounceMs(path.join(XO_PKG, "dist/server.js"), /export const CHECK_DELAY_MS = (\d+);/),
    peer: debounceMs(path.join(peer.dir, "out/server/src/yamlSettings.js"), /this\.validationDelayMs = (\d+);/),
  };
  for (const s of SERVERS) if (debounce[s.id] === undefined) log(`lsp bench: could not read ${s.label}'s debounce from its code; shown as "-"`);

  const started = Date.now();
  // The project must sit inside the repo so that its plugins resolve to the workspace
  // packages; the schema goes to the OS temp dir.
  const space = await scratchSpace(REPO, "lsp", { keep: opts.keep });
  const ctx = {
    ...opts,
    peer,
    debounce,
    xoRoot: space.xoRoot,
    tmpRoot: space.tmpRoot,
  };
  const cleanup = space.cleanup;

  const machine = machineInfo();
  const xoVersion = JSON.parse(readFileSync(path.join(XO_PKG, "package.json"), "utf8")).version;
  const serversInfo = {
    xo: { name: "@xo-foundry/language-server", version: xoVersion, command: `node ${path.relative(REPO, XO_BIN)} --stdio` },
    peer: { name: "yaml-language-server", version: peer.version, command: `node ${path.relative(REPO, peer.bin)} --stdio` },
  };
  try {
    log(
      `lsp bench: sizes ${ctx.sizes.join(", ")} lines; ${ctx.repeats} timed typo + fix edit(s) per server and size, after 1 untimed checked pair` +
        (ctx.smoke ? " (smoke run: checks only, timings not meaningful)" : ""),
    );
    log(`machine: ${machine.cpus} cores (${machine.cpuModel}), ${machine.os}, Node ${machine.node}; peer: yaml-language-server ${peer.version}`);
    const results = [];
    for (const n of ctx.sizes) results.push(await benchSize(ctx, n));
    const elapsedS = (Date.now() - started) / 1000;
    const report = {
      benchmark: "lsp",
      checks: "passed",
      smoke: ctx.smoke,
      date: new Date().toISOString(),
      machine,
      servers: serversInfo,
      repeats: ctx.repeats,
      pauseMs: PAUSE_MS,
      typo: { key: KEY, typo: TYPO },
      note: NOTE.replace(/\n/g, " "),
      elapsedS,
      results,
    };

    if (ctx.json) {
      console.log(JSON.stringify(report, null, 2));
    } else {
      console.log(`\n${machine.cpus} cores (${machine.cpuModel}), ${machine.os}, Node ${machine.node}; ${report.date.slice(0, 10)}`);
      console.log(
        `Timed: from sending didChange to receiving the publishDiagnostics that shows the typo "${TYPO}" (typo) or no\n` +
          "diagnostics (fix); open = didOpen to the first publishDiagnostics. p95 is nearest-rank. Peak RSS: VmHWM of the server process.\n" +
            "debounce = how long the server waits after a change before validating (from its code); it is inside every latency.",
      );
      console.log(NOTE);
      for (const r of results) printSize(r);
      console.log("\nsummary (xo-foundry / yaml-language-server):");
      console.log(
        table(
          results.map((r) => [
            r.lines,
            fmt(r.servers.xo.typo.medianMs, 0),
            fmt(r.servers.peer.typo.medianMs, 0),
            `${fmt(r.xoOverPeer.typoMedian, 2)}x`,
            `${fmt(r.xoOverPeer.typoMedianLessDebounce, 2)}x`,
            `${fmt(r.xoOverPeer.typoP95, 2)}x`,
            `${fmt(r.xoOverPeer.fixMedian, 2)}x`,
            `${fmt(r.xoOverPeer.fixP95, 2)}x`,
            `${fmt(r.xoOverPeer.peakRss, 2)}x`,
          ]),
          ["lines", "xo typo ms", "peer typo ms", "typo median", "typo median less debounce", "typo p95", "fix median", "fix p95", "peak RSS"],
        ),
      );
      console.log(`\nchecks passed; wall time of the whole benchmark: ${fmt(elapsedS, 0)} s`);
    }
    return 0;
  } catch (err) {
    log(`\nlsp bench FAILED: ${err.benchFailure ? err.message : err.stack}`);
    if (ctx.json) console.log(JSON.stringify({ benchmark: "lsp", checks: "failed", smoke: ctx.smoke, error: err.message }, null, 2));
    return 1;
  } finally {
    stopChildren();
    cleanup();
  }
}

process.exitCode = await main();
