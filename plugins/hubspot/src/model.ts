/**
 * The warehouse model as the sync reads it: the NDJSON files `exportQuery` wrote, one line at a
 * time (a model of millions of rows never sits in memory), each row reduced to its key, the
 * HubSpot properties it sends and their hash.
 */
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import type { JsonObject, JsonValue } from "@xo-foundry/core";
import { rowHash } from "./diff.js";
import { HubSpotError } from "./errors.js";

export interface ModelShape {
  /** The column whose value is the id property's. */
  readonly key: string;
  readonly idProperty: string;
  /** `column: property`; undefined sends every column but the key under its own name. */
  readonly properties?: Readonly<Record<string, string>> | undefined;
  /** The query or table, for messages. */
  readonly source: string;
}

/** A row as the sync sends it. `key` is undefined when the row has no usable key (`problem` says why). */
export interface ModelRow {
  readonly key: string | undefined;
  readonly problem?: string;
  /** HubSpot's property values (strings), the id property included. */
  readonly properties: Readonly<Record<string, string>>;
  readonly hash: string;
  /** The row as the model has it, for the rejected-records file. */
  readonly row: JsonObject;
}

/** Every row of the files, in order, read line by line. */
export async function* readModel(files: readonly string[], source: string, signal: AbortSignal): AsyncGenerator<JsonObject> {
  for (const file of files) {
    const lines = createInterface({ input: createReadStream(file, { encoding: "utf8" }), crlfDelay: Infinity });
    let number = 0;
    try {
      for await (const line of lines) {
        number++;
        if (number % 1000 === 0) signal.throwIfAborted();
        if (line.trim() === "") continue;
        let row: unknown;
        try {
          row = JSON.parse(line);
        } catch (e) {
          throw new HubSpotError("HUBSPOT_MODEL_INVALID", `line ${number} of the export of ${source} is not JSON: ${(e as Error).message}`, "check that the sink's warehouse exports NDJSON");
        }
        if (typeof row !== "object" || row === null || Array.isArray(row)) {
          throw new HubSpotError("HUBSPOT_MODEL_INVALID", `line ${number} of the export of ${source} is not a row (a JSON object)`, "make `query` return rows with named columns");
        }
        yield row as JsonObject;
      }
    } finally {
      lines.close();
    }
  }
  signal.throwIfAborted();
}

/**
 * Fails when a column the options name is not in the model, naming it and listing the columns
 * there are: checked on the first row, as every row of a query result has the same columns.
 */
export function checkColumns(row: JsonObject, shape: ModelShape): void {
  const columns = Object.keys(row);
  const missing = [shape.key, ...Object.keys(shape.properties ?? {})].filter((c) => !Object.hasOwn(row, c));
  if (missing.length === 0) return;
  const which = missing[0] === shape.key ? "the `key` column" : "columns named in `properties`";
  throw new HubSpotError(
    "HUBSPOT_MODEL_INVALID",
    `${which} ${missing.map((c) => JSON.stringify(c)).join(", ")} ${missing.length > 1 ? "are" : "is"} not in the model (${shape.source}); its columns are ${columns.map((c) => JSON.stringify(c)).join(", ")}`,
    "name columns of the model exactly as the query returns them (aliases included), or change the query",
  );
}

/** The row's key as HubSpot gets it (trimmed text), or undefined when it has none. */
export function rowKey(row: JsonObject, shape: Pick<ModelShape, "key">): string | undefined {
  const raw = row[shape.key];
  const key = typeof raw === "string" ? raw.trim() : typeof raw === "number" ? String(raw) : undefined;
  return key === "" ? undefined : key;
}

export function projectRow(row: JsonObject, shape: ModelShape): ModelRow {
  const mapping = shape.properties ?? Object.fromEntries(Object.keys(row).filter((c) => c !== shape.key).map((c) => [c, c]));
  const values: Record<string, JsonValue> = {};
  const properties: Record<string, string> = {};
  for (const [column, property] of Object.entries(mapping)) {
    const value = row[column] ?? null;
    values[property] = value;
    properties[property] = propertyValue(value);
  }
  const raw = row[shape.key];
  const key = rowKey(row, shape);
  if (key === undefined) {
    const problem = `the key column ${JSON.stringify(shape.key)} is ${raw === null || raw === undefined ? "null" : typeof raw === "string" ? "empty" : `not a string or number (${JSON.stringify(raw)})`}`;
    return { key: undefined, problem, properties, hash: "", row };
  }
  properties[shape.idProperty] = key;
  return { key, properties, hash: rowHash(shape.idProperty, key, values), row };
}

/**
 * A model value as HubSpot takes it: every property value is a string. Null clears the
 * property (""), booleans are `true`/`false`, lists become HubSpot's multi-select form
 * `a;b;c`, and other objects their JSON.
 */
export function propertyValue(value: JsonValue): string {
  if (value === null) return "";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return value.map((v) => (typeof v === "object" && v !== null ? JSON.stringify(v) : v === null ? "" : String(v))).join(";");
  return JSON.stringify(value);
}
