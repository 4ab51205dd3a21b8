/**
 * Reports API: `POST /api/v1/reports` answers with CSV. Gladly silently stops at a row cap, so
 * a report cannot be handed to the landing zone before we know its row count: each one is
 * streamed to a temporary file while a state machine counts its records, and only a complete
 * one is yielded.
 *
 * A report asks for the run's days (`startAt`..`endAt`, both inclusive, in `timezone`). A capped
 * one is thrown away and split in halves of whole days, down to single days. A capped single day
 * can be split further only for the metric sets that accept time ranges (then in halves of the
 * day's instants, down to one hour); for any other metric set it is an error, because no request
 * Gladly accepts returns less than a day of it.
 */
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ExtractBatch, Logger } from "@xo-foundry/core";
import { CsvRowCounter } from "./csv.js";
import { GladlySourceError } from "./errors.js";
import { BodyInterrupted, type GladlyClient } from "./http.js";
import { withLock } from "./mutex.js";
import type { ReportStream } from "./options.js";
import { compact, dayRange, gladlyTime, splitDays, splitRange, TIME_RANGE_METRIC_SETS, timeRangeFields, type ReportDays, type TimeRange } from "./window.js";

export interface ReportInput {
  readonly client: GladlyClient;
  readonly stream: ReportStream;
  readonly days: ReportDays;
  readonly timezone: string;
  readonly rowCap: number;
  readonly splitOnCap: boolean;
  readonly log: Logger;
}

interface Downloaded {
  readonly rows: number;
  readonly bytes: number;
}

/** One request's interval: whole days in the report's zone, or (time-range metric sets only) part of a day. */
type Part = { readonly kind: "days"; readonly days: ReportDays } | { readonly kind: "time"; readonly range: TimeRange; readonly day: string };

