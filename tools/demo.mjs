#!/usr/bin/env node
// `npm run demo`: build, generate the DAGs of every example, then run the sample
// shop pipeline end to end on the embedded defaults (landing folder + DuckDB)
// against the bundled sample API, started on 127.0.0.1 for the length of the run,
// and the hybrid example on a Thursday and the Monday after (its copy step runs
// only on Mondays; orders come in incrementally from the saved cursor).
import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const cli = path.join(root, "packages/cli/bin/xo-foundry.js");
const date = process.argv[2] ?? "2026-01-15";

// Asynchronous on purpose: the sample API is served from this process while the CLI runs.
async function step(title, command, args, env = {}) {
  process.stdout.write(`\n\x1b[1m$ ${title}\x1b[0m\n`);
  const child = spawn(command, args, { cwd: root, stdio: "inherit", env: { ...process.env, ...env } });
  const code = await new Promise((resolve) => child.on("close", (c, signal) => resolve(c ?? signal)));
  if (code !== 0) {
    process.stderr.write(`demo: "${title}" failed (exit ${code})\n`);
    process.exit(typeof code === "number" ? code : 1);
  }
}

await step("build the packages", "npx", ["nx", "run-many", "-t", "build", "--output-style=static"]);
await step("xo-foundry validate-config examples", process.execPath, [cli, "validate-config", "examples"]);
await step("xo-foundry generate-dags examples -o out/dags", process.execPath, [cli, "generate-dags", "examples", "-o", "out/dags"]);

const { startSampleApi } = await import(path.join(root, "examples/sample-api/server.mjs"));
const api = await startSampleApi({ token: "demo-token" });
try {
  // The connection a deployment keeps in Airflow; locally it is an environment variable.
  const connection = JSON.stringify({ host: api.url, password: "demo-token" });
  process.stdout.write(`\nsample shop API listening on ${api.url}\n`);
  await step(`xo-foundry run examples/sample-shop.yaml --date ${date}`, process.execPath, [cli, "run", "examples/sample-shop.yaml", "--date", date], {
    XO_CONN_SAMPLE_SHOP: connection,
  });
  for (const day of ["2026-01-15", "2026-01-19"]) {
    await step(`xo-foundry run examples/shop-daily.yaml --date ${day}`, process.execPath, [cli, "run", "examples/shop-daily.yaml", "--date", day], {
      XO_CONN_SAMPLE_SHOP: connection,
    });
  }
} finally {
  await api.close();
}
process.stdout.write(
  "\nDAG files: out/dags/   landing: examples/.xo-foundry/landing/   warehouses: examples/.xo-foundry/*.duckdb\n" +
    "saved cursors: npx xo-foundry state show examples/shop-daily.yaml\n",
);
