/**
 * Records the API refused: reading the refusals out of a response, and the rejected-records
 * file of the run's date (core's `rejectedRecordsUri`), one JSON object a line:
 *
 *   { "batch": 3, "index": 1, "key": "<batch key>", "error": "<the API's reason>", "record": {...} }
 *
 * The file describes the latest answer to every batch of the date. A batch a re-run skips
 * (the ledger has it) keeps the lines an earlier run wrote for it, matched by its key; a
 * batch sent again gets the lines of the new answer. The file is saved before the batch
 * goes into the ledger, so a kill between the two re-sends the batch and rewrites its lines
 * rather than losing them. Only records and the API's reasons are written: never headers.
 */
import { redact, type JsonObject, type LandingStore, type Logger } from "@xo-foundry/core";
import { getPath } from "./records.js";
import { SendError } from "./errors.js";
import type { RejectedOptions } from "./send-options.js";

export interface Refusal {
  /** The record's position in its batch, from 0. */
  readonly index: number;
  readonly error: string;
}

export interface RejectedLine {
  readonly batch: number;
  readonly index: number;
  readonly key: string;
  readonly error: string;
  readonly record: JsonObject;
}

const MAX_ERROR_CHARS = 2000;

/**
 * The refusals a response body lists under `rule.path`, or undefined when it lists none
 * (no rule, no such list, or an empty one). Two items for one record are joined.
 */
export function listedRefusals(body: unknown, rule: RejectedOptions | undefined, size: number, where: string): Refusal[] | undefined {
  if (!rule) return undefined;
  const list = getPath(body, rule.path);
  if (!Array.isArray(list) || list.length === 0) return undefined;
  const byIndex = new Map<number, string[]>();
  for (const [i, item] of list.entries()) {
    const index = getPath(item, rule.index);
    if (typeof index !== "number" || !Number.isInteger(index) || index < 0 || index >= size) {
      throw new SendError(
        "API_SEND_REJECTED_UNREADABLE",
        `${where}: item ${i} of \`${rule.path}\` in the response has ${JSON.stringify(index) ?? "nothing"} at \`${rule.index}\`, not the position of a record in a batch of ${size}: ${JSON.stringify(item)?.slice(0, 200)}`,
        "set `rejected.index` to the field that holds the record's position (counted from 0), or `rejected.path` to the list of refused records",
      );
    }
    const message = getPath(item, rule.message);
    const text = typeof message === "string" ? message : message === undefined ? "refused, without a reason" : JSON.stringify(message);
    byIndex.set(index, [...(byIndex.get(index) ?? []), text]);
  }
  return [...byIndex].sort(([a], [b]) => a - b).map(([index, errors]) => ({ index, error: errors.join("; ") }));
}

/** The reason a line gives, redacted (an API may echo a credential) and bounded. */
export function reason(text: string): string {
  const safe = redact(text);
  return safe.length > MAX_ERROR_CHARS ? `${safe.slice(0, MAX_ERROR_CHARS)}...` : safe;
}

export class RejectedRecords {
  /** Lines of the earlier file whose batch this run has not reached yet. */
  private readonly pending: Map<string, RejectedLine[]>;
  private readonly current: RejectedLine[] = [];
  private changed = false;

  private constructor(
    private readonly store: LandingStore,
    readonly uri: string,
    earlier: readonly RejectedLine[],
    private readonly existed: boolean,
  ) {
    this.pending = new Map();
    for (const line of earlier) this.pending.set(line.key, [...(this.pending.get(line.key) ?? []), line]);
  }

  static async open(store: LandingStore, uri: string, log: Logger): Promise<RejectedRecords> {
    const text = await store.readText(uri);
    const earlier: RejectedLine[] = [];
    let unreadable = 0;
    for (const line of (text ?? "").split("\n")) {
      if (line.trim() === "") continue;
      const parsed = tryParse(line);
      if (parsed) earlier.push(parsed);
      else unreadable++;
    }
    if (unreadable) log.warn(`${uri}: ${unreadable} line(s) are not rejected records of this step; they will be dropped`);
    return new RejectedRecords(store, uri, earlier, text !== undefined);
  }

  /** Refused records in the file, kept and new. */
  get count(): number {
    return this.current.length;
  }

  /** A batch an earlier run delivered: its lines stay. Returns how many. */
  keep(key: string): number {
    const lines = this.pending.get(key) ?? [];
    this.pending.delete(key);
    this.current.push(...lines);
    return lines.length;
  }

  /** A batch sent in this run: its new lines replace earlier ones, saved before the caller records the batch as delivered. */
  async replace(key: string, lines: readonly RejectedLine[]): Promise<void> {
    const earlier = this.pending.get(key);
    this.pending.delete(key);
    this.current.push(...lines);
    if (lines.length === 0 && earlier === undefined) return;
    this.changed = true;
    await this.save(true);
  }

  /**
   * The run is through every batch: lines of batches that are no longer in the data go,
   * and the file is written, or removed when no record was refused. Returns whether it exists.
   */
  async finish(): Promise<boolean> {
    if (this.pending.size) {
      this.pending.clear();
      this.changed = true;
    }
    if (this.current.length === 0) {
      if (this.existed || this.changed) await this.store.deletePrefix(this.uri);
      return false;
    }
    if (this.changed) await this.save(false);
    return true;
  }

  private async save(withPending: boolean): Promise<void> {
    const lines = [...this.current].sort((a, b) => a.batch - b.batch || a.index - b.index);
    // Until the run reaches them, earlier lines of batches still ahead stay in the file:
    // a kill now must not lose the refusals of batches the ledger already holds.
    if (withPending) for (const more of this.pending.values()) lines.push(...more);
    await this.store.writeText(this.uri, lines.map((l) => `${JSON.stringify(l)}\n`).join(""));
  }
}

function tryParse(line: string): RejectedLine | undefined {
  try {
    const v = JSON.parse(line) as Partial<RejectedLine>;
    const ok = typeof v.batch === "number" && typeof v.index === "number" && typeof v.key === "string" && typeof v.error === "string" && typeof v.record === "object" && v.record !== null;
    return ok ? (v as RejectedLine) : undefined;
  } catch {
    return undefined;
  }
}
