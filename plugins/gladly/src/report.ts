/**
 * Reports API: `POST /api/v1/reports` answers with CSV. Gladly silently stops at a
 * row cap, so a report cannot be handed to the landing zone before we know its row
 * count: each one is streamed to a temporary file while a state machine counts its
 * records, and only a complete one is yielded. A capped one is thrown away and its
 * window split in halves, recursively, down to one hour.
 */
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ExtractBatch, Logger } from "@xo-foundry/core";
import { CsvRowCounter } from "./csv.js";
import { BodyInterrupted, type GladlyClient } from "./http.js";
import { withLock } from "./mutex.js";
import type { ReportStream } from "./options.js";
import { compactTime, splitWindow, type LocalWindow } from "./window.js";

export interface ReportInput {
  readonly client: GladlyClient;
  readonly stream: ReportStream;
  readonly window: LocalWindow;
  readonly timezone: string;
  readonly rowCap: number;
  readonly splitOnCap: boolean;
  readonly log: Logger;
}

interface Downloaded {
  readonly rows: number;
  readonly bytes: number;
}

export async function* extractReport(input: ReportInput): AsyncGenerator<ExtractBatch, void, undefined> {
  const dir = await mkdtemp(path.join(tmpdir(), "xo-gladly-"));
  try {
    let files = 0;
    let rows = 0;
    for await (const batch of reportWindow(input, input.window, dir, 0)) {
      files++;
      rows += batch.rows ?? 0;
      yield batch;
    }
    input.log.info(`report ${input.stream.metric_set}: ${rows} rows in ${files} file(s)`, { rows, files });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const describeWindow = (w: LocalWindow, timezone: string) => `${w.startAt} to ${w.endAt} (${timezone})`;

async function* reportWindow(input: ReportInput, window: LocalWindow, dir: string, depth: number): AsyncGenerator<ExtractBatch & { type: "file" }, void, undefined> {
  const { stream, timezone, rowCap } = input;
  const name = `${stream.metric_set}_${compactTime(window.startAt)}_${compactTime(window.endAt)}.csv`;
  const file = path.join(dir, name);
  // Reports are expensive for Gladly: one at a time per organization. The lock covers the download only, not the upload.
  const got = await withLock(input.client.baseUrl.origin, () => download(input, window, file));

  if (got.rows >= rowCap) {
    await rm(file, { force: true });
    const what = `report ${stream.metric_set} for ${describeWindow(window, timezone)} returned ${got.rows} rows, which reaches \`row_cap\` (${rowCap}), so Gladly truncated it`;
    if (!input.splitOnCap) {
      throw new Error(`${what}. Set \`split_on_cap: true\` to split the window automatically, narrow the report with \`filters\`, or raise \`row_cap\` if your Gladly limit is higher`);
    }
    const halves = splitWindow(window);
    if (!halves) {
      throw new Error(`${what}, and a window this short cannot be split further (the smallest is 1 hour). Narrow the report with \`filters\`, or raise \`row_cap\` if your Gladly limit is higher`);
    }
    input.log.warn(`${what}; splitting it at ${halves[0].endAt}`, { rows: got.rows, bytes: got.bytes, depth: depth + 1 });
    yield* reportWindow(input, halves[0], dir, depth + 1);
    yield* reportWindow(input, halves[1], dir, depth + 1);
    return;
  }

  yield {
    type: "file",
    name,
    format: "csv",
    body: readAndDelete(file),
    rows: got.rows,
    metadata: { metric_set: stream.metric_set, timezone, start_at: window.startAt, end_at: window.endAt },
  };
}

function download(input: ReportInput, window: LocalWindow, file: string): Promise<Downloaded> {
  const { stream, timezone } = input;
  return input.client.download(
    {
      method: "POST",
      path: "reports",
      json: { metricSet: stream.metric_set, timezone, startAt: window.startAt, endAt: window.endAt, ...(stream.filters ? { filters: stream.filters } : {}) },
      accept: "text/csv",
      what: `report ${stream.metric_set} for ${describeWindow(window, timezone)}`,
    },
    // Called again from scratch on a retry: the write stream truncates the file.
    async (response) => {
      const counter = new CsvRowCounter();
      let bytes = 0;
      const count = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          counter.push(chunk);
          bytes += chunk.length;
          callback(null, chunk);
        },
      });
      await pipeline(response.body, count, createWriteStream(file));
      if (counter.unterminatedQuote) {
        throw new BodyInterrupted("the CSV ended inside a quoted field");
      }
      return { rows: counter.dataRows, bytes };
    },
  );
}

/** Streams a temporary file in bounded chunks and deletes it once read (or abandoned). */
async function* readAndDelete(file: string): AsyncGenerator<Uint8Array, void, undefined> {
  try {
    for await (const chunk of createReadStream(file, { highWaterMark: 256 * 1024 })) yield chunk as Buffer;
  } finally {
    await rm(file, { force: true });
  }
}
