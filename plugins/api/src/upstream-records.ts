/**
 * The records of the files an upstream task published, in order, and their batches.
 * NDJSON is streamed line by line; a JSON array file is read whole (JSON has no way to
 * stream an array without a parser of its own), so keep large exports in NDJSON.
 */
import { Readable } from "node:stream";
import { createInterface } from "node:readline";
import type { FileFormat, JsonObject, LandingStore, UpstreamFile } from "@xo-foundry/core";
import { SendError } from "./errors.js";

export interface RecordFile {
  readonly uri: string;
  readonly name: string;
  readonly format: "ndjson" | "json";
}

const BY_EXTENSION: Readonly<Record<string, FileFormat>> = { ndjson: "ndjson", jsonl: "ndjson", json: "json", csv: "csv", parquet: "parquet" };

/**
 * The files as record files, or the reason one cannot be sent, before anything is sent:
 * a delivery that stops at its third file has already delivered two.
 */
export function recordFiles(files: readonly UpstreamFile[], from: string): RecordFile[] {
  return files.map((file) => {
    const format = file.format ?? BY_EXTENSION[file.name.slice(file.name.lastIndexOf(".") + 1).toLowerCase()];
    if (format === "ndjson" || format === "json") return { uri: file.uri, name: file.name, format };
    const what = format ? `a ${format.toUpperCase()} file` : "of no format this step knows (by its extension)";
    throw new SendError(
      "API_SEND_FORMAT",
      `${file.name} in ${from} is ${what}; api.send sends JSON records from NDJSON files or JSON arrays`,
      format === "csv" || format === "parquet"
        ? "export with `format: ndjson` (CSV loses types, and neither format says what a record is in JSON)"
        : "name NDJSON files .ndjson or .jsonl and JSON arrays .json, or point `task`/`from` at the export's files",
    );
  });
}

/** Every record of the files, in file order, each checked to be a JSON object. */
export async function* readRecords(store: LandingStore, files: readonly RecordFile[]): AsyncGenerator<JsonObject, void, undefined> {
  for (const file of files) {
    if (file.format === "json") yield* jsonFile(store, file);
    else yield* ndjsonLines(store, file);
  }
}

/** Groups `items` into arrays of `size`; the last one may be shorter. */
export async function* inBatches<T>(items: AsyncIterable<T>, size: number): AsyncGenerator<T[], void, undefined> {
  let batch: T[] = [];
  for await (const item of items) {
    batch.push(item);
    if (batch.length === size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length) yield batch;
}

async function* ndjsonLines(store: LandingStore, file: RecordFile): AsyncGenerator<JsonObject, void, undefined> {
  const lines = createInterface({ input: Readable.from(store.read(file.uri)), crlfDelay: Infinity });
  let n = 0;
  for await (const line of lines) {
    n++;
    if (line.trim() === "") continue;
    yield record(parse(line, file, `line ${n}`), file, `line ${n}`);
  }
}

async function* jsonFile(store: LandingStore, file: RecordFile): AsyncGenerator<JsonObject, void, undefined> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of store.read(file.uri)) chunks.push(chunk);
  const text = Buffer.concat(chunks).toString("utf8");
  // JSON Lines is often named .json; a file that does not open an array is read as lines.
  if (!text.trimStart().startsWith("[")) {
    for (const [i, line] of text.split("\n").entries()) if (line.trim() !== "") yield record(parse(line, file, `line ${i + 1}`), file, `line ${i + 1}`);
    return;
  }
  const items = parse(text, file, "the file");
  if (!Array.isArray(items)) throw badRecord(file, "the file", "it is not an array of records");
  for (const [i, item] of items.entries()) yield record(item, file, `item ${i}`);
}

function parse(text: string, file: RecordFile, where: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw badRecord(file, where, `it is not JSON (${e instanceof Error ? e.message : String(e)})`);
  }
}

function record(value: unknown, file: RecordFile, where: string): JsonObject {
  if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as JsonObject;
  throw badRecord(file, where, `it is ${JSON.stringify(value)?.slice(0, 60) ?? String(value)}, not a JSON object`);
}

function badRecord(file: RecordFile, where: string, what: string): SendError {
  return new SendError("API_SEND_BAD_RECORD", `${where} of ${file.name} cannot be sent: ${what}`, "fix the export that wrote the file, then re-run it and this step");
}