export async function* extractReport(input: ReportInput): AsyncGenerator<ExtractBatch, void, undefined> {
  const dir = await mkdtemp(path.join(tmpdir(), "xo-gladly-"));
  try {
    let files = 0;
    let rows = 0;
    for await (const batch of reportPart(input, { kind: "days", days: input.days }, dir, 0)) {
      files++;
      rows += batch.rows ?? 0;
      yield batch;
    }
    input.log.info(`report ${input.stream.metric_set}: ${rows} rows in ${files} file(s)`, { rows, files });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function describe(part: Part, timezone: string): string {
  if (part.kind === "time") return `${gladlyTime(part.range.startMs)} to ${gladlyTime(part.range.endMs)} (part of ${part.day} in ${timezone})`;
  const { startAt, endAt } = part.days;
  return `${startAt === endAt ? startAt : `${startAt} to ${endAt}`} (${timezone})`;
}

function fileName(metricSet: string, part: Part): string {
  // Time ranges by their half-open instants (`..._20260115T0500Z_20260115T1700Z.csv`), days by their inclusive dates.
  if (part.kind === "time") return `${metricSet}_${compact(gladlyTime(part.range.startMs))}_${compact(gladlyTime(part.range.endMs))}.csv`;
  return `${metricSet}_${compact(part.days.startAt)}_${compact(part.days.endAt)}.csv`;
}

async function* reportPart(input: ReportInput, part: Part, dir: string, depth: number): AsyncGenerator<ExtractBatch & { type: "file" }, void, undefined> {
  const { stream, timezone, rowCap } = input;
  const name = fileName(stream.metric_set, part);
  const file = path.join(dir, name);
  // Reports are expensive for Gladly: one at a time per organization. The lock covers the download only, not the upload.
  const got = await withLock(input.client.baseUrl.origin, () => download(input, part, file));

  if (got.rows >= rowCap) {
    await rm(file, { force: true });
    const what = `report ${stream.metric_set} for ${describe(part, timezone)} returned ${got.rows} rows, which reaches \`row_cap\` (${rowCap}), so Gladly truncated it`;
    if (!input.splitOnCap) {
      throw new GladlySourceError(
        "XO_GLADLY_REPORT_CAPPED",
        what,
        "set `split_on_cap: true` to split it by day (and, where Gladly allows, by time range) automatically, split the stream with `filters`, or raise `row_cap` if your Gladly limit is higher",
      );
    }
    const halves = split(part, stream.metric_set, timezone);
    if (!halves) throw cappedError(what, stream.metric_set, part);
    input.log.warn(`${what}; splitting it into ${describe(halves[0], timezone)} and ${describe(halves[1], timezone)}`, { rows: got.rows, bytes: got.bytes, depth: depth + 1 });
    yield* reportPart(input, halves[0], dir, depth + 1);
    yield* reportPart(input, halves[1], dir, depth + 1);
    return;
  }

  yield {
    type: "file",
    name,
    format: "csv",
    body: readAndDelete(file),
    rows: got.rows,
    metadata: { metric_set: stream.metric_set, ...(part.kind === "days" ? { timezone, start_at: part.days.startAt, end_at: part.days.endAt } : timeMetadata(part.range)) },
  };
}

/** The request's own fields, as sent: `endAtTime` is the last minute included. */
function timeMetadata(range: TimeRange): Record<string, string> {
  const { startAtTime, endAtTime } = timeRangeFields(range);
  return { start_at_time: startAtTime, end_at_time: endAtTime };
}

/** Whole days first; a single day only where Gladly accepts a time range for the metric set. */
function split(part: Part, metricSet: string, timezone: string): [Part, Part] | undefined {
  if (part.kind === "days") {
    const halves = splitDays(part.days);
    if (halves) return [{ kind: "days", days: halves[0] }, { kind: "days", days: halves[1] }];
    if (!TIME_RANGE_METRIC_SETS.has(metricSet)) return undefined;
    part = { kind: "time", range: dayRange(part.days.startAt, timezone), day: part.days.startAt };
  }
  const day = part.day;
  const halves = splitRange(part.range);
  return halves && [{ kind: "time", range: halves[0], day }, { kind: "time", range: halves[1], day }];
}

function cappedError(what: string, metricSet: string, part: Part): GladlySourceError {
  if (part.kind === "time") {
    return new GladlySourceError(
      "XO_GLADLY_REPORT_CAPPED",
      `${what}, and a time range this short cannot be split further (the smallest is 1 hour)`,
      "split the stream into several with `filters` (for example one per inbox or channel), or raise `row_cap` if Gladly confirms a higher limit for your account",
    );
  }
  return new GladlySourceError(
    "XO_GLADLY_REPORT_CAPPED",
    `${what}. One day is the smallest window Gladly's Reports API returns for ${metricSet} (time ranges exist only for ${[...TIME_RANGE_METRIC_SETS].join(" and ")}), so day ${part.days.startAt} cannot be loaded complete`,
    "split the stream into several with `filters` (teams, inboxes or channel, where Gladly accepts them for this metric set), or raise `row_cap` if Gladly confirms a higher limit for your account; until then this day fails rather than load part of it",
  );
}

/** Where a Gladly `attr` comes from in the pipeline file. */
function fixFor(attr: string): string | undefined {
  if (attr === "metricSet") return "the stream's `metric_set`";
  if (attr === "filters" || attr.startsWith("filters.")) return "the stream's `filters`";
  if (attr === "timezone") return "the pipeline's `timezone`";
  return undefined;
}

function body(input: ReportInput, part: Part): Record<string, unknown> {
  const { stream, timezone } = input;
  const interval = part.kind === "days" ? { timezone, startAt: part.days.startAt, endAt: part.days.endAt } : timeRangeFields(part.range);
  return { metricSet: stream.metric_set, ...interval, ...(stream.filters ? { filters: stream.filters } : {}) };
}

function download(input: ReportInput, part: Part, file: string): Promise<Downloaded> {
  return input.client.download(
    {
      method: "POST",
      path: "reports",
      json: body(input, part),
      accept: "text/csv",
      what: `report ${input.stream.metric_set} for ${describe(part, input.timezone)}`,
      fixFor,
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
