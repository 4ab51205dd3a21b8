#!/usr/bin/env node
// Installs what the test suite needs beyond npm packages. Safe to run repeatedly:
// each step checks first and reuses what is already there.
import { spawnSync } from "node:child_process";

function has(command, args = ["--version"]) {
  return spawnSync(command, args, { stdio: "ignore" }).status === 0;
}

if (!has("python3")) {
  process.stderr.write("setup: python3 is required (generated DAGs are checked with Python); install python3 and retry\n");
  process.exit(1);
}
process.stdout.write("setup: python3 found\n");
