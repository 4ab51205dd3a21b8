#!/usr/bin/env node
// `npm test`: build, typecheck and test every project through Nx (cached), then
// print one closing line with the totals of every vitest run.
import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

function run(command, args) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, FORCE_COLOR: "0", NX_TUI: "false" } });
    let out = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
      process.stdout.write(chunk);
    });
    child.on("close", (code) => resolve({ code: code ?? 1, out }));
  });
}

const setup = await run(process.execPath, [path.join(root, "tools/setup.mjs")]);
if (setup.code !== 0) process.exit(setup.code);

// CI runs every test for real: Nx's cache may live outside the clone, on the machine.
const cache = process.env.CI ? ["--skip-nx-cache"] : [];
// Every package is built before any test starts (and only once, hence
// --exclude-task-dependencies below): e2e/src/registry.test.ts publishes all of them, also
// those no e2e test imports, which no `^build` of the e2e project waits for.
const build = await run("npx", ["nx", "run-many", "-t", "build", "--output-style=static", ...cache]);
if (build.code !== 0) {
  process.stdout.write("\n0 passed, 1 failed (the build)\n");
  process.exit(1);
}
const { code, out } = await run("npx", ["nx", "run-many", "-t", "lint", "test", "--exclude-task-dependencies", "--output-style=static", ...cache]);

// vitest's summary line: "Tests  12 passed | 1 failed (13)" (cached runs replay it).
let passed = 0;
let failed = 0;
let skipped = 0;
for (const line of out.split("\n")) {
  const m = /^\s*Tests\s+(.*)\(\d+\)\s*$/.exec(line);
  if (!m) continue;
  passed += Number(/(\d+) passed/.exec(m[1])?.[1] ?? 0);
  failed += Number(/(\d+) failed/.exec(m[1])?.[1] ?? 0);
  skipped += Number(/(\d+) skipped/.exec(m[1])?.[1] ?? 0);
}
if (code !== 0 && failed === 0) failed = 1; // a build or typecheck failure counts as a failure
process.stdout.write(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}\n`);
process.exit(code === 0 && failed === 0 && passed > 0 ? 0 : 1);
