/**
 * The dead-letter file: the rows HubSpot refused (or that could not be sent), one JSON object
 * per line with the reason, written to a local file as they come and published at core's
 * `rejectedRecordsUri` when the run ends. A run with nothing rejected removes an earlier
 * attempt's file, so the file always describes the latest attempt of the date.
 */
import { createReadStream, createWriteStream, type WriteStream } from "node:fs";
import { once } from "node:events";
import type { JsonObject, LandingStore } from "@xo-foundry/core";

export type RejectedAction = "insert" | "update" | "archive" | "none";

export interface RejectedRecord {
  /** The row's key; null when the row had none. */
  readonly key: string | null;
  /** What the sync tried: `none` for rows it could not send at all (no key, a key the model has twice). */
  readonly action: RejectedAction;
  readonly reason: string;
  /** HubSpot's error category, when HubSpot refused. */
  readonly category?: string | undefined;
  /** The model's row (inserts, updates and unsendable rows). */
  readonly row?: JsonObject | undefined;
  /** The HubSpot object id (archives). */
  readonly id?: string | undefined;
}

export interface RejectedWriter {
  readonly count: number;
  add(record: RejectedRecord): Promise<void>;
  /** Publishes the file to `uri` (or removes an earlier one when nothing was rejected); returns the URI when a file was written. */
  publish(store: LandingStore, uri: string): Promise<string | undefined>;
  close(): Promise<void>;
}

export function rejectedWriter(localPath: string): RejectedWriter {
  let out: WriteStream | undefined;
  let count = 0;
  const finish = async () => {
    if (!out) return;
    const stream = out;
    out = undefined;
    stream.end();
    if (!stream.closed) await once(stream, "close");
  };
  return {
    get count() {
      return count;
    },
    async add(record) {
      out ??= createWriteStream(localPath, { encoding: "utf8" });
      count++;
      const line = `${JSON.stringify({ ...record, category: record.category ?? undefined })}\n`;
      if (!out.write(line)) await once(out, "drain");
    },
    async publish(store, uri) {
      await finish();
      if (count === 0) {
        await store.deletePrefix(uri);
        return undefined;
      }
      await store.write(uri, createReadStream(localPath));
      return uri;
    },
    close: finish,
  };
}
