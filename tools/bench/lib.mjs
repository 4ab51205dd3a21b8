// What every benchmark in tools/bench shares: failing with a message, progress on stderr,
// the --sizes/--repeats/--smoke rules, child processes that a Ctrl-C stops, and the tables.
import { spawn } from "node:child_process";
import { readFileSync, rmdirSync, rmSync } from "node:fs";
import { mkdir, mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";

/** A failed check: the benchmark exits 1 with this message and no stack. */
export function fail(message) {
  const err = new Error(message);
  err.benchFailure = true;
  throw err;
}

export const log = (line = "") => process.stderr.write(line + "\n");

export const tail = (text, lines = 30) => text.trimEnd().split("\n").slice(-lines).join("\n");

/** `--sizes` and `--repeats` checked; `--smoke` keeps the smallest size and one repeat. */
export function sizesAndRepeats(values, { max = Infinity } = {}) {
  let sizes = values.sizes.split(",").map((s) => Number(s.trim()));
  if (!sizes.length || sizes.some((n) => !Number.isInteger(n) || n < 1 || n > max)) {
    fail(`--sizes: ${max === Infinity ? "positive integers" : `integers from 1 to ${max}`}, got ${values.sizes}`);
  }
  let repeats = Number(values.repeats);
  if (!Number.isInteger(repeats) || repeats < 1) fail(`--repeats: a positive integer, got ${values.repeats}`);
  if (values.smoke) {
    sizes = [Math.min(...sizes)];
    repeats = 1;
  }
  return { sizes: [...sizes].sort((a, b) => a - b), repeats };
}

const children = new Set();

/** Keeps `child` among the processes `stopChildren` ends. */
export function track(child) {
  children.add(child);
  child.on("close", () => children.delete(child));
  return child;
}

export function stopChildren() {
  for (const child of children) child.kill("SIGTERM");
}

/** Runs a command to its end, collecting its output. */
export function run(cmd, args, { env, cwd } = {}) {
  return new Promise((resolve, reject) => {
    const child = track(spawn(cmd, args, { env, cwd, stdio: ["ignore", "pipe", "pipe"] }));
    const out = [];
    const err = [];
    child.stdout.on("data", (b) => out.push(b));
    child.stderr.on("data", (b) => err.push(b));
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
  });
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** A plain-text table: the first column left-aligned, the others right-aligned. */
export function table(rows, header) {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => String(r[i]).length)));
  const line = (r) => r.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join("  ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

export function osName() {
  try {
    return /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readFileSync("/etc/os-release", "utf8"))?.[1] ?? os.type();
  } catch {
    return `${os.type()} ${os.release()}`;
  }
}

/**
 * The scratch folders of one run: `xoRoot` under `<repo>/tools/bench/.tmp` (so the xo-foundry
 * project there resolves the workspace packages) and `tmpRoot` in the OS temp dir. `cleanup()`
 * removes both (or, with `keep`, says where they are) once, and a Ctrl-C or SIGTERM stops the
 * children and cleans up too. `beforeCleanup` runs first, e.g. to stop a server.
 */
export async function scratchSpace(repo, name, { keep = false, beforeCleanup } = {}) {
  const xoParent = path.join(repo, "tools/bench/.tmp");
  await mkdir(xoParent, { recursive: true });
  const xoRoot = await mkdtemp(path.join(xoParent, `${name}-`));
  const tmpRoot = await mkdtemp(path.join(os.tmpdir(), `xo-bench-${name}-`));
  let cleaned = false;
  const cleanup = () => {
    if (cleaned) return;
    cleaned = true;
    beforeCleanup?.();
    if (keep) {
      log(`\nkept: ${xoRoot}\n      ${tmpRoot}`);
      return;
    }
    rmSync(xoRoot, { recursive: true, force: true });
    rmSync(tmpRoot, { recursive: true, force: true });
    try {
      rmdirSync(xoParent); // only if no other benchmark is using it
    } catch {}
  };
  for (const sig of ["SIGINT", "SIGTERM"]) {
    process.on(sig, () => {
      stopChildren();
      cleanup();
      process.exit(130);
    });
  }
  return { xoRoot, tmpRoot, cleanup };
}

/** What the results were measured on. */
export function machineInfo() {
  return { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? "unknown", os: osName(), node: process.version };
}

/** The flags every benchmark takes besides `--sizes` and `--repeats`. */
const COMMON_OPTIONS = {
  smoke: { type: "boolean", default: false },
  json: { type: "boolean", default: false },
  keep: { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
};

/** A benchmark's flags: the common ones plus its own `options` (its `sizes` and `repeats` defaults among them). */
export function benchArgs(argv, options) {
  return parseArgs({ args: argv, options: { ...COMMON_OPTIONS, ...options }, strict: true }).values;
}

/**
 * The options `parse` makes of the command line, or the exit code once the usage is printed:
 * 0 for `--help`, 2 for a bad flag (with the reason).
 */
export function commandLine(usage, parse) {
  try {
    const opts = parse(process.argv.slice(2));
    if (!opts.help) return opts;
    console.log(usage);
    return 0;
  } catch (err) {
    log(err.message);
    log(usage);
    return 2;
  }
}
