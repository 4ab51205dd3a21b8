/**
 * The `hubspot.sync` step: keeps one HubSpot CRM object type equal to a warehouse model,
 * sending only what changed since the last successful sync.
 *
 * How a run goes. The model is exported to NDJSON and read twice, line by line: the first pass
 * collects the keys (so removed keys and keys the model has twice are known before anything is
 * sent), the second hashes each row and sends those whose hash differs from the snapshot of the
 * last successful sync, as batch upserts by the id property. Keys gone from the model are
 * archived by their stored HubSpot id (`deletes: archive`). Only then is the snapshot replaced,
 * in one write: rows HubSpot refused keep their old entry (or none), so the next run sends them
 * again; conflicts keep their old entry too.
 *
 * Why every change lands exactly once, even when a run is killed:
 * - The snapshot is the only record of what was synced, and it is replaced whole at the end of
 *   a run, never in part. A run killed before that leaves the previous snapshot, so the re-run
 *   computes the same diff from the same model and sends the same changes again.
 * - Sending a change twice applies it once. An upsert finds its object by the id property (a
 *   property HubSpot keeps unique), so a row whose first upsert landed before the kill updates
 *   that object again with the same values instead of creating a second one; an archive of an
 *   archived object changes nothing. Retries within a run (429, 5xx, timeouts) rely on the same.
 * - With `conflict: skip_remote_changes`, an object our killed run updated looks changed in
 *   HubSpot (its updatedAt is newer than the snapshot's). When its values are already the ones
 *   the re-run would send, it is recorded as synced instead of reported as a conflict.
 * - A row is recorded as synced only from HubSpot's own answer (the object id and updatedAt of
 *   an upsert result), so a refused or unanswered row is never taken for a synced one.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { connectionBaseUrl, describeConnection, rejectedRecordsUri, type Connection, type StepContext, type StepResult, type StepType } from "@xo-foundry/core";
import { createHubSpotClient, DEFAULT_BASE_URL, type HubSpotClient, type UpsertInput } from "./client.js";
import { changedRemotely, classify, removedKeys, sameValues, type SnapshotEntry } from "./diff.js";
import { HubSpotError } from "./errors.js";
import { checkColumns, projectRow, readModel, rowKey, type ModelRow, type ModelShape } from "./model.js";
import { syncOptions, type SyncOptions } from "./options.js";
import { rejectedWriter, type RejectedWriter } from "./rejected.js";
import { readSnapshot, snapshotLocation, SNAPSHOT_VERSION, writeSnapshot } from "./snapshot.js";

export const hubspotSync: StepType<SyncOptions> = {
  id: "hubspot.sync",
  description:
    "Keeps a HubSpot CRM object type equal to a warehouse model (reverse ETL): batch upserts of new and changed rows by a unique property, archives of removed ones, refused rows to a rejected-records file.",
  options: syncOptions,
  connection: "required",
  canSkip: false,
  // Two syncs of one object type through one account would undo each other's deletes and updates.
  destination: ({ options, connection }) => `hubspot://${connection ?? ""}/${options.object_type}`,
  run: runSync,
};

/** A row of the model that is to be sent. */
interface Pending {
  readonly change: "insert" | "update";
  readonly model: ModelRow & { readonly key: string };
}

interface Counts {
  rows: number;
  inserts: number;
  updates: number;
  deletes: number;
  unchanged: number;
  conflicts: number;
}

/** Where to send and with which token: the connection's host, else HubSpot's API. */
function endpoint(connection: Connection | undefined): { baseUrl: URL; token: string; where: string } {
  const where = describeConnection(connection?.id, "step");
  const token = connection?.password;
  if (!token) {
    throw new HubSpotError("HUBSPOT_CONNECTION_INVALID", `${where} holds no access token`, `put the private app's access token in the password of ${where} (HubSpot: Settings > Integrations > Private Apps > your app > Auth)`);
  }
  const baseUrl = connection.host ? connectionBaseUrl(connection) : new URL(DEFAULT_BASE_URL);
  if (!baseUrl) throw new HubSpotError("HUBSPOT_CONNECTION_INVALID", `the host of ${where} is not a URL`, "leave the host empty for https://api.hubapi.com, or give a full URL");
  return { baseUrl, token, where };
}

