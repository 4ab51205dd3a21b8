#!/usr/bin/env node
// Installs what the test suite needs beyond npm packages: python3, the pinned
// Apache Airflow 3 and 2 venvs, the service stand-ins (moto, fakesnow), dbt with its DuckDB and Snowflake adapters, and dlt (the pipeline
// benchmark's peer) under .venv/. Safe to run repeatedly: each step
// checks first and reuses what is already there.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

function has(command, args = ["--version"]) {
  return spawnSync(command, args, { stdio: "ignore" }).status === 0;
}

if (!has("python3")) {
  process.stderr.write("setup: python3 (3.11) is required for the Airflow checks; install it and retry\n");
  process.exit(1);
}

// Debian packages the tests run, installed in one apt-get call when any is missing.
const debianPackages = [
  // The benchmarks' smoke runs read peak memory from GNU time.
  { file: "/usr/bin/time", pkg: "time", why: "the benchmarks need GNU time" },
  // The SFTP plugin's tests start a real OpenSSH sshd on loopback.
  { file: "/usr/sbin/sshd", pkg: "openssh-server", why: "the SFTP tests need OpenSSH's sshd" },
  // The lineage page and `xo-foundry ui` tests drive headless Chromium.
  { file: "/usr/bin/chromium", pkg: "chromium", why: "the browser tests need Chromium" },
  // The language server is tested with Neovim as a real LSP editor.
  { file: "/usr/bin/nvim", pkg: "neovim", why: "the language server's editor test needs Neovim" },
];
const missing = debianPackages.filter((p) => !existsSync(p.file));
if (missing.length) {
  const canApt = process.getuid?.() === 0 && has("apt-get", ["--version"]);
  const names = missing.map((p) => p.pkg).join(" ");
  const r = canApt
    ? spawnSync("bash", ["-c", `apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${names} >/dev/null`], { stdio: "inherit" })
    : { status: 1 };
  if (r.status !== 0) {
    for (const p of missing) process.stderr.write(`setup: ${p.why} at ${p.file}; install the Debian package \`${p.pkg}\` (as root) and retry\n`);
    process.exit(1);
  }
}
for (const [script, args, what] of [
  ["tools/airflow/setup.sh", ["all"], "the Airflow venvs (tools/airflow/README.md)"],
  ["tools/services/setup.sh", [], "the service stand-ins venv (tools/services/README.md)"],
  ["tools/dbt/setup.sh", [], "the dbt venv of the dbt plugin's tests (tools/dbt/setup.sh)"],
  ["tools/bench/pipeline/setup.sh", [], "the dlt venv of the pipeline benchmark (tools/bench/README.md)"],
  ["tools/sftp/setup.sh", [], "the SFTP tests' login user (tools/sftp/README.md)"],
]) {
  const r = spawnSync("bash", [path.join(root, script), ...args], { cwd: root, stdio: "inherit" });
  if (r.status !== 0) {
    process.stderr.write(`setup: creating ${what} failed (see above)\n`);
    process.exit(r.status ?? 1);
  }
}
