/**
 * The files of `exportQuery`: rows as they stream from Snowflake, written as NDJSON or CSV
 * parts `part-00000.<ext>`, `part-00001.<ext>`, ... in the result's order. Memory holds the
 * driver's current result chunk and at most about one megabyte of encoded rows, whatever the
 * size of the result.
 *
 * The same file contract as the DuckDB warehouse: a part takes rows while it stays at or under
 * `maxFileBytes` (the CSV header, repeated atop every part, counts), a row larger than that
 * gets a part of its own; a result without rows writes no file. Everything is written in a
 * hidden folder inside `dir` and renamed into place once every part is complete, so no half
 * file ever carries a final name, and parts an earlier export left beyond the new count are
 * removed, so `dir` holds exactly this export.
 */
import { mkdir, mkdtemp, open, rename, rm, type FileHandle } from "node:fs/promises";
import path from "node:path";
import { exportPartName, removeExportParts, type JsonObject, type JsonValue } from "@xo-foundry/core";
import { SnowflakeSinkError } from "./errors.js";

export type TextFormat = "ndjson" | "csv";

const EXTENSIONS: { readonly [F in TextFormat]: string } = { ndjson: ".ndjson", csv: ".csv" };

/** Encoded rows gathered before they are written to the part's file. */
const FLUSH_BYTES = 1 << 20;

export interface ExportedFile {
  readonly path: string;
  readonly rows: number;
}

export interface PartWriterOptions {
  /** Absolute. */
  readonly folder: string;
  readonly format: TextFormat;
  readonly maxFileBytes: number | undefined;
  /** The result's column names, in order: the CSV header and the order of each row's values. */
  readonly columns: readonly string[];
}

interface Part {
  readonly file: string;
  readonly handle: FileHandle;
  rows: number;
  bytes: number;
  pending: string[];
  pendingBytes: number;
}

/**
 * Writes `rows` into the parts and returns them, renamed into `folder`. Failures writing the
 * files are XO_SNOWFLAKE_EXPORT_FAILED; failures of `rows` itself pass through unchanged.
 */
export async function writeParts(rows: AsyncIterable<JsonObject>, options: PartWriterOptions): Promise<ExportedFile[]> {
  checkMaxFileBytes(options.maxFileBytes);
  const { folder, format, columns } = options;
  const extension = EXTENSIONS[format];
  const header = format === "csv" ? `${columns.map((c) => csvField(c)).join(",")}\n` : "";
  const headerBytes = Buffer.byteLength(header);
  const limit = options.maxFileBytes ?? Infinity;

  await onDisk(folder, () => mkdir(folder, { recursive: true }));
  // Starts with a dot: a reader listing `dir` (or the landing zone) skips it.
  const work = await onDisk(folder, () => mkdtemp(path.join(folder, ".xo-export-")));
  const parts: Part[] = [];
  try {
    let part: Part | undefined;
    for await (const row of rows) {
      const line = format === "ndjson" ? `${JSON.stringify(row)}\n` : csvLine(row, columns);
      const bytes = Buffer.byteLength(line);
      if (part === undefined || (part.rows > 0 && part.bytes + bytes > limit)) {
        if (part) await close(part);
        const file = path.join(work, exportPartName(parts.length, extension));
        part = { file, handle: await onDisk(file, () => open(file, "w")), rows: 0, bytes: 0, pending: [], pendingBytes: 0 };
        parts.push(part);
        if (header) append(part, header, headerBytes);
      }
      append(part, line, bytes);
      part.rows += 1;
      if (part.pendingBytes >= FLUSH_BYTES) await flush(part);
    }
    if (part) await close(part);

    const files = parts.map((p, i) => ({ from: p.file, path: path.join(folder, exportPartName(i, extension)), rows: p.rows }));
    for (const file of files) await onDisk(file.path, () => rename(file.from, file.path));
    await onDisk(folder, () => removeExportParts(folder, extension, files.length));
    return files.map(({ path, rows }) => ({ path, rows }));
  } finally {
    for (const p of parts) await p.handle.close().catch(() => undefined);
    await rm(work, { recursive: true, force: true });
  }
}

function append(part: Part, text: string, bytes: number): void {
  part.pending.push(text);
  part.pendingBytes += bytes;
  part.bytes += bytes;
}

async function flush(part: Part): Promise<void> {
  if (part.pendingBytes === 0) return;
  const body = part.pending.join("");
  part.pending = [];
  part.pendingBytes = 0;
  await onDisk(part.file, () => part.handle.write(body));
}

async function close(part: Part): Promise<void> {
  await flush(part);
  await onDisk(part.file, () => part.handle.close());
}


/**
 * One CSV record (RFC 4180), as DuckDB's CSV writer spells values: NULL is an empty field, an
 * empty string is `""`, a field with a comma, quote or line break is quoted with its quotes
 * doubled, objects and arrays are their JSON text.
 */
function csvLine(row: JsonObject, columns: readonly string[]): string {
  return `${columns.map((c) => csvValue(row[c] ?? null)).join(",")}\n`;
}

function csvValue(value: JsonValue): string {
  if (value === null) return "";
  if (typeof value === "string") return value === "" ? '""' : csvField(value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return csvField(JSON.stringify(value));
}

function csvField(text: string): string {
  return /[",\r\n]/.test(text) || /^\s|\s$/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function checkMaxFileBytes(maxFileBytes: number | undefined): void {
  if (maxFileBytes === undefined || (Number.isFinite(maxFileBytes) && maxFileBytes > 0)) return;
  throw new SnowflakeSinkError(
    "XO_SNOWFLAKE_INVALID_OPTIONS",
    `exportQuery got maxFileBytes ${String(maxFileBytes)}, not a positive number of bytes`,
    "pass a size in bytes greater than 0, or leave maxFileBytes out for one file",
  );
}

/** A file-system call whose failure names the path and says what to check. */
async function onDisk<T>(file: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new SnowflakeSinkError("XO_SNOWFLAKE_EXPORT_FAILED", `exportQuery could not write ${file}: ${detail}`, "check that the directory is writable and that the disk has room", {
      cause: error,
    });
  }
}