async function runSync(ctx: StepContext<SyncOptions>): Promise<StepResult> {
  ctx.signal.throwIfAborted();
  const o = ctx.options;
  const { baseUrl, token, where } = endpoint(ctx.connection);
  const source = o.query !== undefined ? "the step's query" : `table ${o.table!}`;
  const shape: ModelShape = { key: o.key, idProperty: o.id_property, properties: o.properties, source };
  const warehouse = ctx.services.warehouse(o.sink);
  const work = await mkdtemp(path.join(tmpdir(), "xo-hubspot-sync-"));
  const rejected = rejectedWriter(path.join(work, "rejected.ndjson"));
  try {
    const sql = o.query ?? `select * from ${o.table!}`;
    const files = (await warehouse.exportQuery(sql, path.join(work, "model"), "ndjson")).map((f) => f.path);
    ctx.signal.throwIfAborted();

    // Pass 1: the keys (how often each), so deletes and keys the model has twice are known before
    // anything is sent. Memory holds this map and the snapshot's, never the rows.
    const seen = new Map<string, number>();
    let rows = 0;
    for await (const row of readModel(files, source, ctx.signal)) {
      if (rows++ === 0) checkColumns(row, shape);
      const key = rowKey(row, shape);
      if (key !== undefined) seen.set(key, (seen.get(key) ?? 0) + 1);
    }

    const location = snapshotLocation(ctx);
    const previous = await readSnapshot(ctx.landing.store, location, { objectType: o.object_type, idProperty: o.id_property }, ctx.signal);
    const removed = removedKeys(previous, seen);
    if (o.deletes === "archive") guardDeletes(removed.length, rows, previous.size, o.max_deletes, source);

    const client = createHubSpotClient({
      baseUrl,
      token,
      connection: where,
      requestsPerSecond: o.rate.requests_per_second,
      maxRetries: o.max_retries,
      backoffMs: o.backoff_ms,
      timeoutMs: o.timeout_ms,
      log: ctx.log,
      signal: ctx.signal,
    });
    const next = new Map<string, SnapshotEntry>();
    const counts: Counts = { rows, inserts: 0, updates: 0, deletes: 0, unchanged: 0, conflicts: 0 };
    const conflicted: string[] = [];
    const writer = batchWriter({ ctx, client, previous, next, counts, conflicted, rejected });

    // Pass 2: send what changed, a batch at a time.
    let batch: Pending[] = [];
    for await (const row of readModel(files, source, ctx.signal)) {
      const model = projectRow(row, shape);
      if (model.key === undefined) {
        await rejected.add({ key: null, action: "none", reason: model.problem ?? "the row has no key", row });
        continue;
      }
      const key = model.key;
      const before = previous.get(key);
      const times = seen.get(key) ?? 0;
      if (times > 1) {
        if (before) next.set(key, before);
        await rejected.add({ key, action: "none", reason: `the model has ${times} rows with this key; HubSpot keeps one object per ${o.id_property}, so none of them is sent`, row });
        continue;
      }
      const change = classify(model.hash, before);
      if (change === "unchanged") {
        counts.unchanged++;
        next.set(key, before!);
        continue;
      }
      batch.push({ change, model: { ...model, key } });
      if (batch.length >= o.batch_size) {
        await writer.flush(batch);
        batch = [];
      }
    }
    if (batch.length > 0) await writer.flush(batch);

    if (removed.length > 0) {
      if (o.deletes === "archive") {
        await archiveRemoved(ctx, client, removed, next, counts, rejected);
      } else {
        // Not kept in the snapshot: turning on `archive` later archives only rows removed after that.
        ctx.log.info(`${removed.length} ${o.object_type} left the model; \`deletes: ignore\` leaves them in HubSpot`);
      }
    }
    if (conflicted.length > 0) {
      const shown = conflicted.slice(0, 10).map((k) => JSON.stringify(k)).join(", ");
      ctx.log.warn(`${conflicted.length} ${o.object_type} changed in HubSpot since the last sync were not updated (conflict: skip_remote_changes): ${shown}${conflicted.length > 10 ? ", ..." : ""}`);
    }

    const rejectedFile = await rejected.publish(ctx.landing.store, rejectedRecordsUri(ctx));
    await writeSnapshot(
      ctx.landing.store,
      location,
      { snapshot: SNAPSHOT_VERSION, object_type: o.object_type, id_property: o.id_property, run_id: ctx.runId, logical_date: ctx.window.logicalDate, written_at: new Date().toISOString() },
      next.values(),
    );

    const summary = { ...counts, rejected: rejected.count, ...(rejectedFile ? { rejected_file: rejectedFile } : {}) };
    ctx.log.info(
      `hubspot.sync ${o.object_type}: ${counts.rows} rows, ${counts.inserts} inserts, ${counts.updates} updates, ${counts.deletes} deletes, ${counts.unchanged} unchanged, ` +
        `${counts.conflicts} conflicts, ${rejected.count} rejected${rejectedFile ? ` (${rejectedFile})` : ""}`,
    );
    if (o.max_rejected !== undefined && rejected.count > o.max_rejected) {
      throw new HubSpotError(
        "HUBSPOT_TOO_MANY_REJECTED",
        `HubSpot refused ${rejected.count} ${o.object_type} rows, more than max_rejected (${o.max_rejected}); the rows and reasons are in ${rejectedFile}`,
        "fix the rows (or the property definitions in HubSpot) and re-run: what was synced is recorded, and refused rows are sent again",
      );
    }
    return { summary, writes: [{ uri: `${baseUrl.href.replace(/\/+$/, "")}/crm/v3/objects/${o.object_type}` }] };
  } finally {
    await rejected.close();
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * Refuses to archive more than `max_deletes` objects, or, when it is unset, every object of a
 * model that came back empty: an upstream failure that empties a table must not empty the CRM.
 */
function guardDeletes(deletes: number, rows: number, synced: number, maxDeletes: number | undefined, source: string): void {
  if (maxDeletes !== undefined && deletes > maxDeletes) {
    throw new HubSpotError(
      "HUBSPOT_TOO_MANY_DELETES",
      `the sync would archive ${deletes} objects, more than max_deletes (${maxDeletes}); nothing was sent`,
      `check ${source}; if the deletes are meant, raise max_deletes to at least ${deletes}`,
    );
  }
  if (maxDeletes === undefined && rows === 0 && synced > 0) {
    throw new HubSpotError(
      "HUBSPOT_TOO_MANY_DELETES",
      `${source} returned no rows, so the sync would archive all ${synced} objects it synced before; nothing was sent`,
      `check the model; if every object is to be archived, set max_deletes to at least ${synced}`,
    );
  }
}

interface BatchContext {
  readonly ctx: StepContext<SyncOptions>;
  readonly client: HubSpotClient;
  readonly previous: ReadonlyMap<string, SnapshotEntry>;
  readonly next: Map<string, SnapshotEntry>;
  readonly counts: Counts;
  readonly conflicted: string[];
  readonly rejected: RejectedWriter;
}

/** Sends batches of changed rows: the conflict check first when asked, then the upsert. */
function batchWriter(b: BatchContext) {
  const o = b.ctx.options;
  const landed = (p: Pending, id: string, updatedAt: string) => {
    b.next.set(p.model.key, { key: p.model.key, hash: p.model.hash, id, updatedAt });
    if (p.change === "insert") b.counts.inserts++;
    else b.counts.updates++;
  };
  const refuse = async (p: Pending, reason: string, category?: string) => {
    const before = b.previous.get(p.model.key);
    if (before) b.next.set(p.model.key, before);
    await b.rejected.add({ key: p.model.key, action: p.change, reason, category, row: p.model.row });
  };

  /** Drops updates of objects changed in HubSpot since the last sync; records those that already hold the new values. */
  async function withoutConflicts(batch: readonly Pending[]): Promise<Pending[]> {
    const updates = batch.filter((p) => p.change === "update");
    if (updates.length === 0) return [...batch];
    const wanted = [...new Set([o.id_property, ...Object.keys(updates[0]!.model.properties)])];
    const remote = await b.client.read(
      o.object_type,
      updates.map((p) => b.previous.get(p.model.key)!.id),
      wanted,
    );
    const byId = new Map(remote.results.map((r) => [r.id, r]));
    const keep: Pending[] = batch.filter((p) => p.change === "insert");
    for (const p of updates) {
      const before = b.previous.get(p.model.key)!;
      const there = byId.get(before.id);
      if (there && !changedRemotely(there.updatedAt, before.updatedAt)) {
        keep.push(p);
      } else if (there && sameValues(there.properties, p.model.properties, o.id_property)) {
        landed(p, there.id, there.updatedAt);
      } else {
        b.counts.conflicts++;
        b.conflicted.push(p.model.key);
        b.next.set(p.model.key, before);
      }
    }
    return keep;
  }

  /**
   * One upsert request; a batch HubSpot refuses as a whole (400) is split in halves until the
   * refused rows stand alone, so one bad row never holds back the others.
   */
  async function upsert(batch: readonly Pending[]): Promise<void> {
    if (batch.length === 0) return;
    const inputs: UpsertInput[] = batch.map((p) => ({ id: p.model.key, properties: p.model.properties }));
    let outcome;
    try {
      outcome = await b.client.upsert(o.object_type, o.id_property, inputs);
    } catch (e) {
      if (!(e instanceof HubSpotError) || !e.aboutValues) throw e;
      if (batch.length === 1) return refuse(batch[0]!, e.reason ?? e.message, e.category);
      const half = Math.ceil(batch.length / 2);
      b.ctx.log.info(`HubSpot refused a batch of ${batch.length} ${o.object_type} (${e.reason ?? "HTTP 400"}); sending it in halves to find the refused rows`);
      await upsert(batch.slice(0, half));
      await upsert(batch.slice(half));
      return;
    }
    // Results carry the id property's value; HubSpot may have lower-cased it (emails).
    const exact = new Map<string, (typeof outcome.results)[number]>();
    const folded = new Map<string, (typeof outcome.results)[number]>();
    for (const r of outcome.results) {
      const value = r.properties[o.id_property];
      if (typeof value !== "string") continue;
      exact.set(value, r);
      folded.set(value.trim().toLowerCase(), r);
    }
    const reasons = new Map<string, { message: string; category: string | undefined }>();
    for (const error of outcome.errors) for (const id of error.ids) reasons.set(id.trim().toLowerCase(), error);
    const unexplained = outcome.errors.filter((e) => e.ids.length === 0);
    for (const p of batch) {
      const result = exact.get(p.model.key) ?? folded.get(p.model.key.toLowerCase());
      if (result) {
        landed(p, result.id, result.updatedAt);
        continue;
      }
      const error = reasons.get(p.model.key.toLowerCase()) ?? unexplained[0];
      await refuse(p, error?.message ?? "HubSpot returned no result for this row", error?.category);
    }
  }

  return {
    async flush(batch: readonly Pending[]): Promise<void> {
      const sendable = o.conflict === "skip_remote_changes" ? await withoutConflicts(batch) : batch;
      await upsert(sendable);
    },
  };
}

/** Archives the objects of removed keys by their stored ids, a batch at a time. */
async function archiveRemoved(
  ctx: StepContext<SyncOptions>,
  client: HubSpotClient,
  removed: readonly SnapshotEntry[],
  next: Map<string, SnapshotEntry>,
  counts: Counts,
  rejected: RejectedWriter,
): Promise<void> {
  const o = ctx.options;
  // An object another key still points at (keys that differ only in case, for emails) stays.
  const live = new Set([...next.values()].map((e) => e.id));
  const targets = removed.filter((e) => !live.has(e.id));
  for (let i = 0; i < targets.length; i += o.batch_size) {
    const chunk = targets.slice(i, i + o.batch_size);
    try {
      await client.archive(
        o.object_type,
        chunk.map((e) => e.id),
      );
      counts.deletes += chunk.length;
    } catch (e) {
      if (!(e instanceof HubSpotError) || e.code !== "HUBSPOT_REQUEST_REFUSED") throw e;
      // Kept in the snapshot, so the next run tries again.
      for (const entry of chunk) {
        next.set(entry.key, entry);
        await rejected.add({ key: entry.key, action: "archive", reason: e.reason ?? e.message, category: e.category, id: entry.id });
      }
    }
  }
}
