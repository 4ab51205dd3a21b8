/**
 * Landed partitions for `pre_load` tests, laid out as the runtime's extract publishes them
 * (`<landing>/stage/<pipeline>/<stream>/<strategy>/<partition>/` with the files, `_manifest.json`
 * and `_SUCCESS` last), with the extract task's summary a check task gets as `ctx.upstream`.
 */
import { createHash } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { DuckDBInstance } from "@duckdb/node-api";
import { dataWindow, joinUri, landingPaths, type FileFormat, type JsonObject, type LandingStore, type Manifest, type ManifestFile, type TaskSummary } from "@xo-foundry/core";
import { fileLanding } from "@xo-foundry/runtime";
import type { TestDir } from "@xo-foundry/testkit";

export interface FileToLand {
  readonly name: string;
  readonly format: FileFormat;
  readonly body: string | Uint8Array;
}

export interface Landed {
  readonly landing: { readonly root: string; readonly store: LandingStore };
  readonly upstream: Readonly<Record<string, TaskSummary>>;
  readonly partition: string;
}

/** Publishes `files` as the stage partition of `stream` for 2026-01-15 (as testkit's stepContext's window), `incremental`. */
export async function land(dir: TestDir, stream: string, files: readonly FileToLand[], root = pathToFileURL(dir.path("landing")).href): Promise<Landed> {
  const window = dataWindow("2026-01-15", "incremental", "UTC", 7);
  const paths = landingPaths({ root, pipeline: "test_pipeline", stream, strategy: "incremental", window, runId: "test__2026-01-15" });
  const stage = fileURLToPath(paths.stage);
  await mkdir(stage, { recursive: true });
  const landed: ManifestFile[] = [];
  for (const file of files) {
    const bytes = typeof file.body === "string" ? Buffer.from(file.body) : Buffer.from(file.body);
    await writeFile(path.join(stage, file.name), bytes);
    landed.push({ uri: joinUri(paths.stage, file.name), format: file.format, bytes: bytes.length, sha256: createHash("sha256").update(bytes).digest("hex") });
  }
  const manifest: Manifest = {
    version: 1,
    pipeline: "test_pipeline",
    stream,
    strategy: "incremental",
    logicalDate: "2026-01-15",
    runId: "test__2026-01-15",
    partition: paths.stage,
    files: landed,
    rows: 0,
    bytes: landed.reduce((n, f) => n + f.bytes, 0),
  };
  await writeFile(fileURLToPath(paths.manifest), JSON.stringify(manifest));
  await writeFile(fileURLToPath(paths.marker), "");
  const extract: TaskSummary = {
    task: `extract_${stream}`,
    step: "extract",
    state: "success",
    summary: { rows: 0, files: landed.length, bytes: manifest.bytes, partition: paths.stage },
    reads: [],
    writes: [{ uri: paths.stage }],
  };
  return { landing: { root, store: fileLanding() }, upstream: { [extract.task]: extract }, partition: paths.stage };
}

export function ndjson(rows: readonly JsonObject[]): string {
  return rows.map((r) => `${JSON.stringify(r)}\n`).join("");
}

/** Rows as CSV with a header of every key; null as an empty field. */
export function csv(rows: readonly JsonObject[]): string {
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (v: unknown) => (v === null || v === undefined ? "" : /[",\n]/.test(String(v)) ? `"${String(v).replaceAll('"', '""')}"` : String(v));
  return [columns.join(","), ...rows.map((r) => columns.map((c) => cell(r[c])).join(","))].join("\n") + "\n";
}

/** Rows as a Parquet file, written by DuckDB from their NDJSON (so the types are what DuckDB infers). */
export async function parquet(dir: TestDir, rows: readonly JsonObject[]): Promise<Uint8Array> {
  const source = await dir.write(`parquet-src-${createHash("sha256").update(ndjson(rows)).digest("hex").slice(0, 8)}.ndjson`, ndjson(rows));
  const out = `${source}.parquet`;
  const instance = await DuckDBInstance.create(":memory:");
  const conn = await instance.connect();
  try {
    await conn.run(`COPY (SELECT * FROM read_json('${source.replaceAll("'", "''")}', format = 'newline_delimited')) TO '${out.replaceAll("'", "''")}' (FORMAT parquet)`);
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
  const { readFile } = await import("node:fs/promises");
  return readFile(out);
}
