/**
 * Cuts a CSV or NDJSON file that DuckDB wrote into parts of at most `maxBytes` each, at
 * record boundaries and in the file's order, streaming: memory holds one read chunk and
 * one record, whatever the file's size. The parts joined (less the repeated CSV header)
 * are the file byte for byte, so splitting changes no value's formatting.
 *
 * Records end at a newline. NDJSON escapes newlines inside strings; DuckDB's CSV writer
 * quotes every field that holds a newline or a quote and doubles the quotes inside, so a
 * newline between an odd number of quotes belongs to a field. `"` and `\n` are single
 * bytes that never occur inside a UTF-8 multi-byte character, so the scan works on bytes.
 */
import { createReadStream } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";

const NEWLINE = 0x0a;
const QUOTE = 0x22;
/** Bytes gathered before a part's file is written to. */
const FLUSH_BYTES = 1 << 20;

export interface SplitOptions {
  /** CSV: the first record is the header, repeated atop every part; quotes hide newlines. */
  readonly csv: boolean;
  /** A part takes records while it stays at or under this size; a record larger than it gets a part of its own. */
  readonly maxBytes: number;
  /** Where part `index` (0, 1, ...) is written. */
  partPath(index: number): string;
  readonly signal?: AbortSignal;
  /** How much is read at a time; tests make it tiny so that records and quotes straddle reads. */
  readonly readBytes?: number;
}

export interface SplitPart {
  readonly path: string;
  readonly rows: number;
  readonly bytes: number;
}

interface OpenPart {
  readonly path: string;
  rows: number;
  bytes: number;
  pending: Buffer[];
  pendingBytes: number;
  handle?: FileHandle;
  done?: boolean;
}

export async function splitRecords(file: string, options: SplitOptions): Promise<SplitPart[]> {
  const parts: OpenPart[] = [];
  let header: Buffer | undefined;
  let record: Buffer[] = [];
  let recordBytes = 0;
  let inQuotes = false;

  /** Files the record just read into the last part, or into a new one when it would not fit. */
  const endRecord = () => {
    const body = record;
    const bytes = recordBytes;
    record = [];
    recordBytes = 0;
    if (options.csv && header === undefined) {
      header = Buffer.concat(body);
      return;
    }
    let part = parts.at(-1);
    if (part === undefined || (part.rows > 0 && part.bytes + bytes > options.maxBytes)) {
      part = { path: options.partPath(parts.length), rows: 0, bytes: 0, pending: [], pendingBytes: 0 };
      parts.push(part);
      if (header) append(part, [header], header.length);
    }
    append(part, body, bytes);
    part.rows += 1;
  };

  try {
    for await (const chunk of createReadStream(file, { highWaterMark: options.readBytes ?? FLUSH_BYTES, ...(options.signal ? { signal: options.signal } : {}) }) as AsyncIterable<Buffer>) {
      let start = 0;
      let at = 0;
      let quote = options.csv ? chunk.indexOf(QUOTE) : -1;
      while (at < chunk.length) {
        if (quote >= 0 && quote < at) quote = chunk.indexOf(QUOTE, at);
        if (inQuotes) {
          if (quote < 0) break;
          inQuotes = false;
          at = quote + 1;
          continue;
        }
        const newline = chunk.indexOf(NEWLINE, at);
        if (quote >= 0 && (newline < 0 || quote < newline)) {
          inQuotes = true;
          at = quote + 1;
          continue;
        }
        if (newline < 0) break;
        take(chunk.subarray(start, newline + 1));
        endRecord();
        start = at = newline + 1;
      }
      if (start < chunk.length) take(chunk.subarray(start));
      // Every part but the last is complete: write it out and close it.
      for (const part of parts.slice(0, -1)) if (!part.done) await finish(part);
      const last = parts.at(-1);
      if (last && last.pendingBytes >= FLUSH_BYTES) await finish(last, true);
    }
    if (recordBytes > 0) endRecord(); // the last record had no trailing newline
    for (const part of parts) if (!part.done) await finish(part);
    return parts.map((p) => ({ path: p.path, rows: p.rows, bytes: p.bytes }));
  } finally {
    for (const part of parts) await part.handle?.close();
  }

  function take(slice: Buffer) {
    record.push(slice);
    recordBytes += slice.length;
  }
}

function append(part: OpenPart, slices: readonly Buffer[], bytes: number): void {
  part.pending.push(...slices);
  part.pendingBytes += bytes;
  part.bytes += bytes;
}

/** Writes what the part gathered; closes its file unless more may come (`keepOpen`). */
async function finish(part: OpenPart, keepOpen = false): Promise<void> {
  part.handle ??= await open(part.path, "w");
  if (part.pendingBytes > 0) {
    const body = Buffer.concat(part.pending, part.pendingBytes);
    part.pending = [];
    part.pendingBytes = 0;
    await part.handle.write(body);
  }
  if (!keepOpen) {
    const handle = part.handle;
    part.handle = undefined;
    part.done = true;
    await handle.close();
  }
}
