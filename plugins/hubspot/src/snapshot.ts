/**
 * The snapshot of the last successful sync: one NDJSON line per key, `{ key, hash, id,
 * updatedAt }`, after a header line naming what it describes. It lives in the landing zone,
 * `<landing>/state/<pipeline>/sync__<task>.ndjson`, next to the pipeline's other state, and is
 * read as a stream and replaced whole by one write of the store (a rename on disk, one upload
 * on S3), so a killed run leaves the previous snapshot as it was.
 */
import { Readable } from "node:stream";
import { createInterface } from "node:readline";
import { joinUri, stepStateKey, type LandingStore, type StepContext } from "@xo-foundry/core";
import type { SnapshotEntry } from "./diff.js";
import { HubSpotError } from "./errors.js";

export const SNAPSHOT_VERSION = 1;

/** What a snapshot describes: a sync of one object type by one id property. */
export interface SnapshotHeader {
  readonly snapshot: typeof SNAPSHOT_VERSION;
  readonly object_type: string;
  readonly id_property: string;
  readonly run_id: string;
  readonly logical_date: string;
  readonly written_at: string;
}

export interface SnapshotLocation {
  /** The pipeline's state folder. */
  readonly folder: string;
  readonly uri: string;
}

export function snapshotLocation(ctx: Pick<StepContext, "landing" | "pipeline" | "taskId">): SnapshotLocation {
  const folder = joinUri(ctx.landing.root, "state", ctx.pipeline.pipeline.name);
  return { folder, uri: joinUri(folder, `${stepStateKey("sync", ctx.taskId)}.ndjson`) };
}

/** The entries by key; empty before the first sync. Fails when the file describes another object type or id property. */
export async function readSnapshot(
  store: LandingStore,
  location: SnapshotLocation,
  expected: { readonly objectType: string; readonly idProperty: string },
  signal: AbortSignal,
): Promise<Map<string, SnapshotEntry>> {
  const entries = new Map<string, SnapshotEntry>();
  // Listing the state folder tells "no snapshot yet" apart from a failed read the same way on every store.
  const exists = (await store.list(location.folder)).some((o) => o.uri === location.uri);
  if (!exists) return entries;
  const invalid = (detail: string) =>
    new HubSpotError("HUBSPOT_STATE_INVALID", `the snapshot ${location.uri} ${detail}`, "delete the file to start over: the next run upserts every row of the model, which changes nothing that is already equal");
  const lines = createInterface({ input: Readable.from(store.read(location.uri)), crlfDelay: Infinity });
  let number = 0;
  try {
    for await (const line of lines) {
      number++;
      if (number % 10_000 === 0) signal.throwIfAborted();
      if (line.trim() === "") continue;
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        throw invalid(`has a line that is not JSON (line ${number})`);
      }
      if (number === 1) {
        const header = parsed as Partial<SnapshotHeader>;
        if (header.snapshot !== SNAPSHOT_VERSION) throw invalid("does not start with a snapshot header");
        if (header.object_type !== expected.objectType || header.id_property !== expected.idProperty) {
          throw invalid(
            `was written for ${header.object_type} by ${header.id_property}, and the step now syncs ${expected.objectType} by ${expected.idProperty}: its object ids belong to the other sync`,
          );
        }
        continue;
      }
      const entry = parsed as Partial<SnapshotEntry>;
      if (typeof entry.key !== "string" || typeof entry.hash !== "string" || typeof entry.id !== "string" || typeof entry.updatedAt !== "string") {
        throw invalid(`has an entry without key, hash, id and updatedAt (line ${number})`);
      }
      entries.set(entry.key, { key: entry.key, hash: entry.hash, id: entry.id, updatedAt: entry.updatedAt });
    }
  } finally {
    lines.close();
  }
  if (number === 0) throw invalid("is empty");
  return entries;
}

/** Replaces the snapshot with `entries` in one write of the store. */
export async function writeSnapshot(store: LandingStore, location: SnapshotLocation, header: SnapshotHeader, entries: Iterable<SnapshotEntry>): Promise<void> {
  async function* lines(): AsyncGenerator<Uint8Array> {
    yield Buffer.from(`${JSON.stringify(header)}\n`);
    let chunk = "";
    for (const e of entries) {
      chunk += `${JSON.stringify({ key: e.key, hash: e.hash, id: e.id, updatedAt: e.updatedAt })}\n`;
      if (chunk.length >= 64 * 1024) {
        yield Buffer.from(chunk);
        chunk = "";
      }
    }
    if (chunk) yield Buffer.from(chunk);
  }
  await store.write(location.uri, lines());
}
