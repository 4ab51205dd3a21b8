/** Builds throwaway projects, landed files and load contexts for the sink tests. */
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { DuckDBInstance } from "@duckdb/node-api";
import {
  silentLogger,
  type FileFormat,
  type LoadContext,
  type LoadStrategy,
  type ManifestFile,
  type PipelineConfig,
  type WarehouseContext,
} from "@xo-foundry/core";
import { quoteLiteral } from "../sql.js";

export interface TestDir {
  readonly dir: string;
  cleanup(): Promise<void>;
}

export async function testdir(): Promise<TestDir> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "xo-duckdb-test-"));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

async function manifestFile(file: string, format: FileFormat, rows?: number): Promise<ManifestFile> {
  const body = await readFile(file);
  return {
    uri: pathToFileURL(file).href,
    format,
    bytes: (await stat(file)).size,
    sha256: createHash("sha256").update(body).digest("hex"),
    ...(rows === undefined ? {} : { rows }),
  };
}

export async function ndjson(dir: string, name: string, rows: readonly Record<string, unknown>[]): Promise<ManifestFile> {
  const file = path.join(dir, name);
  await writeFile(file, rows.map((r) => JSON.stringify(r) + "\n").join(""));
  return manifestFile(file, "ndjson", rows.length);
}

export async function raw(dir: string, name: string, format: FileFormat, text: string): Promise<ManifestFile> {
  const file = path.join(dir, name);
  await writeFile(file, text);
  return manifestFile(file, format);
}

/** A Parquet file written by DuckDB itself from `select`. */
export async function parquet(dir: string, name: string, select: string): Promise<ManifestFile> {
  const file = path.join(dir, name);
  const instance = await DuckDBInstance.create(":memory:");
  const conn = await instance.connect();
  try {
    await conn.run(`COPY (${select}) TO ${quoteLiteral(file)} (FORMAT parquet)`);
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
  return manifestFile(file, "parquet");
}

export interface ContextInput {
  readonly projectDir: string;
  readonly files: readonly ManifestFile[];
  readonly stream?: string;
  readonly strategy?: LoadStrategy;
  readonly logicalDate?: string;
  readonly target?: Record<string, unknown>;
  readonly options?: Record<string, unknown>;
  readonly runId?: string;
}

export function loadContext(input: ContextInput): LoadContext {
  const stream = input.stream ?? "orders";
  const strategy = input.strategy ?? "incremental";
  const logicalDate = input.logicalDate ?? "2024-01-01";
  const runId = input.runId ?? `scheduled__${logicalDate}T00:00:00+00:00`;
  const next = new Date(Date.parse(`${logicalDate}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
  const target = input.target ?? {};
  return {
    pipeline: { pipeline: { name: "shop", load_strategy: strategy } } as unknown as PipelineConfig,
    projectDir: input.projectDir,
    stream: { name: stream, target },
    strategy,
    window: { logicalDate, start: `${logicalDate}T00:00:00+00:00`, end: `${next}T00:00:00+00:00`, timezone: "UTC" },
    runId,
    log: silentLogger,
    signal: new AbortController().signal,
    sink: "main",
    options: { database: "warehouse.duckdb", ...input.options },
    target,
    connection: undefined,
    manifest: {
      version: 1,
      pipeline: "shop",
      stream,
      strategy,
      logicalDate,
      runId,
      partition: `file://${input.projectDir}/stage/shop/${stream}/${strategy}/${logicalDate}`,
      files: input.files,
      rows: input.files.reduce((n, f) => n + (f.rows ?? 0), 0),
      bytes: input.files.reduce((n, f) => n + f.bytes, 0),
    },
    localPath: async (f) => fileURLToPath(f.uri),
  };
}

/** What a step's `services.warehouse()` hands the sink, for a database file under `projectDir`. */
export function warehouseContext(projectDir: string, options: Record<string, unknown> = {}, signal: AbortSignal = new AbortController().signal): WarehouseContext {
  return { sink: "main", options: { database: "warehouse.duckdb", ...options }, connection: undefined, projectDir, log: silentLogger, signal };
}

/** Rows of `sql` against a database file, with BIGINTs as numbers for easy comparison. */
export async function query(database: string, sql: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(database);
  const conn = await instance.connect();
  try {
    const reader = await conn.runAndReadAll(sql);
    return reader.getRowObjectsJS().map((row) =>
      Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === "bigint" ? Number(v) : v])),
    );
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}
