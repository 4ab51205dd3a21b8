/**
 * What changed since the last successful sync, key by key. A row is reduced to what the sync
 * sends (its key as the id property, its mapped columns as properties) and hashed; the
 * snapshot of the last sync holds each key's hash, so a key whose hash is unchanged is not
 * sent again, a new key is an insert, a changed one an update, and a key gone from the model
 * a delete.
 */
import { createHash } from "node:crypto";
import type { JsonValue } from "@xo-foundry/core";

/** One key as the last successful sync left it. */
export interface SnapshotEntry {
  readonly key: string;
  /** sha256 of the canonical JSON of what was sent (see rowHash). */
  readonly hash: string;
  /** HubSpot's object id. */
  readonly id: string;
  /** The object's `updatedAt` as HubSpot reported it after the sync's write. */
  readonly updatedAt: string;
}

export type Change = "insert" | "update" | "unchanged";

/** JSON with the keys of every object sorted by code point, so equal values hash equally whatever the column order. */
export function canonicalJson(value: JsonValue | undefined): string {
  if (value === undefined) return "null";
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v)).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const record = value as { readonly [key: string]: JsonValue };
    const keys = Object.keys(record).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/**
 * The hash of a row as the sync sends it: `{ <id_property>: key, <property>: value, ... }` with
 * the model's values as they are. Mapping a column to another property changes it, so the
 * rows are sent again under their new names.
 */
export function rowHash(idProperty: string, key: string, values: Readonly<Record<string, JsonValue>>): string {
  return createHash("sha256")
    .update(canonicalJson({ ...values, [idProperty]: key }))
    .digest("hex");
}

export function classify(hash: string, previous: SnapshotEntry | undefined): Change {
  if (!previous) return "insert";
  return previous.hash === hash ? "unchanged" : "update";
}

/** The snapshot's keys the model no longer has, in the snapshot's order. */
export function removedKeys(previous: ReadonlyMap<string, SnapshotEntry>, current: { has(key: string): boolean }): SnapshotEntry[] {
  return [...previous.values()].filter((entry) => !current.has(entry.key));
}

/**
 * Whether HubSpot's values are already the ones a write would send (an earlier, killed run
 * sent them): empty and missing values are one, as HubSpot clears a property with "", and the
 * id property compares ignoring case, as HubSpot keeps emails in lower case.
 */
export function sameValues(remote: Readonly<Record<string, string | null>>, sent: Readonly<Record<string, string>>, idProperty: string): boolean {
  return Object.entries(sent).every(([property, value]) => {
    const there = remote[property] ?? "";
    return there === value || (property === idProperty && there.toLowerCase() === value.toLowerCase());
  });
}

/** Whether HubSpot's `updatedAt` is later than the one the snapshot kept: someone changed the object since. */
export function changedRemotely(remoteUpdatedAt: string, snapshotUpdatedAt: string): boolean {
  return Date.parse(remoteUpdatedAt) > Date.parse(snapshotUpdatedAt);
}
