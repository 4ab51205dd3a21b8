/**
 * Opening the warehouse file. DuckDB lets one process write a database file at a
 * time and enforces it with an OS file lock, so parallel Airflow tasks wait their
 * turn here instead of failing on the first attempt.
 */
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import { DuckDbSinkError } from "./errors.js";
import { duckdbSettings, IN_MEMORY, resolveDatabase, type SinkOptions } from "./options.js";

export { IN_MEMORY, resolveDatabase };

export interface OpenOptions {
  readonly lockTimeoutMs: number;
  readonly signal: AbortSignal;
  /** DuckDB settings (memory_limit, temp_directory, threads) for the instance. */
  readonly settings?: Readonly<Record<string, string>>;
}

/** How a sink block opens its database: its lock wait and its DuckDB settings. */
export function openOptions(options: SinkOptions, projectDir: string, signal: AbortSignal): OpenOptions {
  return { lockTimeoutMs: options.lock_timeout_ms, signal, settings: duckdbSettings(options, projectDir) };
}

/** More connections to the same open database, for work that can run side by side. */
export interface Connections {
  /** Another connection; interrupted on abort and closed with the first one. */
  open(): Promise<DuckDBConnection>;
}

/** Runs `fn` on a fresh connection and always closes connection and instance afterwards. */
export async function withConnection<T>(
  database: string,
  options: OpenOptions,
  fn: (conn: DuckDBConnection, more: Connections) => Promise<T>,
): Promise<T> {
  // File locks are per process: a second instance opened by this same process would
  // not be refused by DuckDB and could corrupt the file, so queue in-process users.
  return exclusive(database, async () => {
    const instance = await openWithRetry(database, options);
    const open: DuckDBConnection[] = [];
    const connect = async () => {
      options.signal.throwIfAborted();
      const conn = await instance.connect();
      open.push(conn);
      return conn;
    };
    const interrupt = () => open.forEach((conn) => conn.interrupt());
    options.signal.addEventListener("abort", interrupt, { once: true });
    try {
      return await fn(await connect(), { open: connect });
    } finally {
      options.signal.removeEventListener("abort", interrupt);
      for (const conn of open) conn.closeSync();
      instance.closeSync();
    }
  });
}

/** Runs `fn` inside one transaction: either all of its statements take effect or none. */
export async function inTransaction<T>(conn: DuckDBConnection, fn: () => Promise<T>): Promise<T> {
  await conn.run("BEGIN TRANSACTION");
  try {
    const result = await fn();
    await conn.run("COMMIT");
    return result;
  } catch (error) {
    // The original error matters to the user; a failed rollback of an already
    // aborted transaction does not.
    await conn.run("ROLLBACK").catch(() => undefined);
    throw error;
  }
}

const queues = new Map<string, Promise<void>>();

async function exclusive<T>(key: string, fn: () => Promise<T>): Promise<T> {
  if (key === IN_MEMORY) return fn();
  const previous = queues.get(key) ?? Promise.resolve();
  let release!: () => void;
  const done = new Promise<void>((resolve) => (release = resolve));
  const mine = previous.then(() => done);
  queues.set(key, mine);
  await previous;
  try {
    return await fn();
  } finally {
    release();
    if (queues.get(key) === mine) queues.delete(key);
  }
}

const LOCK_ERROR = /could not set lock|conflicting lock/i;
const FIRST_DELAY_MS = 50;
const MAX_DELAY_MS = 1_000;

async function openWithRetry(database: string, { lockTimeoutMs, signal, settings }: OpenOptions): Promise<DuckDBInstance> {
  signal.throwIfAborted();
  if (database !== IN_MEMORY) await mkdir(path.dirname(database), { recursive: true });
  const deadline = Date.now() + lockTimeoutMs;
  for (let delay = FIRST_DELAY_MS; ; delay = Math.min(delay * 2, MAX_DELAY_MS)) {
    try {
      return await DuckDBInstance.create(database, settings ? { ...settings } : undefined);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (!LOCK_ERROR.test(message)) {
        throw new DuckDbSinkError(
          "XO_DUCKDB_OPEN_FAILED",
          `could not open the DuckDB database ${database}: ${message}`,
          "check that the path in sink.database points to a DuckDB file written by a compatible DuckDB version, or to a new file in a writable directory",
          { cause: error },
        );
      }
      const left = deadline - Date.now();
      if (left <= 0) throw lockedError(database, lockTimeoutMs, message, error);
      // Jitter keeps several waiting tasks from retrying in lockstep.
      await sleep(Math.min(delay * (0.5 + Math.random() / 2), left), undefined, { signal });
    }
  }
}

function lockedError(database: string, timeoutMs: number, message: string, cause: unknown): DuckDbSinkError {
  const holder = /held in (.+?) \(PID (\d+)\)/.exec(message);
  const by = holder ? `process ${holder[2]} (${holder[1]})` : "another process";
  return new DuckDbSinkError(
    "XO_DUCKDB_LOCKED",
    `the DuckDB database file ${database} is locked by ${by} and was still locked after waiting ${timeoutMs} ms`,
    "DuckDB allows one writing process per file: close the program that holds it (a DuckDB shell or notebook, a dbt run, another xo-foundry task), or wait longer by raising `lock_timeout_ms` in the sink block",
    { cause },
  );
}
