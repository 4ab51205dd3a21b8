/**
 * The benchmarks in tools/bench still work: each one's `--smoke` run (its smallest size, one
 * repeat, every equivalence check) exits 0 and reports `"checks": "passed"`. No number is
 * asserted: a benchmark fails only when what it measured is wrong. Real: every process and
 * tool the benchmark uses (the pipeline benchmark needs the venv of tools/bench/pipeline/setup.sh; the
 * lsp benchmark the built language server and e2e's yaml-language-server).
 */
import path from "node:path";
import { describe, expect, it } from "vitest";
import { repo, run } from "./helpers.js";

interface BenchReport {
  readonly benchmark: string;
  readonly checks: string;
}

// Minutes on a two-core machine under load: pipeline's smoke alone pays dlt's default loader at 200k rows.
const TIMEOUT_MS = 20 * 60_000;

describe.each(["parse", "generate", "pipeline", "lsp"])("tools/bench/%s", (name) => {
  it("passes its checks in a --smoke run", { timeout: TIMEOUT_MS }, async () => {
    const r = await run(process.execPath, [path.join(repo, "tools/bench", name, "run.mjs"), "--smoke", "--json"]);
    expect(r.code, r.stderr.slice(-4000)).toBe(0);
    const report = JSON.parse(r.stdout) as BenchReport;
    expect(report.benchmark).toBe(name);
    expect(report.checks).toBe("passed");
  });
});
