#!/usr/bin/env node
// Installs what the test suite needs beyond npm packages: python3, and the pinned
// Apache Airflow 3 and 2 venvs under .venv/. Safe to run repeatedly: each step
// checks first and reuses what is already there.
import { spawnSync } from "node:child_process";
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

const airflow = spawnSync("bash", [path.join(root, "tools/airflow/setup.sh"), "all"], { cwd: root, stdio: "inherit" });
if (airflow.status !== 0) {
  process.stderr.write("setup: creating the Airflow venvs failed (see above); tools/airflow/README.md explains the setup\n");
  process.exit(airflow.status ?? 1);
}
