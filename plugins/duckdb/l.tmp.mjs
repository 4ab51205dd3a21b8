import { duckdb } from "./dist/index.js";
import { rmSync } from "node:fs";
import { pathToFileURL } from "node:url";
const n = Number(process.env.NF ?? 8); const mode = process.argv[2] ?? "replace";
rmSync("/tmp/xo-mem/proj", { recursive: true, force: true });
const files = [...Array(n).keys()].map(i => ({ uri: pathToFileURL(`/tmp/xo-mem/part-0000${i}.ndjson`).href, format: "ndjson", bytes: 111351788, sha256: "x", rows: 500000 }));
const log = { debug(){}, info(){}, warn(m){console.error(m)}, error(){}, child(){ return log; } };
const sink = duckdb().sinks[0];
const t0 = performance.now();
const r = await sink.load({ pipeline: { pipeline: { name: "b", load_strategy: "full_refresh" } }, projectDir: "/tmp/xo-mem/proj", stream: { name: "orders" }, strategy: "full_refresh",
  window: { logicalDate: "2026-01-15" }, runId: "r1", log, signal: new AbortController().signal, sink: "main",
  options: { database: "w.duckdb", schema: "main", lock_timeout_ms: 1000, memory_limit: process.env.MEM ?? "128MB" }, target: mode === "append" ? { mode: "append" } : {}, connection: undefined,
  manifest: { version: 1, pipeline: "b", stream: "orders", strategy: "full_refresh", logicalDate: "2026-01-15", runId: "r1", partition: "p", files, rows: 0, bytes: 0 },
  localPath: async (f) => new URL(f.uri).pathname });
console.log(JSON.stringify(r), Math.round(performance.now() - t0), "ms");
